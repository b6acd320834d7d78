"""What a worker does with a job, run in this process."""

from datetime import timedelta

from sqlalchemy import update

from service.api import maintain
from service.jobs import pipeline_version, run_job
from service.store import Job, now


def test_a_file_that_keeps_killing_workers_is_failed_with_a_reason(api, clip):
    job = api.upload(api.key("desk"), clip("a.mp4")).json()
    svc = api.services
    for _ in range(3):  # three deliveries whose worker process died mid-analysis
        svc.store.claim(job["sha256"], svc.pipeline, "task-1", timedelta(seconds=30))
    outcome = run_job(
        job["id"], "task-1", svc.store, svc.blobs, api.settings, 3, timedelta(seconds=30)
    )
    assert outcome.state == "failed"
    assert "stopped its worker 3 times" in svc.store.job(job["id"]).error


def test_a_job_deleted_before_its_turn_is_left_alone(api, clip):
    headers = api.key("desk")
    job = api.upload(headers, clip("a.mp4")).json()
    api.client.delete(f"/v1/analyses/{job['id']}", headers=headers)
    assert api.run(job["id"]).state == "gone"


def test_a_file_that_is_not_decodable_fails_its_job_with_the_reason(api, clip):
    whole = clip("a.mp4").read_bytes()
    cut = clip("b.mp4", seed=3)
    cut.write_bytes(whole[:600])  # an MP4 whose index was lost
    headers = api.key("desk")
    job = api.upload(headers, cut).json()
    assert api.run(job["id"]).state == "failed"
    body = api.client.get(f"/v1/analyses/{job['id']}", headers=headers).json()
    assert body["state"] == "failed" and "cannot be read" in body["error"]


def test_the_pipeline_version_changes_with_the_checks_not_with_the_limits(api):
    settings = api.settings
    assert pipeline_version(settings) == pipeline_version(
        settings.model_copy(update={"threads": 3, "max_bytes": 10})
    )
    assert pipeline_version(settings) != pipeline_version(
        settings.model_copy(update={"disabled_checks": []})
    )


def _set_job(api, job_id: str, **values) -> None:
    with api.services.store.tx() as s:
        s.execute(update(Job).where(Job.id == job_id).values(**values))


def test_uploads_past_retention_are_deleted_and_reports_kept(api, clip):
    headers = api.key("desk")
    job = api.upload(headers, clip("a.mp4")).json()
    api.run(job["id"])
    _set_job(api, job["id"], created_at=now() - timedelta(days=8))  # retention is 7 days
    assert maintain(api.services)["purged"] == 1
    assert not list((api.settings.data_dir / "uploads").glob("*"))
    assert api.services.store.job(job["id"]).blob is None
    body = api.client.get(f"/v1/analyses/{job['id']}", headers=headers).json()
    assert body["state"] == "done" and body["report"]  # the Report stays


def test_a_job_whose_task_was_never_sent_is_sent_by_the_maintenance(api, clip):
    job = api.upload(api.key("desk"), clip("a.mp4")).json()
    _set_job(api, job["id"], enqueued=False)  # the API stopped between storing and sending
    store = api.services.store
    assert store.never_enqueued() == [job["id"]]
    assert maintain(api.services)["resent"] == 1
    assert store.never_enqueued() == []
