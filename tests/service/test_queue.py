"""The service with its real parts: redis-server, Celery workers and the API as processes.

Workers and the API are killed and restarted under load; no job may be lost, and the same
bytes are analysed once.
"""

import json
import os
import threading

import httpx
import pytest

from .servers import Cluster, wait_for

pytestmark = pytest.mark.slow
STALE_AFTER_S = 6


@pytest.fixture
def cluster(tmp_path):
    cluster = Cluster(tmp_path, stale_after_s=STALE_AFTER_S)
    cluster.start_api()
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def slow_clip(tmp_path_factory):
    """A clip whose full analysis (OCR included) takes a second or two."""
    from detector.synth import make_clip

    return make_clip(
        tmp_path_factory.mktemp("clips") / "slow.mp4", seconds=4, fps=25, size=(1280, 720)
    )


def _analysis(cluster, sha256):
    store = cluster.store()
    try:
        rows = [a for a in _all_analyses(store) if a.sha256 == sha256]
    finally:
        store.close()
    assert len(rows) == 1  # one stored Report for these bytes, whatever happened
    return rows[0]


def _all_analyses(store):
    from sqlalchemy import select

    from service.store import Analysis

    with store.tx() as s:
        return list(s.scalars(select(Analysis)))


def _running(cluster, sha256) -> bool:
    store = cluster.store()
    try:
        analysis = next((a for a in _all_analyses(store) if a.sha256 == sha256), None)
        return analysis is not None and analysis.state == "running"
    finally:
        store.close()


def test_a_job_is_analysed_by_a_worker(cluster, clip):
    cluster.worker("w1")
    job = cluster.upload(clip("a.mp4"))
    (done,) = cluster.wait_done([job["id"]])
    assert done["state"] == "done" and done["report"]["media"]["sha256"] == job["sha256"]
    page = httpx.get(f"{cluster.api.url}/v1/analyses/{job['id']}/report", headers=cluster.headers)
    assert page.status_code == 200 and "Verity" in page.text


def test_a_killed_pool_process_hands_its_job_to_another_worker(cluster, slow_clip):
    first = cluster.worker("w1")
    job = cluster.upload(slow_clip)
    wait_for(lambda: _running(cluster, job["sha256"]), 60, "the analysis to start")
    cluster.worker("w2")
    (child,) = first.children()
    os.kill(child, 9)  # the process running the analysis dies mid-way
    (done,) = cluster.wait_done([job["id"]])
    assert done["state"] == "done"
    analysis = _analysis(cluster, job["sha256"])
    assert analysis.attempts == 2 and analysis.state == "done"


def test_a_worker_killed_with_its_pool_loses_no_job(cluster, slow_clip):
    first = cluster.worker("w1")
    job = cluster.upload(slow_clip)
    wait_for(lambda: _running(cluster, job["sha256"]), 60, "the analysis to start")
    first.kill()  # kill -9 the worker and its pool: the broker still holds the message
    cluster.worker("w2")
    (done,) = cluster.wait_done([job["id"]], timeout=STALE_AFTER_S * 10)
    assert done["state"] == "done"
    assert _analysis(cluster, job["sha256"]).attempts == 2


def test_jobs_queued_while_redis_restarts_are_not_lost(cluster, clip):
    jobs = [cluster.upload(clip(f"{i}.mp4", seed=i)) for i in range(4)]
    cluster.redis.restart()
    ready = httpx.get(f"{cluster.api.url}/readyz", timeout=10)
    assert ready.json()["broker"] == "ok"
    cluster.worker("w1")
    done = cluster.wait_done([j["id"] for j in jobs])
    assert [j["state"] for j in done] == ["done"] * 4


def test_the_same_file_uploaded_twice_at_once_is_analysed_once(cluster, slow_clip):
    cluster.worker("w1")
    cluster.worker("w2")
    other = cluster.new_key("other desk")
    jobs: list[dict] = []
    threads = [
        threading.Thread(target=lambda h=h: jobs.append(cluster.upload(slow_clip, h)))
        for h in (cluster.headers, {"Authorization": f"Bearer {other}"})
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(jobs) == 2 and jobs[0]["id"] != jobs[1]["id"]
    store = cluster.store()
    try:
        wait_for(lambda: all(store.job(j["id"]).state == "done" for j in jobs), 120, "both jobs")
        reports = [store.analysis(j["sha256"], store.job(j["id"]).pipeline) for j in jobs]
    finally:
        store.close()
    assert reports[0].attempts == 1  # one analysis served both
    assert json.loads(reports[0].report)["media"]["sha256"] == jobs[0]["sha256"]


def test_queued_jobs_continue_after_the_api_restarts(cluster, clip):
    jobs = [cluster.upload(clip(f"{i}.mp4", seed=i)) for i in range(3)]
    cluster.api.stop()
    cluster.processes.remove(cluster.api)
    cluster.worker("w1")
    cluster.start_api()
    done = cluster.wait_done([j["id"] for j in jobs])
    assert [j["state"] for j in done] == ["done"] * 3


def test_metrics_show_queue_depth_from_redis(cluster, clip):
    for i in range(3):
        cluster.upload(clip(f"{i}.mp4", seed=i))
    text = httpx.get(f"{cluster.api.url}/metrics", timeout=10).text
    assert "verity_queue_depth 3.0" in text
    assert 'verity_jobs{state="queued"} 3.0' in text


def test_a_hung_analysis_is_ended_by_the_hard_limit_and_fails_after_its_attempts(tmp_path, clip):
    """A check that hangs beyond the reach of the soft time limit (signals blocked, as in C): the
    hard limit kills the pool process, the job goes back to the queue, and after
    VERITY_JOB_MAX_ATTEMPTS it fails with a reason a user can read; the jobs queued behind it
    finish, and nothing is left claimed."""
    hanging_width = 136
    cluster = Cluster(
        tmp_path / "cluster",
        stale_after_s=STALE_AFTER_S,
        VERITY_CHECK_MODULES='["tests.service.hanging_check"]',
        VERITY_TEST_HANG_WIDTH=str(hanging_width),
        VERITY_DISABLED_CHECKS='["classifier", "visible_watermark", "invisible_watermark"]',
        VERITY_JOB_SOFT_TIME_LIMIT_S="2",
        VERITY_JOB_TIME_LIMIT_S="4",
        VERITY_JOB_MAX_ATTEMPTS="2",
    )
    try:
        cluster.start_api()
        cluster.worker("w1")
        hanging = cluster.upload(clip("hang.mp4", size=(hanging_width, 96), seconds=1))
        behind = [
            cluster.upload(clip(f"ok{i}.mp4", size=(160, 96), seconds=1, seed=i)) for i in range(2)
        ]
        jobs = cluster.wait_done([hanging["id"]] + [j["id"] for j in behind], timeout=180)
        assert jobs[0]["state"] == "failed"
        assert "stopped its worker 2 times" in jobs[0]["error"]
        assert [j["state"] for j in jobs[1:]] == ["done", "done"]
        store = cluster.store()
        try:
            analyses = _all_analyses(store)
        finally:
            store.close()
        assert {a.state for a in analyses} <= {"done", "failed"}  # nothing left claimed
    finally:
        cluster.close()


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores")
def test_a_workers_pool_processes_keep_to_cores_of_their_own(tmp_path, clip):
    cluster = Cluster(
        tmp_path / "cluster",
        VERITY_CHECK_MODULES='["tests.service.cores_check"]',
        VERITY_DISABLED_CHECKS='["classifier", "visible_watermark", "invisible_watermark"]',
    )
    try:
        cluster.start_api()
        cluster.worker("w1", concurrency=2)
        clips = [clip(f"c{i}.mp4", seconds=0.6, fps=10, size=(64, 48), seed=i) for i in range(8)]
        done = cluster.wait_done([cluster.upload(path)["id"] for path in clips])
    finally:
        cluster.close()
    seen = {}
    for job in done:
        (said,) = [e["details"] for e in job["report"]["evidence"] if e["check"] == "test_cores"]
        seen[said["pid"]] = (frozenset(said["cores"]), said["threads"])
    share = len(os.sched_getaffinity(0)) // 2
    assert all(len(cores) == share and threads == share for cores, threads in seen.values())
    if len(seen) == 2:  # both pool processes took jobs: their cores do not overlap
        (a, _), (b, _) = seen.values()
        assert not a & b
