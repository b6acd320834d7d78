"""What the routes share: the service's resources, and the caller's API key."""

from dataclasses import dataclass
from typing import Annotated

from celery import Celery
from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..blobs import Blobs
from ..keys import authenticate
from ..ratelimit import RateLimiter
from ..settings import ServiceSettings
from ..store import ApiKey, Store


@dataclass
class Services:
    settings: ServiceSettings
    store: Store
    blobs: Blobs
    celery: Celery
    submissions: RateLimiter
    pipeline: str


def services(request: Request) -> Services:
    return request.app.state.services


_bearer = HTTPBearer(auto_error=False, description="an API key from `verity keys create`")


async def api_key(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    svc: Annotated[Services, Depends(services)],
) -> ApiKey:
    """The caller's key; 401 when it is missing, unknown or revoked."""
    if credentials is None:
        raise HTTPException(401, "an API key is required", {"WWW-Authenticate": "Bearer"})
    key = await run_in_threadpool(authenticate, svc.store, credentials.credentials)
    if key is None:
        raise HTTPException(401, "unknown or revoked API key", {"WWW-Authenticate": "Bearer"})
    return key


ServicesDep = Annotated[Services, Depends(services)]
KeyDep = Annotated[ApiKey, Depends(api_key)]
