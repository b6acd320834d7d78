"""The FastAPI application: ``create_app(settings)`` builds it with its routers and resources."""

import asyncio
import contextlib
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match

from detector.report import VERITY_VERSION

from ..blobs import open_blobs
from ..intake import Rejected
from ..jobs import pipeline_version
from ..ratelimit import rate_limiter
from ..schema import prepare
from ..sessions import load_secret
from ..settings import ServiceSettings, get_service_settings
from ..store import Store
from ..tasks import make_celery
from . import analyses, ops, softbinding, web
from .deps import Services


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """The API with its store, blob store and queue, configured from ``settings``."""
    settings = settings or get_service_settings()
    prepare(settings)  # the embedded mode upgrades the job store; a deployment must be current
    svc = Services(
        settings=settings,
        store=Store(settings.db_url),
        blobs=open_blobs(settings.uploads, settings.s3_endpoint_url, settings.tmp_dir),
        celery=make_celery(settings),
        submissions=rate_limiter(settings.analyses_per_minute, settings.broker_url),
        pipeline=pipeline_version(settings),
        secret=load_secret(settings.secret_key, settings.data_dir),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        loop = asyncio.create_task(_maintenance(svc))
        yield
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop

    app = FastAPI(
        title="Verity",
        version=VERITY_VERSION,
        description="How likely is it that a video was made by an AI video generator?",
        lifespan=lifespan,
    )
    app.state.services = svc
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
    )
    app.add_exception_handler(Rejected, _rejected)
    app.add_exception_handler(405, _method_not_allowed)
    app.include_router(analyses.router)
    app.include_router(analyses.matches_router)
    app.include_router(softbinding.router)
    app.include_router(ops.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(packages=[("service", "static")]), name="static")
    return app


async def _rejected(request: Request, error: Rejected) -> JSONResponse:
    """The one place refused media becomes an HTTP status."""
    return JSONResponse({"detail": error.reason}, status_code=error.status)


async def _method_not_allowed(request: Request, error: Exception) -> JSONResponse:
    """405 with an Allow header naming every method of the path: Starlette names only those
    of the first route that matched it (POST, where GET is served by a sibling route)."""
    scope = {"type": "http", "path": request.url.path, "method": request.method, "root_path": ""}
    allowed = set()
    for route in request.app.routes:
        if isinstance(route, APIRoute) and route.matches(scope)[0] != Match.NONE:
            allowed |= route.methods
    return JSONResponse(
        {"detail": "Method Not Allowed"},
        status_code=405,
        headers={"Allow": ", ".join(sorted(allowed))},
    )


async def _maintenance(svc: Services) -> None:
    """Keep jobs moving and honour retention, every few seconds, for as long as the API runs."""
    while True:
        with contextlib.suppress(Exception):  # a database hiccup must not end the loop
            await run_in_threadpool(maintain, svc)
        await asyncio.sleep(svc.settings.job_stale_after_s / 2)


def maintain(svc: Services) -> dict[str, int]:
    """Send the tasks of jobs that were never queued or whose worker died, and delete media
    past the retention period. Returns what it did, by kind."""
    resent = 0
    for job_id in svc.store.never_enqueued():
        analyses.send(svc, job_id)
        svc.store.mark_enqueued(job_id)
        resent += 1
    for job_id in svc.store.requeue_stalled(timedelta(seconds=svc.settings.job_stale_after_s)):
        analyses.send(svc, job_id)
        resent += 1
    purged = 0
    for job_id, blob in svc.store.expired_blobs(timedelta(days=svc.settings.retention_days)):
        svc.blobs.delete(blob)
        svc.store.forget_blob(job_id)
        purged += 1
    return {"resent": resent, "purged": purged}
