"""A token bucket per API key: ``per_minute`` requests, refilled continuously.

With a Redis broker (a deployment with several API replicas) the buckets live in Redis and every
replica takes from the same one, atomically (one Lua script, timed by Redis's own clock so the
replicas' clocks do not matter). In the embedded mode there is one API process and the buckets
live in it. Should Redis stop answering, a replica falls back to its own buckets rather than
refuse work the queue may still accept once Redis is back.
"""

import logging
import time

log = logging.getLogger(__name__)

# KEYS[1]: the bucket; ARGV: capacity, tokens per second. Returns the wait in seconds (a string,
# since Redis turns Lua numbers into integers).
_TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local capacity, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'when')
local tokens = tonumber(saved[1]) or capacity
local when = tonumber(saved[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - when) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'when', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 60)
return tostring(wait)
"""


class RateLimiter:
    """Buckets in this process."""

    def __init__(self, per_minute: int, clock=time.monotonic):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)

    def take(self, key: str) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        now = self.clock()
        tokens, when = self.buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - when) * self.rate)
        if tokens >= 1.0:
            self.buckets[key] = (tokens - 1.0, now)
            return 0.0
        self.buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate


class SharedRateLimiter(RateLimiter):
    """Buckets in Redis, shared by every API replica; this process's own when Redis fails."""

    PREFIX = "verity:ratelimit:"

    def __init__(self, per_minute: int, redis_url: str):
        super().__init__(per_minute)
        import redis

        self.client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self.script = self.client.register_script(_TAKE)

    def take(self, key: str) -> float:
        import redis

        try:
            return float(self.script(keys=[self.PREFIX + key], args=[self.capacity, self.rate]))
        except redis.RedisError as e:
            log.warning("rate limit: Redis unavailable (%s); this replica counts alone", e)
            return super().take(key)


def rate_limiter(per_minute: int, broker_url: str) -> RateLimiter:
    """Shared through the broker when it is Redis, else per process (the embedded mode)."""
    if broker_url.startswith(("redis://", "rediss://")):
        return SharedRateLimiter(per_minute, broker_url)
    return RateLimiter(per_minute)
