"""What a worker does with one job: claim the analysis of its bytes, run ``detector.analyze``,
store the Report and settle every job that was waiting for the same bytes.

Celery calls ``run_job`` (see ``tasks.py``); it is plain code so that tests and the embedded
mode run exactly the same steps. Running it twice for the same job is harmless.
"""

import contextlib
import hashlib
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded

from detector import MediaError, Settings, analyze_keeping_stills
from detector.report import VERITY_VERSION

from .blobs import BlobMissing, Blobs
from .html_report import key_frame_pictures
from .memory import StoreMemory
from .settings import ServiceSettings
from .store import DONE, FINAL, Store

# The share of the progress bar each stage of an analysis fills.
_STAGES = {"decode": (0.0, 0.7), "checks": (0.7, 1.0)}
HEARTBEAT_EVERY_S = 2.0


class TransientError(Exception):
    """Worth retrying: the database, the broker or the blob store was briefly unreachable."""


@dataclass(frozen=True)
class Outcome:
    state: str  # done | failed | waiting | gone
    detail: str = ""
    requeue: list[str] = field(default_factory=list)  # jobs whose tasks must be sent again


def pipeline_version(settings: Settings) -> str:
    """Reports are reused only for the same Verity version and the same result-shaping
    settings; limits, threads and folders do not change a Report."""
    shaping = settings.model_dump(
        mode="json",
        include={
            "key_frames",
            "disabled_checks",
            "check_modules",
            "c2pa_trust_anchors",
            "c2pa_allowed_certs",
            "c2pa_trust_config",
            "c2pa_remote_manifests",
            "c2pa_ocsp",
        },
    )
    digest = hashlib.sha256(repr(sorted(shaping.items())).encode()).hexdigest()[:12]
    return f"{VERITY_VERSION}+{digest}"


def run_job(
    job_id: str,
    task_id: str,
    store: Store,
    blobs: Blobs,
    settings: ServiceSettings,
    max_attempts: int,
    stale_after: timedelta,
) -> Outcome:
    """Bring the job to a final state, or leave it to the worker that is analysing its bytes."""
    job = store.job(job_id)
    if job is None:
        return Outcome("gone", "the job was deleted")
    if job.state in FINAL:
        return Outcome(job.state, "already settled")
    claim = store.claim(job.sha256, job.pipeline, task_id, stale_after)
    if claim.outcome == "done":
        store.finish_from_stored(job.sha256, job.pipeline)
        return Outcome(DONE, "answered from the stored report")
    if claim.outcome == "busy":
        return Outcome("waiting", "another worker is analysing the same bytes")
    if claim.attempts > max_attempts:
        reason = (
            f"the analysis stopped its worker {claim.attempts - 1} times (a crash, a hang or "
            "too much memory); the file may be built to break video decoders"
        )
        store.finish(job.sha256, job.pipeline, task_id, error=reason)
        return Outcome("failed", reason)
    return _analyse(job, task_id, store, blobs, settings)


def _analyse(job, task_id: str, store: Store, blobs: Blobs, settings: ServiceSettings) -> Outcome:
    with _Heartbeat(store, job.sha256, job.pipeline, task_id) as beat:
        return _analyse_beating(job, task_id, store, blobs, settings, beat.progress)


class _Heartbeat:
    """Writes the progress and a heartbeat every few seconds while an analysis runs, so a
    worker that died or hung is told apart from one that is busy (see Store.claim)."""

    def __init__(self, store: Store, sha256: str, pipeline: str, task_id: str):
        self.args = (sha256, pipeline, task_id)
        self.store = store
        self.fraction = 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def progress(self, stage: str, fraction: float) -> None:
        start, end = _STAGES.get(stage, (0.0, 1.0))
        self.fraction = start + (end - start) * fraction

    def _beat(self) -> None:
        while not self.stop.wait(HEARTBEAT_EVERY_S):
            with contextlib.suppress(Exception):  # a missed beat does not fail the analysis
                self.store.heartbeat(*self.args, self.fraction)

    def __enter__(self) -> "_Heartbeat":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def _analyse_beating(job, task_id, store, blobs, settings, progress) -> Outcome:
    try:
        with blobs.local_copy(job.blob or "") as path:
            memory = StoreMemory.of(store, settings.fingerprint_index)
            report, stills = analyze_keeping_stills(
                path, settings, progress, sha256=job.sha256, memory=memory
            )
            memory.keep_manifest(report, path)  # while the media is at hand
            pictures = key_frame_pictures(stills)
    except MediaError as e:
        store.finish(job.sha256, job.pipeline, task_id, error=str(e))
        return Outcome("failed", str(e))
    except BlobMissing:
        # Deleted while queued: give the claim back, and the jobs that were waiting for this
        # analysis go back on the queue to run it from their own copies.
        store.release(job.sha256, job.pipeline, task_id)
        waiting = [j.id for j in store.waiting_jobs(job.sha256, job.pipeline) if j.id != job.id]
        return Outcome("gone", "the media was deleted before it was analysed", waiting)
    except TransientError:
        store.release(job.sha256, job.pipeline, task_id)
        raise
    except SoftTimeLimitExceeded:
        reason = "the analysis took longer than the service's time limit"
        store.finish(job.sha256, job.pipeline, task_id, error=reason)
        return Outcome("failed", reason)
    except Exception as e:  # a bug must fail its job with a reason, not leave it running
        reason = f"internal error: {type(e).__name__}: {e}"
        store.finish(job.sha256, job.pipeline, task_id, error=reason)
        return Outcome("failed", reason)
    if store.finish(
        job.sha256, job.pipeline, task_id, report=report.model_dump_json(), pictures=pictures
    ):
        memory.remember(report, "api", job.filename, link=f"/v1/analyses/{job.id}")
    return Outcome(DONE)
