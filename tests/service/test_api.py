"""The upload API in this process: authentication, refusals, reuse, deletion, escaping."""

import pytest

from detector.report import Report
from service.store import DONE


def _stored_files(api) -> list:
    """Every file the service keeps: uploads and temporary files."""
    data = api.settings.data_dir
    return [p for sub in ("uploads", "tmp") for p in (data / sub).glob("*") if p.is_file()]


def test_upload_answers_202_with_a_queued_job(api, clip):
    response = api.upload(api.key("desk"), clip("a.mp4"))
    assert response.status_code == 202
    body = response.json()
    assert body["state"] == "queued" and body["filename"] == "a.mp4" and body["report"] is None
    assert len(_stored_files(api)) == 1


def test_a_finished_job_carries_its_report(api, clip):
    headers = api.key("desk")
    job = api.upload(headers, clip("a.mp4")).json()
    assert api.run(job["id"]).state == DONE
    body = api.client.get(f"/v1/analyses/{job['id']}", headers=headers).json()
    assert body["state"] == "done" and body["progress"] == 1.0
    report = Report.model_validate(body["report"])
    assert report.media.sha256 == job["sha256"]
    assert report.media.file_name == "a.mp4"  # the job's name, not the stored blob's


def test_the_same_bytes_are_answered_from_the_stored_report(api, clip):
    path = clip("a.mp4")
    first = api.upload(api.key("desk"), path).json()
    api.run(first["id"])
    again = api.upload(api.key("other desk"), path, filename="renamed.mp4").json()
    assert again["state"] == "done" and again["reused"] is True
    assert again["report"]["media"]["sha256"] == first["sha256"]
    assert len(_stored_files(api)) == 1  # the second copy was not kept


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer vk_wrong"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["missing", "wrong", "not bearer"],
)
def test_requests_without_a_valid_key_get_401(api, clip, headers):
    assert api.upload(headers, clip("a.mp4")).status_code in (401, 403)
    assert api.client.get("/v1/analyses", headers=headers).status_code in (401, 403)
    assert _stored_files(api) == []


def test_missing_key_is_401_with_a_bearer_challenge(api):
    response = api.client.get("/v1/analyses")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_revoked_key_is_refused(api, clip):
    headers = api.key("desk")
    assert api.services.store.revoke_key("desk")
    assert api.client.get("/v1/analyses", headers=headers).status_code == 401


def test_another_keys_job_is_404(api, clip):
    job = api.upload(api.key("desk"), clip("a.mp4")).json()
    stranger = api.key("stranger")
    for method in ("get", "delete"):
        response = getattr(api.client, method)(f"/v1/analyses/{job['id']}", headers=stranger)
        assert response.status_code == 404
    assert api.client.get(f"/v1/analyses/{job['id']}/report", headers=stranger).status_code == 404
    assert api.client.get("/v1/analyses", headers=stranger).json()["analyses"] == []


def test_an_over_size_upload_is_413_and_nothing_is_kept(api, tmp_path):
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\x00" * (api.settings.max_upload_bytes + 1))
    response = api.upload(api.key("desk"), big)
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert _stored_files(api) == []
    assert api.services.store.jobs_by_state() == {}


def test_an_over_size_chunked_upload_without_a_length_is_413(api):
    headers = {**api.key("desk"), "Content-Type": "multipart/form-data; boundary=xyz"}
    head = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n'

    def body():
        yield head
        for _ in range(6):
            yield b"\x00\x00\x00\x18ftypisom" + bytes(1024 * 1024)

    response = api.client.post("/v1/analyses", headers=headers, content=body())
    assert response.status_code == 413
    assert _stored_files(api) == []


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"%PDF-1.5\n" + bytes(500), "a PDF document"),
        (b"", "an empty file"),
        (b"just some words\n" * 50, "a text file"),
    ],
    ids=["pdf", "empty", "text"],
)
def test_a_file_that_is_not_a_video_is_415_with_the_reason(api, tmp_path, content, reason):
    path = tmp_path / "video.mp4"
    path.write_bytes(content)
    response = api.upload(api.key("desk"), path)
    assert response.status_code == 415
    assert reason in response.json()["detail"]
    assert _stored_files(api) == []


def test_a_body_without_the_file_field_is_422(api):
    response = api.client.post(
        "/v1/analyses", headers=api.key("desk"), files={"video": ("a.mp4", b"123")}
    )
    assert response.status_code == 422
    assert "'file'" in response.json()["detail"]


def test_an_unknown_body_type_is_415(api):
    response = api.client.post(
        "/v1/analyses", headers={**api.key("desk"), "Content-Type": "video/mp4"}, content=b"x"
    )
    assert response.status_code == 415


def _raw_upload(api, headers, filename: bytes, content: bytes):
    """A multipart body written by hand, so the file name reaches the server byte for byte."""
    body = (
        b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="'
        + filename
        + b'"\r\nContent-Type: video/mp4\r\n\r\n'
        + content
        + b"\r\n--b0undary--\r\n"
    )
    return api.client.post(
        "/v1/analyses",
        headers={**headers, "Content-Type": "multipart/form-data; boundary=b0undary"},
        content=body,
    )


@pytest.mark.parametrize(
    ("filename", "shown"),
    [
        (b"../../../etc/passwd", "passwd"),
        (b"..\\..\\windows\\win.ini", "win.ini"),
        (b"clip\x00.mp4", "clip.mp4"),
        (b"x" * 5000 + b".mp4", "x" * 200),
        (b"...", "upload"),
        (b"<img src=x onerror=alert(1)>.mp4", "<img src=x onerror=alert(1)>.mp4"),
        ("видео 新闻.mp4".encode(), "видео 新闻.mp4"),
    ],
    ids=["traversal", "windows traversal", "nul", "very long", "dots", "html", "unicode"],
)
def test_hostile_file_names_are_only_labels(api, clip, filename, shown):
    response = _raw_upload(api, api.key("desk"), filename, clip("a.mp4").read_bytes())
    assert response.status_code == 202, response.text
    assert response.json()["filename"] == shown
    stored = _stored_files(api)
    assert len(stored) == 1 and stored[0].parent == api.settings.data_dir / "uploads"
    assert stored[0].name == api.services.store.job(response.json()["id"]).blob


def test_delete_removes_the_media_and_the_record(api, clip):
    headers = api.key("desk")
    job = api.upload(headers, clip("a.mp4")).json()
    api.run(job["id"])
    assert api.client.delete(f"/v1/analyses/{job['id']}", headers=headers).status_code == 204
    assert api.client.get(f"/v1/analyses/{job['id']}", headers=headers).status_code == 404
    assert _stored_files(api) == []
    assert api.services.store.analysis(job["sha256"], api.services.pipeline) is None


def test_delete_keeps_a_report_other_jobs_still_refer_to(api, clip):
    path = clip("a.mp4")
    desk, other = api.key("desk"), api.key("other")
    first = api.upload(desk, path).json()
    api.run(first["id"])
    second = api.upload(other, path).json()
    api.client.delete(f"/v1/analyses/{first['id']}", headers=desk)
    assert api.client.get(f"/v1/analyses/{second['id']}", headers=other).json()["report"]


def test_submissions_over_the_rate_limit_get_429_with_retry_after(api, clip, monkeypatch):
    monkeypatch.setattr(api.services.submissions, "capacity", 2.0)
    headers, path = api.key("desk"), clip("a.mp4")
    codes = [api.upload(headers, path).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    response = api.upload(headers, path)
    assert int(response.headers["retry-after"]) >= 1
    assert api.upload(api.key("other"), path).status_code == 202  # limits are per key


def test_the_html_report_escapes_strings_from_the_media(api, clip):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    path = clip("a.mp4", metadata={"com.apple.quicktime.model": hostile})
    headers = api.key("desk")
    job = api.upload(headers, path).json()
    api.run(job["id"])
    page = api.client.get(f"/v1/analyses/{job['id']}/report", headers=headers)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "&lt;script&gt;" in page.text
    assert "data:image/jpeg;base64," in page.text  # the key frames the worker kept
    assert "<script>alert" not in page.text and "<img src=x" not in page.text


def test_the_report_page_is_409_until_the_analysis_is_done(api, clip):
    headers = api.key("desk")
    job = api.upload(headers, clip("a.mp4")).json()
    assert api.client.get(f"/v1/analyses/{job['id']}/report", headers=headers).status_code == 409


def test_history_lists_a_keys_analyses_newest_first(api, clip):
    headers = api.key("desk")
    ids = [api.upload(headers, clip(f"{i}.mp4", seed=i)).json()["id"] for i in range(3)]
    listed = api.client.get("/v1/analyses", headers=headers).json()["analyses"]
    assert [a["id"] for a in listed] == ids[::-1]


def test_jobs_for_the_same_bytes_share_one_analysis(api, clip):
    """Four keys send one file before any worker ran: one analysis serves all four jobs."""
    path = clip("a.mp4")
    jobs = [api.upload(api.key(f"desk{i}"), path).json() for i in range(4)]
    outcomes = [api.run(job["id"]).detail for job in jobs]
    assert outcomes[0] == "" and set(outcomes[1:]) == {"already settled"}
    assert all(api.services.store.job(job["id"]).state == "done" for job in jobs)
    analysis = api.services.store.analysis(jobs[0]["sha256"], api.services.pipeline)
    assert analysis.attempts == 1


def test_healthz_and_readyz(api):
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "database": "ok", "broker": "ok", "blobs": "ok"}


def test_metrics_count_jobs_by_state_and_analysis_durations(api, clip):
    headers = api.key("desk")
    done = api.upload(headers, clip("a.mp4")).json()
    api.run(done["id"])
    api.upload(headers, clip("b.mp4", seed=2))
    text = api.client.get("/metrics").text
    assert 'verity_jobs{state="done"} 1.0' in text
    assert 'verity_jobs{state="queued"} 1.0' in text
    assert "verity_analysis_duration_seconds_count 1.0" in text
    assert "verity_queue_depth 1.0" in text


def test_the_openapi_schema_documents_both_submission_bodies(api):
    schema = api.client.get("/openapi.json").json()
    body = schema["paths"]["/v1/analyses"]["post"]["requestBody"]["content"]
    assert set(body) == {"multipart/form-data", "application/json"}
    assert api.client.get("/docs").status_code == 200
