"""What a worker does with a job, run in this process."""

from datetime import timedelta

from service.jobs import pipeline_version, run_job


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
