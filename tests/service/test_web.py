"""The web pages without a browser: signing in, sessions, escaping, the bookmarklet link."""

import json
from urllib.parse import unquote

import pytest

from detector.report import Evidence
from service.api.web import bookmarklet_href
from service.html_report import report_context
from service.i18n import Words
from service.sessions import sign, verify

ORIGIN = {"Origin": "http://testserver"}


def _sign_in(api, name="desk"):
    secret = api.key(name)["Authorization"].split()[1]
    response = api.client.post(
        "/login", data={"key": secret, "next": "/"}, headers=ORIGIN, follow_redirects=False
    )
    assert response.status_code == 303
    return secret


def test_pages_ask_a_signed_out_browser_to_sign_in(api):
    page = api.client.get("/analyses/whatever")
    assert page.status_code == 200 and 'name="key"' in page.text
    assert 'value="/analyses/whatever"' in page.text


def test_a_wrong_key_does_not_sign_in(api):
    response = api.client.post("/login", data={"key": "vk_nope"}, headers=ORIGIN)
    assert response.status_code == 401 and "Unknown or revoked key" in response.text
    assert "verity_session" not in response.headers.get("set-cookie", "")


def test_the_session_cookie_is_httponly_and_never_holds_the_key(api):
    secret = api.key("desk")["Authorization"].split()[1]
    response = api.client.post(
        "/login", data={"key": secret}, headers=ORIGIN, follow_redirects=False
    )
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert secret not in cookie


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil"])
def test_signing_in_never_redirects_off_site(api, target):
    secret = api.key("desk")["Authorization"].split()[1]
    response = api.client.post(
        "/login", data={"key": secret, "next": target}, headers=ORIGIN, follow_redirects=False
    )
    assert response.headers["location"] == "/"


def test_a_signed_in_browser_can_use_the_api_from_verity_pages_only(api, clip):
    _sign_in(api)
    path = clip("a.mp4")
    with open(path, "rb") as f:
        forged = api.client.post("/v1/analyses", files={"file": ("a.mp4", f)})
    assert forged.status_code == 403  # no Origin: not from Verity's own page
    with open(path, "rb") as f:
        ours = api.client.post("/v1/analyses", files={"file": ("a.mp4", f)}, headers=ORIGIN)
    assert ours.status_code == 202
    assert api.client.get("/v1/analyses").json()["analyses"][0]["id"] == ours.json()["id"]


def test_revoking_a_key_ends_its_sessions(api):
    _sign_in(api)
    assert "Drop a video here" in api.client.get("/").text
    api.services.store.revoke_key("desk")
    assert 'name="key"' in api.client.get("/").text


def test_a_tampered_or_expired_session_is_refused():
    secret = b"s" * 32
    token = sign(secret, "key_1", now=1000.0)
    assert verify(secret, token, now=1001.0) == "key_1"
    assert verify(secret, token, now=1000.0 + 13 * 3600) is None
    assert verify(b"other", token, now=1001.0) is None
    assert verify(secret, token.replace("a", "b", 1) + "x", now=1001.0) is None


def test_history_and_result_pages_escape_what_came_from_files(api, clip):
    _sign_in(api)
    hostile = "<img src=x onerror=alert(1)>.mp4"
    with open(clip("a.mp4"), "rb") as f:
        job = api.client.post("/v1/analyses", files={"file": (hostile, f)}, headers=ORIGIN).json()
    api.run(job["id"])
    for url in ("/", f"/analyses/{job['id']}"):
        page = api.client.get(url)
        assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
        assert "<img src=x" not in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]


def test_the_result_page_offers_the_json_report(api, clip):
    _sign_in(api)
    with open(clip("a.mp4"), "rb") as f:
        job = api.client.post("/v1/analyses", files={"file": ("a.mp4", f)}, headers=ORIGIN).json()
    api.run(job["id"])
    download = api.client.get(f"/analyses/{job['id']}.json")
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.json()["media"]["sha256"] == job["sha256"]


def test_the_bookmarklet_holds_the_service_address_and_no_key():
    href = bookmarklet_href("https://verity.newsroom.example")
    code = unquote(href[len("javascript:") :])
    assert href.startswith("javascript:(function")
    assert 'var VERITY = "https://verity.newsroom.example"' in code
    assert "vk_" not in code and "Bearer" not in code
    assert "innerHTML" not in code  # the picker builds its list with textContent


def test_visible_marks_are_outlined_on_the_key_frames_where_they_were_seen(api, clip):
    from detector import analyze
    from detector.thumbnails import key_frame_thumbnails

    path = clip("a.mp4", seconds=2, fps=10, size=(320, 240))
    report = analyze(path, api.settings)
    mark = {"brand": "kling", "mark": "KLING AI", "text": "KLING AI", "box": [240, 200, 64, 20],
            "where": "bottom right", "seen_at_s": [0.0, 0.5]}  # fmt: skip
    evidence = Evidence(
        check="visible_watermark",
        status="ok",
        finding="watermark_found",
        summary="x",
        details={"marks": [mark], "overlays": []},
    )
    report = report.model_copy(update={"evidence": [evidence]})
    thumbnails = key_frame_thumbnails(path, [0.0, 1.5])
    outlined = [t["outlines"] for t in report_context(report, Words(), thumbnails)["thumbnails"]]
    assert outlined[0] == [
        {
            "left": 75.0,
            "top": 83.33,
            "width": 20.0,
            "height": 8.33,
            "label": "KLING AI",
            "kind": "mark",
        }
    ]
    assert outlined[1] == []  # not seen at 1.5 s


def test_pages_follow_the_browsers_language_and_the_switch(api):
    zh = api.client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh-Hans">' in zh.text and "登录" in zh.text and "Sign in" not in zh.text
    en = api.client.get("/", headers={"Accept-Language": "en-GB"})
    assert '<html lang="en">' in en.text and "Sign in" in en.text
    switched = api.client.get("/?lang=zh", headers={"Accept-Language": "en"})
    assert "登录" in switched.text
    assert "verity_lang=zh" in switched.headers["set-cookie"]
    # the cookie the switch set now outranks the browser's header
    remembered = api.client.get("/", headers={"Accept-Language": "en"})
    assert "登录" in remembered.text
    assert "Sign in" in api.client.get("/?lang=en").text
    assert "Sign in" in api.client.get("/?lang=xx", headers={"Accept-Language": "en"}).text


def test_the_scripts_get_their_words_in_the_pages_language(api):
    page = api.client.get("/?lang=zh").text
    words = json.loads(page.split('<script type="application/json" id="words">')[1].split("<")[0])
    assert words["Uploading {name}…"] == "正在上传 {name}…"
    assert "Analysing…" in words  # every message app.js marks is handed over
    code = unquote(bookmarklet_href("https://verity.example", Words("zh"))[len("javascript:") :])
    assert "Verity：检测哪个视频？" in code and "取消" in code
    assert "Verity: which video?" in unquote(bookmarklet_href("https://verity.example"))


def test_the_printable_report_takes_the_language_asked_for(api, clip):
    headers = api.key("desk")
    job = api.upload(headers, clip("a.mp4")).json()
    api.run(job["id"])
    zh = api.client.get(f"/v1/analyses/{job['id']}/report?lang=zh", headers=headers)
    assert zh.status_code == 200 and "证据" in zh.text
    by_header = api.client.get(
        f"/v1/analyses/{job['id']}/report", headers={**headers, "Accept-Language": "zh"}
    )
    assert "证据" in by_header.text
    en = api.client.get(f"/v1/analyses/{job['id']}/report", headers=headers)
    assert "Evidence" in en.text


def test_the_result_page_marks_the_desks_verdict_from_verity_s_own_page(api, clip):
    _sign_in(api)
    with open(clip("a.mp4"), "rb") as f:
        job = api.client.post("/v1/analyses", files={"file": ("a.mp4", f)}, headers=ORIGIN).json()
    page = f"/analyses/{job['id']}"
    verdict = {"verdict": "authentic", "note": "<b>our own</b> stringer"}
    early = api.client.post(f"{page}/verdict", data=verdict, headers=ORIGIN)
    assert early.status_code == 409  # nothing to mark before the analysis is done
    api.run(job["id"])
    assert "No journalist has marked this content yet" in api.client.get(page).text
    forged = api.client.post(f"{page}/verdict", data=verdict)
    assert forged.status_code == 403  # no Origin: not from Verity's own page
    marked = api.client.post(f"{page}/verdict", data=verdict, headers=ORIGIN)
    assert marked.status_code == 200 and marked.url.path == page  # followed the redirect
    assert "Confirmed authentic · desk" in marked.text
    assert "&lt;b&gt;our own&lt;/b&gt; stringer" in marked.text
    assert (
        api.client.post(f"{page}/verdict", data={"verdict": "maybe"}, headers=ORIGIN).status_code
        == 422
    )
