"""Endpoints for operators: liveness, readiness and Prometheus metrics."""

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from ..metrics import JobMetrics
from .deps import Services, ServicesDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "a dependency is unreachable"}})
async def readyz(svc: ServicesDep) -> JSONResponse:
    """The database, the broker and the blob store are reachable."""
    checks = await run_in_threadpool(_dependencies, svc)
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(svc: ServicesDep) -> PlainTextResponse:
    """Jobs by state, analysis durations and queue depth, in Prometheus' text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(JobMetrics(svc.store, lambda: broker_depth(svc)))
    body = await run_in_threadpool(generate_latest, registry)
    return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)


def _dependencies(svc: Services) -> dict[str, str]:
    results = {}
    for name, probe in (
        ("database", svc.store.ping),
        ("broker", lambda: _ping_broker(svc)),
        ("blobs", svc.blobs.ping),
    ):
        try:
            probe()
            results[name] = "ok"
        except Exception as e:
            results[name] = f"unreachable: {type(e).__name__}"
    return results


def _ping_broker(svc: Services) -> None:
    with svc.celery.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)


def broker_depth(svc: Services) -> int | None:
    """Messages waiting in the Redis queue; None for the embedded broker."""
    if not svc.settings.broker_url.startswith(("redis://", "rediss://")):
        return None
    import redis

    from ..tasks import QUEUE

    try:
        client = redis.Redis.from_url(svc.settings.broker_url, socket_timeout=2)
        return int(client.llen(QUEUE))
    except redis.RedisError:
        return None
