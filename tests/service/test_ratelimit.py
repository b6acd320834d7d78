"""The submission rate limit: one bucket per key, shared by every API replica through Redis."""

import pytest

from service.ratelimit import RateLimiter, SharedRateLimiter, rate_limiter

from .conftest import free_port
from .servers import ApiServer, Cluster, RedisServer


def test_the_embedded_mode_counts_in_the_process():
    assert type(rate_limiter(30, "")) is RateLimiter
    assert type(rate_limiter(30, "redis://127.0.0.1:1/0")) is SharedRateLimiter


def test_a_bucket_refills_over_time():
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    waits = [limiter.take("k") for _ in range(61)]
    assert waits[:60] == [0.0] * 60 and waits[60] == pytest.approx(1.0)
    now[0] = 1.0
    assert limiter.take("k") == 0.0


def test_two_limiters_on_one_redis_share_each_keys_bucket(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    try:
        first, second = (SharedRateLimiter(4, server.url) for _ in range(2))
        waits = [limiter.take("desk") for limiter in (first, second) * 3]
        assert [w == 0 for w in waits] == [True] * 4 + [False] * 2
        assert 0 < waits[-1] <= 15  # a token every 15 s
        assert first.take("archive") == 0  # another key, another bucket
    finally:
        server.stop()


def test_without_redis_a_replica_counts_alone_rather_than_refuse():
    limiter = SharedRateLimiter(2, f"redis://127.0.0.1:{free_port()}/0")  # nothing listens
    assert [limiter.take("desk") for _ in range(3)] == [0.0, 0.0, pytest.approx(30.0, abs=1.0)]


@pytest.mark.slow
def test_two_api_processes_enforce_one_limit_per_key(tmp_path, clip):
    cluster = Cluster(tmp_path, VERITY_ANALYSES_PER_MINUTE="3")
    try:
        replicas = [cluster.start_api(), ApiServer(cluster.env, tmp_path / "api2.log", free_port())]
        cluster.processes.append(replicas[1])
        path = clip("a.mp4")
        codes = []
        for i in range(6):  # alternately to each replica, with the same key
            response = cluster.send(path, replicas[i % 2])
            codes.append(response.status_code)
        assert codes == [202, 202, 202, 429, 429, 429]  # per replica it would be six 202s
        assert int(response.headers["retry-after"]) >= 1
    finally:
        cluster.close()
