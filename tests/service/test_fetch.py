"""Fetching URLs under the SSRF policy, against a web server the test runs on loopback (which
only the allowlist setting makes reachable)."""

import asyncio
import hashlib
import http.server
import threading
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from service.fetch import FetchPolicy, FetchRefused, checked_request, fetch_video
from service.intake import Rejected

LOOPBACK = ("127.0.0.1",)


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory):
    from detector.synth import make_clip

    return make_clip(tmp_path_factory.mktemp("fetch") / "c.mp4", seconds=1, fps=10).read_bytes()


@pytest.fixture(scope="module")
def site(clip_bytes):
    """A small web server: a clip, pages that embed it, redirects, endless and slow bodies."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, body: bytes, kind: str = "application/octet-stream", status=200):
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            path, query = urlsplit(self.path).path, parse_qs(urlsplit(self.path).query)
            pages = {
                "/og.html": b'<html><head><meta property="og:video" content="/clip.mp4">'
                b"</head><body>story</body></html>",
                "/tag.html": b'<!doctype html><html><body><video controls><source src="clip.mp4"'
                b' type="video/mp4"></video></body></html>',
                "/none.html": b"<!doctype html><html><body><p>no video here</p></body></html>",
                "/loop.html": b'<!doctype html><html><meta property="og:video" '
                b'content="/tag.html"></html>',
            }
            if path == "/clip.mp4":
                self._send(clip_bytes, "video/mp4")
            elif path in pages:
                self._send(pages[path], "text/html")
            elif path == "/redirect":
                self.send_response(302)
                self.send_header("Location", query["to"][0])
                self.end_headers()
            elif path == "/endless":
                self.send_response(200)
                self.end_headers()
                head = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
                self.wfile.write(head)
                for _ in range(100_000):
                    self.wfile.write(bytes(64 * 1024))
            elif path == "/slow":
                self.send_response(200)
                self.end_headers()
                for byte in clip_bytes[:50]:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.2)
            elif path == "/doc.pdf":
                self._send(b"%PDF-1.5\n" + bytes(300), "application/pdf")
            else:
                self._send(b"not found", "text/plain", 404)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", server.server_address[1]
    server.shutdown()
    server.server_close()


def fetch(url, tmp_path, allow=LOOPBACK, max_bytes=10_000_000, timeout_s=20.0):
    policy = FetchPolicy(max_bytes=max_bytes, timeout_s=timeout_s, allow_hosts=allow)
    return asyncio.run(fetch_video(url, policy, tmp_path / "tmp"))


def _left_behind(tmp_path) -> list:
    return list((tmp_path / "tmp").glob("*")) if (tmp_path / "tmp").exists() else []


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
        "100.64.0.1", "100.100.100.200", "0.0.0.0", "224.0.0.1", "240.0.0.1",
        "255.255.255.255", "[::1]", "[fe80::1]", "[fc00::1]", "[fd00:ec2::254]", "[ff02::1]",
        "[::ffff:127.0.0.1]", "[::ffff:169.254.169.254]", "[::]", "2130706433", "0x7f.1",
    ],
)  # fmt: skip
def test_every_internal_range_is_refused(address, tmp_path):
    with pytest.raises(FetchRefused, match="not fetched"):
        fetch(f"http://{address}/clip.mp4", tmp_path, allow=())
    assert _left_behind(tmp_path) == []


def test_the_loopback_test_server_is_reachable_only_through_the_allowlist(
    site, tmp_path, clip_bytes
):
    base, _ = site
    with pytest.raises(FetchRefused, match="loopback"):
        fetch(f"{base}/clip.mp4", tmp_path, allow=())
    received = fetch(f"{base}/clip.mp4", tmp_path)
    assert received.sha256 == hashlib.sha256(clip_bytes).hexdigest()
    assert received.filename == "clip.mp4"


def test_a_name_that_resolves_to_a_refused_address_is_refused(site, tmp_path):
    _, port = site
    with pytest.raises(FetchRefused, match=r"localhost resolves to (127\.0\.0\.1|::1)"):
        fetch(f"http://localhost:{port}/clip.mp4", tmp_path, allow=())


def test_a_redirect_to_a_refused_address_is_refused(site, tmp_path):
    _, port = site
    target = f"http://127.0.0.1:{port}/clip.mp4"
    with pytest.raises(FetchRefused, match=r"127\.0\.0\.1"):  # only the name is allowed
        fetch(f"http://localhost:{port}/redirect?to={target}", tmp_path, allow=("localhost",))


def test_redirects_within_the_policy_are_followed(site, tmp_path, clip_bytes):
    base, _ = site
    received = fetch(f"{base}/redirect?to=/clip.mp4", tmp_path)
    assert received.size == len(clip_bytes)


def test_the_connection_goes_to_the_address_that_was_checked(site):
    _, port = site

    async def build():
        policy = FetchPolicy(10, 5, ("localhost",))
        async with httpx.AsyncClient() as client:
            return await checked_request(client, f"http://localhost:{port}/x", policy)

    request = asyncio.run(build())
    assert request.url.host in ("127.0.0.1", "::1")  # no second lookup of the name
    assert request.headers["host"] == f"localhost:{port}"


def test_an_over_size_body_is_413_and_nothing_is_kept(site, tmp_path):
    base, _ = site
    with pytest.raises(Rejected) as refused:
        fetch(f"{base}/endless", tmp_path, max_bytes=1_000_000)
    assert refused.value.status == 413
    assert _left_behind(tmp_path) == []


def test_a_slow_body_runs_into_the_time_limit(site, tmp_path):
    base, _ = site
    started = time.monotonic()
    with pytest.raises(FetchRefused, match="longer than 1 s"):
        fetch(f"{base}/slow", tmp_path, timeout_s=1.0)
    assert time.monotonic() - started < 5
    assert _left_behind(tmp_path) == []


@pytest.mark.parametrize("page", ["og.html", "tag.html"])
def test_a_page_url_yields_the_video_it_embeds(site, tmp_path, clip_bytes, page):
    base, _ = site
    received = fetch(f"{base}/{page}", tmp_path)
    assert received.sha256 == hashlib.sha256(clip_bytes).hexdigest()


def test_a_page_without_a_video_says_what_to_do_instead(site, tmp_path):
    base, _ = site
    with pytest.raises(FetchRefused, match="download the video and upload it"):
        fetch(f"{base}/none.html", tmp_path)


def test_a_page_is_followed_once(site, tmp_path):
    base, _ = site
    with pytest.raises(Rejected, match="HTML page, not a video"):
        fetch(f"{base}/loop.html", tmp_path)


def test_a_document_is_refused_by_its_bytes(site, tmp_path):
    base, _ = site
    with pytest.raises(Rejected, match="PDF document") as refused:
        fetch(f"{base}/doc.pdf", tmp_path)
    assert refused.value.status == 415


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.org/a.mp4", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://user:pw@example.org/a.mp4", "user name or password"),
        ("https://example.org/live/master.m3u8", "streaming playlist"),
        ("http:///a.mp4", "no host"),
    ],
)
def test_urls_the_service_will_not_fetch(url, reason, tmp_path):
    with pytest.raises(FetchRefused, match=reason):
        fetch(url, tmp_path, allow=())


def test_the_api_refuses_a_url_outside_the_policy(api, site):
    base, _ = site
    response = api.client.post("/v1/analyses", headers=api.key("desk"), json={"url": base})
    assert response.status_code == 422 and "loopback" in response.json()["detail"]


def test_the_api_fetches_a_page_url_and_analyses_its_video(api_with, site, clip_bytes):
    base, _ = site
    api = api_with(fetch_allow_hosts=list(LOOPBACK))
    headers = api.key("desk")
    response = api.client.post("/v1/analyses", headers=headers, json={"url": f"{base}/og.html"})
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["source_url"] == f"{base}/og.html" and job["filename"] == "clip.mp4"
    assert job["sha256"] == hashlib.sha256(clip_bytes).hexdigest()
    assert api.run(job["id"]).state == "done"
