"""The journalists' pages in a real browser: Debian's Chromium, headless, driven by Playwright,
against ``verity serve`` in its embedded mode (its own worker, no Redis).

Screenshots are saved in ``test-artifacts/``: the upload page; the result page, its timeline and
the scan summary in English and in Chinese (``*-en.png``, ``*-zh.png``), the result page for a
clip on which every check finds something (tests/every_finding.py).
"""

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import unquote

import pytest

from detector.registry import check_names

from .conftest import free_port, require_program
from .servers import ApiServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = Path(
    os.environ.get("VERITY_TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts")
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def clip_path(tmp_path_factory):
    from detector.synth import make_clip

    return make_clip(
        tmp_path_factory.mktemp("browser") / "street.mp4",
        seconds=2,
        fps=15,
        size=(320, 240),
        metadata={"com.apple.quicktime.make": "Apple", "com.apple.quicktime.model": "iPhone 15"},
    )


@pytest.fixture(scope="module")
def newsroom_site(clip_path):
    """A news page on loopback that plays the clip, and one that plays two videos."""
    clip = clip_path.read_bytes()
    pages = {
        "/story.html": b"<!doctype html><html><body><h1>Flood in the city</h1>"
        b'<video controls src="/media/street.mp4"></video></body></html>',
        "/gallery.html": b"<!doctype html><html><head>"
        b'<meta property="og:video" content="/media/street.mp4"></head><body>'
        b'<video controls><source src="/media/other.mp4" type="video/mp4"></video>'
        b"</body></html>",
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body = pages.get(self.path) or (clip if self.path.startswith("/media/") else None)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            kind = "text/html" if self.path.endswith(".html") else "video/mp4"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def every_finding_clip(tmp_path_factory):
    from tests.every_finding import FONT, every_finding_clip

    if not FONT.exists():
        pytest.skip("Debian's fonts-noto-cjk draws the mark (.ci/run installs it)")
    return every_finding_clip(tmp_path_factory.mktemp("every-finding"))


@pytest.fixture(scope="module")
def verity(tmp_path_factory, every_finding_clip):
    """``verity serve`` with its embedded worker; yields (base URL, API key). It trusts the
    every-finding clip's signer and uses its flagging model card, so that its result page
    shows every kind of evidence and a timeline with windows above the line."""
    _, settings = every_finding_clip
    folder = tmp_path_factory.mktemp("serve")
    env = {
        **os.environ,
        "VERITY_DATA_DIR": str(folder / "data"),
        "VERITY_FETCH_ALLOW_HOSTS": '["127.0.0.1"]',  # the test's news site is on loopback
        "VERITY_C2PA_TRUST_ANCHORS": json.dumps([str(p) for p in settings.c2pa_trust_anchors]),
        "VERITY_MODEL_PATH": str(settings.model_path),
    }
    env.pop("VERITY_BROKER_URL", None)
    key = subprocess.run(
        [sys.executable, "-m", "service", "keys", "create", "desk"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.splitlines()[-1]  # fmt: skip
    port = free_port()
    server = ApiServer(env, folder / "serve.log", port, embedded_worker=True)
    yield server.url, key
    server.stop()


@pytest.fixture(scope="module")
def browser():
    chromium = require_program("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def signed_in(browser, verity):
    """A browser context signed in to Verity, and its first page."""
    base, key = verity
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(base + "/")
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Drop a video here")
    yield context, page
    context.close()


@pytest.fixture(params=["en", "zh"])
def reader(request, browser, verity):
    """A signed-in browser context whose language is English or Chinese (Accept-Language),
    and its first page."""
    base, key = verity
    locale = {"en": "en-GB", "zh": "zh-CN"}[request.param]
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale=locale)
    page = context.new_page()
    page.goto(base + "/")
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")
    page.wait_for_selector("#upload-form")
    yield request.param, page
    context.close()


def _wait_for_verdict(page):
    page.wait_for_selector(".banner.inconclusive, .banner.likely_fabricated, "
                           ".banner.no_evidence_of_fabrication", timeout=90_000)  # fmt: skip


def test_upload_a_clip_and_read_the_verdict_and_evidence(signed_in, clip_path):
    _, page = signed_in
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "upload-page.png", full_page=True)
    page.set_input_files("input[type=file]", str(clip_path))
    page.wait_for_url("**/analyses/*")
    _wait_for_verdict(page)
    cards = page.locator(".card")
    assert cards.count() >= 3
    assert (
        "metadata" in page.locator(".card").all_inner_texts()[0]
        or page.locator(".card", has_text="metadata").count()
    )
    assert page.locator("img[alt^='frame at']").count() >= 1
    assert page.locator("a[download]").get_attribute("href").endswith(".json")
    page.goto(page.url.rsplit("/analyses/", 1)[0] + "/")
    assert page.locator(".history a", has_text="street.mp4").count() >= 1


READS = {  # what each language's result page must say about the every-finding clip
    "en": ["Likely fabricated", "Evidence", "Content Credentials (C2PA)", "Visible marks",
           "Timeline", "seconds", "Key frames"],
    "zh": ["很可能是伪造的", "证据", "内容凭证（C2PA）", "可见标记", "时间线", "秒", "关键帧",
           "由 Newsroom Test Signer"],
}  # fmt: skip


def test_the_result_page_and_its_timeline_in_each_language(reader, every_finding_clip):
    lang, page = reader
    clip, _ = every_finding_clip
    page.set_input_files("input[type=file]", str(clip))
    page.wait_for_url("**/analyses/*")
    _wait_for_verdict(page)
    assert page.locator("html").get_attribute("lang") == {"en": "en", "zh": "zh-Hans"}[lang]
    text = page.inner_text("main")
    for words in READS[lang]:
        assert words in text, words
    if lang == "zh":
        assert "Content Credentials signed by" not in text
    assert page.locator(".card").count() == len(check_names())  # one card per check
    timeline = page.locator("svg.timeline")
    marked = timeline.locator("a[href^='#frame-']")
    assert marked.count() >= 1  # windows above the line link to their key frame
    marked.first.click()
    assert "#frame-" in page.url
    assert page.locator(".outline.mark").count() >= 1  # the Kling mark, outlined
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"result-page-{lang}.png", full_page=True)
    timeline.screenshot(path=ARTIFACTS / f"timeline-{lang}.png")
    page.locator("#frame-0").screenshot(path=ARTIFACTS / f"key-frame-{lang}.png")


def _bookmarklet_code(page, base) -> str:
    page.goto(base + "/bookmarklet")
    href = page.locator("#bookmarklet").get_attribute("href")
    assert href.startswith("javascript:")
    return unquote(href[len("javascript:") :])


def test_the_bookmarklet_checks_the_video_on_a_news_page(signed_in, verity, newsroom_site):
    context, page = signed_in
    code = _bookmarklet_code(page, verity[0])
    page.goto(newsroom_site + "/story.html")
    with context.expect_page() as opened:
        page.evaluate(code)  # what clicking the bookmark does
    check = opened.value
    check.wait_for_load_state()
    assert "/check?url=" in check.url
    assert check.locator(".url", has_text="/media/street.mp4").count() == 1
    check.click("button:has-text('Check this video')")
    check.wait_for_url("**/analyses/*", timeout=60_000)
    _wait_for_verdict(check)
    assert "street.mp4" in check.inner_text("main")


def test_the_bookmarklet_asks_which_video_when_a_page_has_several(signed_in, verity, newsroom_site):
    context, page = signed_in
    code = _bookmarklet_code(page, verity[0])
    page.goto(newsroom_site + "/gallery.html")
    page.evaluate(code)
    picker = page.locator("#verity-picker")
    assert picker.locator("button[title]").count() == 2
    with context.expect_page() as opened:
        picker.locator("button[title$='other.mp4']").click()
    assert "other.mp4" in unquote(opened.value.url)


def test_a_signed_out_browser_is_asked_to_sign_in_first(browser, verity):
    base, _ = verity
    context = browser.new_context()
    page = context.new_page()
    page.goto(base + "/check?url=https%3A%2F%2Fexample.org%2Fa.mp4")
    assert page.locator("input[name=key]").count() == 1
    assert page.locator("input[name=next]").get_attribute("value").startswith("/check?url=")
    context.close()


@pytest.fixture(scope="module")
def scanned_archive(tmp_path_factory, every_finding_clip):
    """A small archive, with a Chinese file name, a broken file and the every-finding clip, and
    the settings to scan it with (the clip's trust anchor; the shipped model)."""
    from detector.synth import make_clip

    clip, settings = every_finding_clip
    archive = tmp_path_factory.mktemp("archive")
    for i in range(3):
        make_clip(archive / f"clip{i}.mp4", seconds=2, fps=10, size=(320, 180), seed=40 + i)
    make_clip(archive / "洪水现场.mp4", seconds=2, fps=10, size=(320, 180), seed=50)
    (archive / "broken.mp4").write_bytes((archive / "clip0.mp4").read_bytes()[:500])
    (archive / "kling-upload.mp4").write_bytes(clip.read_bytes())
    return archive, settings.model_copy(update={"model_path": None})


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_scan_summary_in_each_language_sorts_and_filters(
    browser, tmp_path, scanned_archive, lang
):
    from service.i18n import Words
    from service.scan import scan

    archive, settings = scanned_archive
    scan([archive], tmp_path / "out", 1, False, settings, words=Words(lang))
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.goto((tmp_path / "out" / "index.html").as_uri())
    rows = page.locator("#rows tbody tr")
    assert rows.count() == 6
    assert page.locator("#rows img").count() == 5  # a key frame beside every analysed file
    assert page.locator("svg.histogram rect.bar").count() == 10
    kling = page.locator("#rows tbody tr", has_text="kling-upload.mp4")
    likely = {"en": "Likely fabricated", "zh": "很可能是伪造的"}[lang]
    assert kling.locator(".band").inner_text() == likely
    assert "%" in kling.locator("td.number").inner_text()
    page.fill("#filter", "cannot be read" if lang == "en" else "broken")
    assert page.locator("#rows tbody tr:visible").count() == 1
    page.fill("#filter", "")
    page.select_option("#band", "likely_fabricated")
    assert page.locator("#rows tbody tr:visible").count() == 1
    page.select_option("#band", "")
    page.click("#rows th:nth-child(4)")  # likelihood, by its value
    values = [float(v) for v in page.locator("#rows tbody td.number").evaluate_all(
        "cells => cells.map(c => c.dataset.value)")]  # fmt: skip
    assert values in (sorted(values), sorted(values, reverse=True))
    with page.expect_navigation():
        kling.locator("td:nth-child(2) a").click()
    assert page.locator(".card").count() >= 5  # the file's own report
    page.go_back()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"scan-summary-{lang}.png", full_page=True)
    page.close()
