"""The Celery application and its one task, ``verity.analyze(job_id)``.

Delivery is at least once: the message is acknowledged only after the task ran
(``acks_late``), and handed back to the queue when the process running it died
(``reject_on_worker_lost``). ``jobs.run_job`` makes a second delivery harmless.
"""

import os
import signal
from datetime import timedelta

from billiard.process import current_process
from celery import Celery
from celery.signals import worker_process_init, worker_shutting_down
from sqlalchemy.exc import OperationalError

from detector.settings import keep_to_own_cores

from .blobs import Blobs, BlobStoreUnavailable, open_blobs
from .jobs import TransientError, run_job
from .settings import ServiceSettings
from .store import Store

TASK = "verity.analyze"
QUEUE = "verity"


def make_celery(settings: ServiceSettings) -> Celery:
    """The Celery app for these settings; the API uses it to send, ``verity worker`` to run."""
    app = Celery("verity", broker=settings.queue_url, set_as_current=False)
    app.conf.update(
        task_default_queue=QUEUE,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,  # the job row holds the result
        worker_prefetch_multiplier=1,  # a long analysis must not hold other jobs back
        task_soft_time_limit=settings.job_soft_time_limit_s,
        task_time_limit=settings.job_time_limit_s,
        worker_max_memory_per_child=settings.worker_max_memory_mb * 1024 or None,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )

    if not settings.embedded:
        # Redis hands an unacknowledged message to another worker after this long: it must
        # outlast the longest job, or a running job would be started twice.
        app.conf.broker_transport_options = {
            "visibility_timeout": int(settings.job_time_limit_s * 2) + 60
        }

    @app.task(
        name=TASK,
        bind=True,
        autoretry_for=(TransientError, OperationalError, BlobStoreUnavailable),
        retry_backoff=True,
        retry_backoff_max=120,
        max_retries=8,
    )
    def analyze(self, job_id: str) -> str:
        store, blobs = _worker_resources(settings)
        outcome = run_job(
            job_id,
            self.request.id,
            store,
            blobs,
            settings,
            settings.job_max_attempts,
            timedelta(seconds=settings.job_stale_after_s),
        )
        for other in outcome.requeue:
            app.send_task(TASK, args=[other])
        return outcome.state

    return app


_RESOURCES: dict[int, tuple[Store, Blobs]] = {}


def _worker_resources(settings: ServiceSettings) -> tuple[Store, Blobs]:
    """The store and blobs of this process: a database engine must not cross a fork. (The
    schema was checked once, by ``verity worker`` before it started the pool.)"""
    pid = os.getpid()
    if pid not in _RESOURCES:
        blobs = open_blobs(settings.uploads, settings.s3_endpoint_url, settings.tmp_dir)
        _RESOURCES[pid] = Store(settings.db_url), blobs
    return _RESOURCES[pid]


def run_worker(settings: ServiceSettings, concurrency: int, loglevel: str = "INFO") -> int | None:
    """``verity worker``: consume analyses until stopped, ``concurrency`` at a time in as many
    processes, which share the cores out between them (``Settings.shared_by``). Returns the
    signal that stopped it (Celery's own handlers take SIGTERM and SIGINT: a warm shutdown,
    the analysis in hand finished first), or None."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = make_celery(settings.shared_by(concurrency))
    stopped_by: list[int] = []

    @worker_process_init.connect(weak=False)
    def keep_to_cores(**_) -> None:  # in each pool process; a replacement takes the same number
        keep_to_own_cores(current_process().index, concurrency)

    @worker_shutting_down.connect(weak=False)
    def remember(sig: str = "", **_) -> None:  # "SIGTERM", "SIGINT", "SIGQUIT"
        name = sig if sig.startswith("SIG") else f"SIG{sig}"
        if name in signal.Signals.__members__:
            stopped_by.append(signal.Signals[name])

    app.worker_main(
        [
            "worker",
            f"--loglevel={loglevel}",
            f"--concurrency={concurrency}",
            "--pool=prefork",
            f"--queues={QUEUE}",
            "--without-gossip",
            "--without-mingle",
        ]
    )
    return stopped_by[0] if stopped_by else None
