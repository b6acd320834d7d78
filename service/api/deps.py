"""What the routes share: the service's resources, and the caller's API key."""

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from celery import Celery
from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..blobs import Blobs
from ..fetch import FetchPolicy
from ..i18n import UnknownLanguage, Words, language, negotiate
from ..keys import authenticate
from ..memory import StoreMemory
from ..ratelimit import RateLimiter
from ..sessions import COOKIE, verify
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
    secret: bytes  # signs session cookies

    @property
    def memory(self) -> StoreMemory:
        """What this Verity remembers (service.memory), with the index file the workers keep."""
        return StoreMemory.of(self.store, self.settings.fingerprint_index)

    @property
    def fetch_policy(self) -> FetchPolicy:
        return FetchPolicy(
            max_bytes=self.settings.max_upload_bytes,
            timeout_s=self.settings.fetch_timeout_s,
            allow_hosts=tuple(self.settings.fetch_allow_hosts),
        )


def services(request: Request) -> Services:
    return request.app.state.services


_bearer = HTTPBearer(auto_error=False, description="an API key from `verity keys create`")


async def api_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    svc: Annotated[Services, Depends(services)],
) -> ApiKey:
    """The caller's key, from ``Authorization: Bearer`` or the web page's session cookie;
    401 when it is missing, unknown or revoked."""
    if credentials is None:
        key = await session_key(request, svc)
        if key is None:
            raise HTTPException(401, "an API key is required", {"WWW-Authenticate": "Bearer"})
        if request.method not in ("GET", "HEAD") and not same_origin(request):
            raise HTTPException(403, "a signed-in request must come from Verity's own pages")
        return key
    key = await run_in_threadpool(authenticate, svc.store, credentials.credentials)
    if key is None:
        raise HTTPException(401, "unknown or revoked API key", {"WWW-Authenticate": "Bearer"})
    return key


async def session_key(request: Request, svc: Services) -> ApiKey | None:
    """The key a browser signed in with, while its session and the key are valid."""
    token = request.cookies.get(COOKIE)
    key_id = verify(svc.secret, token) if token else None
    if key_id is None:
        return None
    return await run_in_threadpool(svc.store.key_by_id, key_id)


def same_origin(request: Request) -> bool:
    """Cookie-borne requests that change something must come from this site's own pages;
    SameSite=Strict already keeps the cookie off other sites' requests, this checks again."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return False
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" == str(request.base_url).rstrip("/")


ServicesDep = Annotated[Services, Depends(services)]
KeyDep = Annotated[ApiKey, Depends(api_key)]


LANG_COOKIE = "verity_lang"


def reader_words(request: Request) -> Words:
    """The reader's language: ``?lang=`` (the page's switch), else the cookie the switch set,
    else the browser's Accept-Language; English when none of them names a language Verity has."""
    for chosen in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        try:
            if chosen:
                return Words(language(chosen))
        except UnknownLanguage:
            continue
    return Words(negotiate(request.headers.get("accept-language")))
