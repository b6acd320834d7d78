"""The job store's claims: one worker per analysis, and recovery from workers that died."""

from datetime import timedelta

import pytest

from service.store import DONE, FAILED, QUEUED, RUNNING, Store

SHA, PIPE = "a" * 64, "p1"
FRESH, STALE = timedelta(seconds=30), timedelta(seconds=-1)


@pytest.fixture
def store(store_url):
    """A fresh store in SQLite, and in PostgreSQL where .ci/run started one."""
    store = Store(store_url)
    key = store.create_key("desk", "h" * 64)
    store.new_job = lambda: store.create_job(
        key_id=key.id, sha256=SHA, pipeline=PIPE, size=1, filename="a.mp4", blob="b"
    )
    yield store
    store.close()


def test_the_first_claim_runs_and_a_second_worker_is_told_busy(store):
    store.new_job()
    assert store.claim(SHA, PIPE, "task-1", FRESH).outcome == "run"
    assert store.claim(SHA, PIPE, "task-2", FRESH).outcome == "busy"


def test_a_redelivered_task_takes_its_own_claim_over(store):
    store.new_job()
    store.claim(SHA, PIPE, "task-1", FRESH)
    again = store.claim(SHA, PIPE, "task-1", FRESH)
    assert again.outcome == "run" and again.attempts == 2


def test_a_claim_without_a_recent_heartbeat_is_taken_over(store):
    store.new_job()
    store.claim(SHA, PIPE, "task-1", FRESH)
    assert store.claim(SHA, PIPE, "task-2", STALE).outcome == "run"
    assert not store.finish(SHA, PIPE, "task-1", report="{}")  # the old worker lost it
    assert store.finish(SHA, PIPE, "task-2", report="{}")


def test_finishing_settles_every_job_waiting_for_the_same_bytes(store):
    jobs = [store.new_job() for _ in range(3)]
    store.claim(SHA, PIPE, "task-1", FRESH)
    assert {store.job(j.id).state for j in jobs} == {RUNNING}
    store.finish(SHA, PIPE, "task-1", error="this is a PDF document, not a video")
    assert {(store.job(j.id).state, store.job(j.id).error) for j in jobs} == {
        (FAILED, "this is a PDF document, not a video")
    }


def test_a_done_analysis_answers_new_jobs_at_once(store):
    store.new_job()
    store.claim(SHA, PIPE, "task-1", FRESH)
    store.finish(SHA, PIPE, "task-1", report="{}")
    later = store.new_job()
    assert later.state == DONE and later.reused
    assert store.claim(SHA, PIPE, "task-9", FRESH).outcome == "done"


def test_a_failed_analysis_is_tried_again_for_a_new_job(store):
    store.new_job()
    store.claim(SHA, PIPE, "task-1", FRESH)
    store.finish(SHA, PIPE, "task-1", error="decoder crashed")
    store.new_job()
    assert store.claim(SHA, PIPE, "task-2", FRESH).outcome == "run"


def test_stalled_analyses_are_queued_again_once(store):
    job = store.new_job()
    store.claim(SHA, PIPE, "task-1", FRESH)
    assert store.requeue_stalled(FRESH) == []
    assert store.requeue_stalled(STALE) == [job.id]
    assert store.analysis(SHA, PIPE).state == QUEUED
    assert store.requeue_stalled(STALE) == []  # not sent again while it waits for a worker
    resumed = store.claim(SHA, PIPE, "task-2", FRESH)
    assert resumed.outcome == "run" and resumed.attempts == 2


def test_a_released_claim_is_free_and_not_counted(store):
    store.new_job()
    store.claim(SHA, PIPE, "task-1", FRESH)
    store.release(SHA, PIPE, "task-1")
    claim = store.claim(SHA, PIPE, "task-2", FRESH)
    assert claim.outcome == "run" and claim.attempts == 1
