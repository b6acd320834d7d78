"""The journalists' pages in a real browser: Debian's Chromium, headless, driven by Playwright,
against ``verity serve`` in its embedded mode (its own worker, no Redis).

Screenshots of the upload page and of the result page are saved in ``test-artifacts/``.
"""

import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import unquote

import pytest

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
def verity(tmp_path_factory):
    """``verity serve`` with its embedded worker; yields (base URL, API key)."""
    folder = tmp_path_factory.mktemp("serve")
    env = {
        **os.environ,
        "VERITY_DATA_DIR": str(folder / "data"),
        "VERITY_FETCH_ALLOW_HOSTS": '["127.0.0.1"]',  # the test's news site is on loopback
        "VERITY_DISABLED_CHECKS": '["invisible_watermark"]',
    }
    env.pop("VERITY_BROKER_URL", None)
    key = subprocess.run(
        [sys.executable, "-m", "service.cli", "keys", "create", "desk"],
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
    page.screenshot(path=ARTIFACTS / "result-page.png", full_page=True)
    page.goto(page.url.rsplit("/analyses/", 1)[0] + "/")
    assert page.locator(".history a", has_text="street.mp4").count() >= 1


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


def test_the_scan_summary_page_sorts_and_filters(browser, tmp_path):
    from detector import Settings
    from detector.synth import make_clip
    from service.scan import scan

    archive = tmp_path / "archive"
    archive.mkdir()
    for i in range(4):
        make_clip(archive / f"clip{i}.mp4", seconds=0.6, fps=10, size=(64, 48), seed=40 + i)
    (archive / "broken.mp4").write_bytes((archive / "clip0.mp4").read_bytes()[:500])
    fast = Settings(disabled_checks=["visible_watermark", "invisible_watermark", "classifier"])
    scan([archive], tmp_path / "out", 1, False, fast)
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.goto((tmp_path / "out" / "index.html").as_uri())
    rows = page.locator("#rows tbody tr")
    assert rows.count() == 5
    page.fill("#filter", "cannot be read")
    assert page.locator("#rows tbody tr:visible").count() == 1
    page.fill("#filter", "")
    page.click("#rows th:has-text('path')")
    paths = page.locator("#rows tbody tr td:first-child").all_inner_texts()
    assert paths in (sorted(paths), sorted(paths, reverse=True))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "scan-summary.png", full_page=True)
    page.close()
