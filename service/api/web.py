"""The journalists' pages: sign in, upload or paste a link, follow the analysis, read the
result; the bookmarklet and the check page it opens. Server-rendered, with one small script
(static/app.js); every string that came from a file or a URL is escaped by the templates."""

import json
import re
from importlib import resources
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..html_report import environment, report_context, thumbnails_from_json
from ..i18n import N_, Words
from ..keys import authenticate
from ..present import percent, verdict_words
from ..sessions import COOKIE, LIFETIME_S, sign
from .analyses import view
from .deps import LANG_COOKIE, Services, ServicesDep, reader_words, same_origin, session_key

router = APIRouter(include_in_schema=False)

# Pages load their script and style from this origin only; inline style attributes are
# allowed (the report's frame outlines use them), inline scripts are not.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


STATES = {
    "queued": N_("queued"),
    "running": N_("running"),
    "done": N_("done"),
    "failed": N_("failed"),
}


def render_page(
    request: Request, template: str, status: int = 200, words: Words | None = None, **context
) -> HTMLResponse:
    """A page in the reader's language; a language chosen with ``?lang=`` is remembered."""
    words = words or reader_words(request)
    html = environment(words.lang).get_template(template).render(**context)
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    if request.query_params.get("lang") == words.lang:
        response.set_cookie(LANG_COOKIE, words.lang, max_age=365 * 86400, samesite="lax")
    return response


def _sign_in(request: Request, error: str = "", status: int = 200) -> HTMLResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render_page(request, "web/login.html", status, key=None, next=target, error=error)


@router.get("/")
async def home(request: Request, svc: ServicesDep) -> HTMLResponse:
    key = await session_key(request, svc)
    if key is None:
        return _sign_in(request)
    jobs = await run_in_threadpool(svc.store.jobs_of, key.id, 50)
    words = reader_words(request)
    return render_page(
        request,
        "web/index.html",
        words=words,
        key=key,
        history=jobs,
        states={state: words._(text) for state, text in STATES.items()},
        verdicts=await run_in_threadpool(_verdicts, svc, jobs, words),
        max_mb=svc.settings.max_upload_bytes // 2**20,
        url="",
    )


@router.post("/login")
async def login(
    request: Request,
    svc: ServicesDep,
    key: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    if not same_origin(request):
        raise HTTPException(403, "sign in from Verity's own page")
    found = await run_in_threadpool(authenticate, svc.store, key.strip())
    if found is None:
        return render_page(
            request, "web/login.html", 401, key=None, next=next, error=N_("Unknown or revoked key.")
        )
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(
        COOKIE,
        sign(svc.secret, found.id),
        max_age=LIFETIME_S,
        httponly=True,
        samesite="lax",  # sent when the bookmarklet opens the check page from another site
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    if not same_origin(request):
        raise HTTPException(403, "sign out from Verity's own page")
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/check")
async def check(request: Request, svc: ServicesDep, url: str = "", page: str = "") -> HTMLResponse:
    """Where the bookmarklet lands: the video's address, and a button to check it."""
    key = await session_key(request, svc)
    if key is None:
        return _sign_in(request)
    return render_page(
        request,
        "web/check.html",
        key=key,
        url=url[:4096],
        page=page[:4096],
        max_mb=svc.settings.max_upload_bytes // 2**20,
    )


@router.get("/analyses/{analysis_id}.json")
async def report_json(analysis_id: str, request: Request, svc: ServicesDep) -> Response:
    job = await _signed_in_job(request, svc, analysis_id)
    shown = await run_in_threadpool(view, svc, job)
    if shown.report is None:
        raise HTTPException(409, f"the analysis is {shown.state}, there is no report yet")
    name = re.sub(r"[^A-Za-z0-9._-]", "_", shown.filename)[:80]
    return Response(
        shown.report.model_dump_json(indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="verity-{name}.json"'},
    )


@router.get("/analyses/{analysis_id}")
async def result(analysis_id: str, request: Request, svc: ServicesDep) -> HTMLResponse:
    key = await session_key(request, svc)
    if key is None:
        return _sign_in(request)
    job = await run_in_threadpool(svc.store.job, analysis_id, key.id)
    if job is None:
        return render_page(request, "web/base.html", 404, key=key)
    shown = await run_in_threadpool(view, svc, job)
    words = reader_words(request)
    context = {}
    if shown.report is not None:
        analysis = await run_in_threadpool(svc.store.analysis, job.sha256, job.pipeline)
        pictures = thumbnails_from_json(analysis.pictures if analysis else None)
        context = report_context(shown.report, words, pictures)
        context["desk_verdicts"] = await run_in_threadpool(svc.memory.desk_verdicts, job.sha256)
    return render_page(request, "web/result.html", words=words, key=key, analysis=shown, **context)


@router.post("/analyses/{analysis_id}/verdict")
async def mark(
    analysis_id: str,
    request: Request,
    svc: ServicesDep,
    verdict: Annotated[Literal["fabricated", "authentic"], Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The result page's buttons: the desk's verdict on this content, then back to the page."""
    if not same_origin(request):
        raise HTTPException(403, "mark a verdict from Verity's own page")
    job = await _signed_in_job(request, svc, analysis_id)
    memory = svc.memory
    if not await run_in_threadpool(memory.known, job.sha256):
        raise HTTPException(409, "mark it once the analysis is done")
    key = await session_key(request, svc)
    await run_in_threadpool(memory.mark, job.sha256, verdict, note.strip(), key.name)
    return RedirectResponse(f"/analyses/{analysis_id}", status_code=303)


@router.get("/bookmarklet")
async def bookmarklet(request: Request, svc: ServicesDep) -> HTMLResponse:
    origin = str(request.base_url).rstrip("/")
    words = reader_words(request)
    return render_page(
        request,
        "web/bookmarklet.html",
        words=words,
        key=await session_key(request, svc),
        origin=origin,
        bookmarklet=bookmarklet_href(origin, words),
    )


def bookmarklet_href(origin: str, words: Words | None = None) -> str:
    """The ``javascript:`` link, with this service's address and the translations of its
    messages written in."""
    words = words or Words()
    source = resources.files("service").joinpath("static/bookmarklet.js").read_text()
    lines = [line.strip() for line in source.splitlines()]
    code = " ".join(line for line in lines if line and not line.startswith("//"))
    code = code.replace("__VERITY__", json.dumps(origin))
    code = code.replace("__WORDS__", words.script_words("bookmarklet.js"))
    return "javascript:" + quote(code, safe="(){}[];,:=!&|+-*/.'\"?<>$^_~ ")


async def _signed_in_job(request: Request, svc: Services, analysis_id: str):
    key = await session_key(request, svc)
    if key is None:
        raise HTTPException(401, "sign in first")
    job = await run_in_threadpool(svc.store.job, analysis_id, key.id)
    if job is None:
        raise HTTPException(404, "no such analysis")
    return job


def _verdicts(svc: Services, jobs, words: Words) -> dict[str, str]:
    """The verdict of each finished job in a history list, from its stored Report."""
    verdicts = {}
    for job in jobs:
        if job.state != "done":
            continue
        analysis = svc.store.analysis(job.sha256, job.pipeline)
        if analysis is not None and analysis.report:
            data = json.loads(analysis.report)
            said = verdict_words(data["verdict"], words)
            verdicts[job.id] = f"{said} ({percent(data['fabrication_likelihood'])})"
    return verdicts


def _local(target: str) -> str:
    """Only paths on this site are followed after signing in (no open redirect)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
