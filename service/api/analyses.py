"""/v1/analyses: submit a video (upload or URL), follow its job, read or delete the result."""

import math
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from detector.report import Report

from ..fetch import fetch_video
from ..html_report import render_html, thumbnails_from_json
from ..intake import Received, Rejected, receive_upload
from ..store import DONE, QUEUED, RUNNING, ApiKey, Job
from ..tasks import TASK
from .deps import KeyDep, Services, ServicesDep, reader_words
from .models import (
    AnalysisList,
    AnalysisOut,
    MatchList,
    UrlSubmission,
    VerdictIn,
    VerdictOut,
    problem,
)

router = APIRouter(prefix="/v1/analyses", tags=["analyses"])
matches_router = APIRouter(prefix="/v1/matches", tags=["matches"])

MAX_JSON_BODY = 16 * 1024
_SUBMIT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
            "application/json": {"schema": UrlSubmission.model_json_schema()},
        },
    }
}


_ERRORS = {
    401: problem("missing, unknown or revoked API key"),
    404: problem("no such analysis for this key"),
}


@router.post(
    "",
    status_code=202,
    response_model=AnalysisOut,
    openapi_extra=_SUBMIT_BODY,
    responses={
        **_ERRORS,
        413: problem("the file is over the size limit"),
        415: problem("not a video"),
        422: problem("a malformed request or a refused URL"),
        429: problem("too many submissions; see Retry-After"),
        503: problem("the queue cannot be reached"),
    },
)
async def submit(request: Request, key: KeyDep, svc: ServicesDep) -> AnalysisOut:
    """Queue a video for analysis: a multipart upload with the field ``file``, or JSON
    ``{"url": ...}`` that the service fetches itself."""
    wait = svc.submissions.take(key.id)
    if wait:
        raise HTTPException(
            429, "too many submissions for this key", {"Retry-After": str(math.ceil(wait))}
        )
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        received = await receive_upload(
            request, svc.settings.tmp_dir, svc.settings.max_upload_bytes
        )
        source_url = None
    elif kind == "application/json":
        submission = _url_submission(await _small_body(request))
        received = await fetch_video(submission.url, svc.fetch_policy, svc.settings.tmp_dir)
        source_url = submission.url
    else:
        raise Rejected(415, "send multipart/form-data with a 'file' field, or JSON with a 'url'")
    job = await run_in_threadpool(queue_job, svc, key, received, source_url)
    return await run_in_threadpool(view, svc, job)


@router.get("", response_model=AnalysisList, responses=_ERRORS)
async def history(
    key: KeyDep,
    svc: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AnalysisList:
    """This key's analyses, newest first (without their reports)."""
    jobs = await run_in_threadpool(svc.store.jobs_of, key.id, limit)
    views = [await run_in_threadpool(view, svc, job, False) for job in jobs]
    return AnalysisList(analyses=views)


@router.get("/{analysis_id}", response_model=AnalysisOut, responses=_ERRORS)
async def status(analysis_id: str, key: KeyDep, svc: ServicesDep) -> AnalysisOut:
    """The state and progress of an analysis, with its Report once done."""
    job = await _own_job(svc, analysis_id, key)
    return await run_in_threadpool(view, svc, job)


@router.get(
    "/{analysis_id}/report",
    response_class=HTMLResponse,
    responses={**_ERRORS, 409: problem("not done yet")},
)
async def report_page(
    analysis_id: str,
    request: Request,
    key: KeyDep,
    svc: ServicesDep,
    lang: Annotated[
        str | None, Query(max_length=20, description="en or zh (else Accept-Language)")
    ] = None,
) -> HTMLResponse:
    """The Report as a page for an editor, in the language of ``?lang=`` (en, zh) or else of
    the Accept-Language header."""
    job = await _own_job(svc, analysis_id, key)
    shown = await run_in_threadpool(view, svc, job)
    if shown.report is None:
        raise HTTPException(409, f"the analysis is {shown.state}, there is no report yet")
    analysis = await run_in_threadpool(svc.store.analysis, job.sha256, job.pipeline)
    pictures = thumbnails_from_json(analysis.pictures if analysis else None)
    return HTMLResponse(render_html(shown.report, pictures, reader_words(request)))


@router.post(
    "/{analysis_id}/verdict",
    status_code=201,
    response_model=VerdictOut,
    responses={**_ERRORS, 400: problem("a body that is not JSON"), 409: problem("not done yet")},
)
async def mark(analysis_id: str, body: VerdictIn, key: KeyDep, svc: ServicesDep) -> VerdictOut:
    """Record the desk's verdict on this analysis's content, confirmed fabricated or authentic;
    every later analysis of matching content reports it (the ``fingerprint`` check)."""
    job = await _own_job(svc, analysis_id, key)
    memory = svc.memory
    if not await run_in_threadpool(memory.known, job.sha256):
        raise HTTPException(409, f"the analysis is {job.state}; mark it once it is done")
    said = await run_in_threadpool(memory.mark, job.sha256, body.verdict, body.note, key.name)
    return VerdictOut(sha256=job.sha256, **said.model_dump())


@router.delete("/{analysis_id}", status_code=204, responses=_ERRORS)
async def delete(analysis_id: str, key: KeyDep, svc: ServicesDep) -> Response:
    """Delete the uploaded media and the record of the analysis."""
    job = await _own_job(svc, analysis_id, key)
    if job.blob:
        await run_in_threadpool(svc.blobs.delete, job.blob)
    await run_in_threadpool(svc.store.delete_job, job.id)
    return Response(status_code=204)


def view(svc: Services, job: Job, with_report: bool = True) -> AnalysisOut:
    """A job as the API shows it: its own state, or its analysis's while that runs."""
    analysis = svc.store.analysis(job.sha256, job.pipeline)
    state, progress, report = job.state, 0.0, None
    if state == QUEUED and analysis is not None and analysis.state == RUNNING:
        state = RUNNING  # its bytes are being analysed for another job
    if state == RUNNING and analysis is not None:
        progress = analysis.progress
    if state == DONE:
        progress = 1.0
        if with_report and analysis is not None and analysis.report:
            report = Report.model_validate_json(analysis.report)
            # The Report is shared by every job with these bytes; the name is this job's.
            media = report.media.model_copy(update={"file_name": job.filename})
            report = report.model_copy(update={"media": media})
    return AnalysisOut(
        id=job.id,
        state=state,
        progress=progress,
        filename=job.filename,
        size=job.size,
        sha256=job.sha256,
        source_url=job.source_url,
        reused=job.reused,
        created_at=_utc(job.created_at),
        finished_at=_utc(job.finished_at),
        report=report,
        error=job.error,
    )


def _utc(moment: datetime | None) -> datetime | None:
    """Stored naive in UTC; shown with its offset, as RFC 3339 asks."""
    return moment.replace(tzinfo=UTC) if moment else None


def queue_job(svc: Services, key: ApiKey, received: Received, source_url: str | None) -> Job:
    """Store the media and the job, then send the task. A job whose bytes were analysed
    before is done at once and keeps no media."""
    stored = svc.store.analysis(received.sha256, svc.pipeline)
    blob = None
    if stored is None or stored.state != DONE:
        blob = uuid.uuid4().hex
        svc.blobs.put(blob, received.path)
    received.path.unlink(missing_ok=True)
    job = svc.store.create_job(
        key_id=key.id,
        sha256=received.sha256,
        pipeline=svc.pipeline,
        size=received.size,
        filename=received.filename,
        source_url=source_url,
        blob=blob,
    )
    if job.state == DONE:
        if blob:
            svc.blobs.delete(blob)
            svc.store.forget_blob(job.id)
        return job
    try:
        send(svc, job.id)
    except Exception as e:  # keep nothing the client would have to clean up
        if blob:
            svc.blobs.delete(blob)
        svc.store.delete_job(job.id)
        raise HTTPException(503, f"the job queue cannot be reached: {type(e).__name__}") from e
    svc.store.mark_enqueued(job.id)
    return job


def send(svc: Services, job_id: str) -> None:
    svc.celery.send_task(
        TASK,
        args=[job_id],
        retry=True,
        retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
    )


async def _own_job(svc: Services, analysis_id: str, key: ApiKey) -> Job:
    job = await run_in_threadpool(svc.store.job, analysis_id, key.id)
    if job is None:  # another key's job is as invisible as a missing one
        raise HTTPException(404, "no such analysis")
    return job


async def _small_body(request: Request) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BODY:
            raise Rejected(413, f"a JSON body is limited to {MAX_JSON_BODY} bytes")
    return body


def _url_submission(body: bytes) -> UrlSubmission:
    try:
        return UrlSubmission.model_validate_json(body)
    except ValidationError as e:
        raise Rejected(422, f'expected JSON {{"url": ...}}: {e.errors()[0]["msg"]}') from None


@matches_router.get("", response_model=MatchList, responses=_ERRORS)
async def matches(
    key: KeyDep,
    svc: ServicesDep,
    analysis: Annotated[str, Query(max_length=64, description="an analysis id")],
) -> MatchList:
    """Every analysed or scanned content whose fingerprint matches this analysis's."""
    job = await _own_job(svc, analysis, key)
    found = await run_in_threadpool(svc.memory.matches_of, job.sha256)
    return MatchList(sha256=job.sha256, matches=found)
