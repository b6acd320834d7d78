"""The C2PA Soft Binding Resolution API's read endpoints, over what this Verity has seen.

Another C2PA tool holding a copy whose Content Credentials a platform stripped asks here, with a
soft binding (Verity's fingerprint) or with the file itself, which manifests the newsroom's
repository holds for that content, then fetches them. The shapes follow the API's OpenAPI
description (C2PA 2.1, "Soft Binding API"); the keys are Verity's own. Nothing is asked of any
outside resolver.
"""

import asyncio
import base64
import binascii
import math
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from detector.fingerprint import ALGORITHM, BITS, FrameCode
from detector.memory import Recalled

from ..intake import receive_body
from ..store import FINAL
from .analyses import queue_job, view
from .deps import KeyDep, Services, ServicesDep
from .models import problem

router = APIRouter(
    prefix="/v1/softbinding",
    tags=["soft binding resolution"],
    responses={401: problem("missing, unknown or revoked API key")},
)
_UNREADABLE = {400: problem("an algorithm this service lacks, or a value it cannot read")}

BYTES = BITS // 8
MAX_CODES = 512  # a fingerprint of this many frame regions at most, per query
CONTENT_WAIT_S = 120  # how long /matches/byContent waits for the file's analysis


class Algorithm(BaseModel):
    alg: str


class SupportedAlgorithms(BaseModel):
    watermarks: list[Algorithm]
    fingerprints: list[Algorithm]


class ManifestMatch(BaseModel):
    manifestId: str
    endpoint: str = Field(description="where to fetch it: this service's /manifests")
    similarityScore: int = Field(ge=0, le=100, description="100 for identical frames")


class MatchList(BaseModel):
    matches: list[ManifestMatch]


class BindingQuery(BaseModel):
    alg: str
    value: str = Field(max_length=64 * 1024, description="base64 of 32-byte frame codes")


@router.get("/services/supportedAlgorithms", response_model=SupportedAlgorithms)
async def supported(key: KeyDep) -> SupportedAlgorithms:
    """The soft bindings this repository resolves: Verity's fingerprint; no watermark."""
    return SupportedAlgorithms(watermarks=[], fingerprints=[Algorithm(alg=ALGORITHM)])


@router.get("/matches/byBinding", response_model=MatchList, responses=_UNREADABLE)
async def by_binding(
    request: Request,
    key: KeyDep,
    svc: ServicesDep,
    alg: Annotated[str, Query(max_length=200)],
    value: Annotated[str, Query(max_length=64 * 1024)],
    maxResults: Annotated[int, Query(ge=1, le=100)] = 10,
) -> MatchList:
    """Manifests of content whose fingerprint matches ``value`` (base64 of one or more 32-byte
    frame codes of Verity's fingerprint, each a frame)."""
    codes = _codes(alg, value)
    found = await run_in_threadpool(svc.memory.recall, codes, "")
    return await _manifest_matches(request, svc, found, maxResults)


@router.post("/matches/byBinding", response_model=MatchList, responses=_UNREADABLE)
async def by_binding_posted(
    request: Request,
    key: KeyDep,
    svc: ServicesDep,
    query: Annotated[BindingQuery, Body()],
    maxResults: Annotated[int, Query(ge=1, le=100)] = 10,
) -> MatchList:
    """As the GET, for a value too long for an address."""
    codes = _codes(query.alg, query.value)
    found = await run_in_threadpool(svc.memory.recall, codes, "")
    return await _manifest_matches(request, svc, found, maxResults)


@router.post(
    "/matches/byContent",
    response_model=MatchList,
    responses={
        **_UNREADABLE,
        413: problem("the file is over the size limit"),
        415: problem("not a video, or a video that could not be analysed"),
        429: problem("too many submissions; see Retry-After"),
        503: problem("still being analysed (see Retry-After), or the queue cannot be reached"),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "the file's bytes (any Content-Type: what they are is sniffed)",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def by_content(
    request: Request,
    key: KeyDep,
    svc: ServicesDep,
    alg: Annotated[str | None, Query(max_length=200)] = None,
    maxResults: Annotated[int, Query(ge=1, le=100)] = 10,
) -> MatchList:
    """Manifests of content matching the file in the body. The file is analysed as an upload
    is (a job, on a worker), and the answer waits for it, up to two minutes (then 503)."""
    if alg not in (None, ALGORITHM):
        raise HTTPException(400, f"unsupported algorithm {alg!r}; this service has {ALGORITHM}")
    wait = svc.submissions.take(key.id)
    if wait:
        raise HTTPException(429, "too many submissions", {"Retry-After": str(math.ceil(wait))})
    received = await receive_body(
        request, svc.settings.tmp_dir, svc.settings.max_upload_bytes, "soft-binding-query"
    )
    job = await run_in_threadpool(queue_job, svc, key, received, None)
    for _ in range(CONTENT_WAIT_S * 2):
        job = await run_in_threadpool(svc.store.job, job.id)
        if job.state in FINAL:
            break
        await asyncio.sleep(0.5)
    else:
        raise HTTPException(
            503, f"the file is still being analysed (analysis {job.id})", {"Retry-After": "30"}
        )
    shown = await run_in_threadpool(view, svc, job)
    if shown.report is None:
        raise HTTPException(415, f"the file could not be analysed: {shown.error}")
    found = next(e for e in shown.report.evidence if e.check == "fingerprint")
    matches = [Recalled.model_validate(m) for m in found.details.get("matches", [])]
    return await _manifest_matches(request, svc, matches, maxResults)


@router.get(
    "/manifests/{manifestId}",
    responses={
        200: {"content": {"application/c2pa": {}, "application/json": {}}},
        404: problem("no such manifest in this repository"),
    },
)
async def manifest(
    manifestId: str,
    key: KeyDep,
    svc: ServicesDep,
    returnActiveManifest: bool = False,
) -> Response:
    """The manifest store as the file carried it (application/c2pa, JUMBF) where Verity could
    keep its bytes (MP4, MOV), else as c2pa-python read it (application/json)."""
    row = await run_in_threadpool(svc.memory.manifest, manifestId)
    if row is None:
        raise HTTPException(404, "no such manifest in this repository")
    if row.embedded:
        return Response(row.embedded, media_type="application/c2pa")
    return Response(row.store_json, media_type="application/json")


def _codes(alg: str, value: str) -> list[FrameCode]:
    if alg != ALGORITHM:
        raise HTTPException(400, f"unsupported algorithm {alg!r}; this service has {ALGORITHM}")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(400, "value is not base64") from None
    if not raw or len(raw) % BYTES or len(raw) // BYTES > MAX_CODES:
        raise HTTPException(400, f"value must hold 1 to {MAX_CODES} codes of {BYTES} bytes")
    return [
        FrameCode(float(i), "full", raw[i * BYTES : (i + 1) * BYTES])
        for i in range(len(raw) // BYTES)
    ]


async def _manifest_matches(
    request: Request, svc: Services, found: list[Recalled], limit: int
) -> MatchList:
    memory = svc.memory
    kept = await run_in_threadpool(memory.manifests_of, (m.sha256 for m in found))
    endpoint = str(request.base_url).rstrip("/") + router.prefix
    matches = [
        ManifestMatch(
            manifestId=manifest_id,
            endpoint=endpoint,
            similarityScore=round(100 * (1 - m.distance / BITS)),
        )
        for m in found
        for manifest_id in kept.get(m.sha256, [])
    ]
    return MatchList(matches=matches[:limit])
