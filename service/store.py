"""The job store: API keys, jobs and analyses as rows in SQL (SQLite or PostgreSQL).

The rows, not the queue, are the record of truth. A *job* is one submission by one key; an
*analysis* is the Report of one file's bytes (by SHA-256) under one pipeline version, shared by
every job that submitted those bytes, so the same file is analysed once however often and by
whoever it is sent. A worker *claims* an analysis before running it, which is what keeps two
workers from analysing the same bytes at once.
"""

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
FINAL = (DONE, FAILED)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # stored naive, always UTC


class Base(DeclarativeBase):
    pass


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # SHA-256 of the secret: keys are 256 random bits, so a slow hash would add nothing.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class Analysis(Base):
    __tablename__ = "analyses"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    pipeline: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    report: Mapped[str | None] = mapped_column(Text)  # the Report as JSON
    pictures: Mapped[str | None] = mapped_column(Text)  # key-frame JPEGs for the HTML pages
    error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(64))  # the Celery task id
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    pipeline: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    filename: Mapped[str] = mapped_column(String(255))
    source_url: Mapped[str | None] = mapped_column(Text)
    blob: Mapped[str | None] = mapped_column(String(255))  # None once the media is deleted
    state: Mapped[str] = mapped_column(String(16), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    reused: Mapped[bool] = mapped_column(Boolean, default=False)  # answered from a stored report
    enqueued: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


ROW_ID = BigInteger().with_variant(Integer, "sqlite")


class KnownMedia(Base):
    """Content Verity has analysed: its latest verdict and the provenance it carried."""

    __tablename__ = "known_media"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    analysed_at: Mapped[datetime] = mapped_column(DateTime)
    verdict: Mapped[str] = mapped_column(String(32))
    likelihood: Mapped[float] = mapped_column(Float)
    provenance: Mapped[str] = mapped_column(Text)  # JSON list of Evidence (fusion.provenance)
    link: Mapped[str | None] = mapped_column(Text)  # where its report is: a job id, a path


class Sighting(Base):
    """One time content was checked: by which command, under which file name."""

    __tablename__ = "sightings"
    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    source: Mapped[str] = mapped_column(String(16))  # api, check, scan, import
    name: Mapped[str] = mapped_column(Text)


class FrameCodeRow(Base):
    """One frame region's perceptual hash (detector.fingerprint); ``id`` is its index id."""

    __tablename__ = "frame_codes"
    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    time_s: Mapped[float] = mapped_column(Float)
    region: Mapped[str] = mapped_column(String(16))
    code: Mapped[bytes] = mapped_column(LargeBinary(32))


class DeskVerdictRow(Base):
    __tablename__ = "desk_verdicts"
    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    verdict: Mapped[str] = mapped_column(String(16))  # fabricated, authentic
    note: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(DateTime, default=now)


class ManifestRow(Base):
    """A C2PA manifest store seen in analysed content, by its active manifest's label."""

    __tablename__ = "manifests"
    manifest_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    store_json: Mapped[str] = mapped_column(Text)  # c2pa-python's reading of it
    embedded: Mapped[bytes | None] = mapped_column(LargeBinary)  # JUMBF, where the file had it
    first_seen_at: Mapped[datetime] = mapped_column(DateTime, default=now)


@dataclass(frozen=True)
class Claim:
    """What a worker learned when it tried to claim an analysis."""

    outcome: str  # "run" (it holds the claim), "done", "busy" (another worker runs it)
    attempts: int = 0


class Store:
    """Typed operations on the rows; each opens and commits its own transaction."""

    def __init__(self, url: str):
        self.url = url
        self.engine = create_engine(url, **_engine_options(url))
        if url.startswith("sqlite"):
            _serialise_sqlite_writers(self.engine)
        self.session = sessionmaker(self.engine, expire_on_commit=False)
        # the tables come from the migrations (service/schema.py), never from the models

    @contextmanager
    def tx(self) -> Iterator[Session]:
        with self.session.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(select(1))

    # API keys -----------------------------------------------------------------------------

    def create_key(self, name: str, secret_hash: str) -> ApiKey:
        key = ApiKey(id=f"key_{secrets.token_hex(6)}", name=name, secret_hash=secret_hash)
        try:
            with self.tx() as s:
                s.add(key)
        except IntegrityError:
            raise KeyNameTaken(name) from None
        return key

    def key_by_hash(self, secret_hash: str) -> ApiKey | None:
        with self.tx() as s:
            return s.scalar(
                select(ApiKey).where(ApiKey.secret_hash == secret_hash, ApiKey.revoked_at.is_(None))
            )

    def key_by_id(self, key_id: str) -> ApiKey | None:
        with self.tx() as s:
            key = s.get(ApiKey, key_id)
        return key if key is not None and key.revoked_at is None else None

    def api_keys(self) -> list[ApiKey]:
        with self.tx() as s:
            return list(s.scalars(select(ApiKey).order_by(ApiKey.created_at)))

    def revoke_key(self, name_or_id: str) -> bool:
        with self.tx() as s:
            done = s.execute(
                update(ApiKey)
                .where(
                    (ApiKey.name == name_or_id) | (ApiKey.id == name_or_id),
                    ApiKey.revoked_at.is_(None),
                )
                .values(revoked_at=now())
            )
            return done.rowcount > 0

    # Jobs ---------------------------------------------------------------------------------

    def create_job(self, **fields) -> Job:
        """A new job; already done when the same bytes were analysed by the same pipeline."""
        job = Job(id=uuid.uuid4().hex, state=QUEUED, **fields)
        with self.tx() as s:
            stored = s.get(Analysis, (job.sha256, job.pipeline))
            if stored is not None and stored.state == DONE:
                job.state, job.reused, job.finished_at = DONE, True, now()
            s.add(job)
        return job

    def job(self, job_id: str, key_id: str | None = None) -> Job | None:
        """The job, or None; with key_id, None also when another key owns it."""
        with self.tx() as s:
            job = s.get(Job, job_id)
        if job is None or (key_id is not None and job.key_id != key_id):
            return None
        return job

    def jobs_of(self, key_id: str, limit: int = 50, before: datetime | None = None) -> list[Job]:
        query = select(Job).where(Job.key_id == key_id)
        if before is not None:
            query = query.where(Job.created_at < before)
        with self.tx() as s:
            return list(s.scalars(query.order_by(Job.created_at.desc()).limit(limit)))

    def analysis(self, sha256: str, pipeline: str) -> Analysis | None:
        with self.tx() as s:
            return s.get(Analysis, (sha256, pipeline))

    def mark_enqueued(self, job_id: str) -> None:
        with self.tx() as s:
            s.execute(update(Job).where(Job.id == job_id).values(enqueued=True))

    def never_enqueued(self) -> list[str]:
        """Jobs whose task was never sent (the API stopped between the two steps)."""
        with self.tx() as s:
            return list(
                s.scalars(select(Job.id).where(Job.state == QUEUED, Job.enqueued.is_(False)))
            )

    def delete_job(self, job_id: str) -> Job | None:
        """Remove the job; its analysis goes too when no other job refers to it."""
        with self.tx() as s:
            job = s.get(Job, job_id)
            if job is None:
                return None
            s.delete(job)
            s.flush()
            others = s.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.sha256 == job.sha256, Job.pipeline == job.pipeline)
            )
            analysis = s.get(Analysis, (job.sha256, job.pipeline))
            if not others and analysis is not None and analysis.state != RUNNING:
                s.delete(analysis)
        return job

    def expired_blobs(self, older_than: timedelta) -> list[tuple[str, str]]:
        """(job id, blob) of uploads kept longer than the retention period."""
        with self.tx() as s:
            rows = s.execute(
                select(Job.id, Job.blob).where(
                    Job.blob.is_not(None), Job.created_at < now() - older_than
                )
            )
            return [(job_id, blob) for job_id, blob in rows]

    def forget_blob(self, job_id: str) -> None:
        with self.tx() as s:
            s.execute(update(Job).where(Job.id == job_id).values(blob=None))

    # Analyses, as run by workers ------------------------------------------------------------

    def claim(self, sha256: str, pipeline: str, task_id: str, stale_after: timedelta) -> Claim:
        """Try to become the one worker analysing these bytes.

        A claim is taken over when it is this task's own (the broker redelivered the task
        after its worker died), when its heartbeat is older than ``stale_after``, or when an
        earlier attempt failed.
        """
        try:
            with self.tx() as s:
                s.add(_claimed(Analysis(sha256=sha256, pipeline=pipeline, attempts=0), task_id))
                s.flush()
                self._set_jobs(s, sha256, pipeline, RUNNING)
            return Claim("run", 1)
        except IntegrityError:  # the analysis exists: done, running, or failed earlier
            pass
        with self.tx() as s:
            row = s.get(Analysis, (sha256, pipeline))
            if row is None:  # deleted in between; the task will be retried
                return Claim("busy")
            if row.state == DONE:
                return Claim("done")
            takeover = (
                row.state in (FAILED, QUEUED)
                or row.claimed_by == task_id
                or row.heartbeat_at is None
                or row.heartbeat_at < now() - stale_after
            )
            if not takeover:
                return Claim("busy")
            # compare and set: only one of several workers taking over at once wins
            won = s.execute(
                update(Analysis)
                .where(
                    Analysis.sha256 == sha256,
                    Analysis.pipeline == pipeline,
                    Analysis.claimed_by == row.claimed_by,
                    Analysis.attempts == row.attempts,
                )
                .values(
                    state=RUNNING,
                    claimed_by=task_id,
                    heartbeat_at=now(),
                    started_at=now(),
                    progress=0.0,
                    error=None,
                    attempts=row.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            if not won:
                return Claim("busy")
            self._set_jobs(s, sha256, pipeline, RUNNING)
            return Claim("run", row.attempts + 1)

    def heartbeat(self, sha256: str, pipeline: str, task_id: str, progress: float) -> None:
        with self.tx() as s:
            s.execute(
                update(Analysis)
                .where(*_claimed_by(sha256, pipeline, task_id))
                .values(progress=progress, heartbeat_at=now())
            )

    def finish(
        self,
        sha256: str,
        pipeline: str,
        task_id: str,
        report: str | None = None,
        error: str | None = None,
        pictures: str | None = None,
    ) -> bool:
        """Store the Report (or the failure) and settle every job waiting on it. False when
        the claim was lost to another worker meanwhile, which then owns the result."""
        state = DONE if report is not None else FAILED
        with self.tx() as s:
            stored = s.execute(
                update(Analysis)
                .where(*_claimed_by(sha256, pipeline, task_id), Analysis.state == RUNNING)
                .values(
                    state=state,
                    report=report,
                    pictures=pictures,
                    error=error,
                    progress=1.0,
                    finished_at=now(),
                )
            ).rowcount
            if stored:
                self._set_jobs(s, sha256, pipeline, state, error=error, finished_at=now())
            return bool(stored)

    def finish_from_stored(self, sha256: str, pipeline: str) -> None:
        """Settle the jobs for bytes whose Report is already stored."""
        with self.tx() as s:
            self._set_jobs(s, sha256, pipeline, DONE, reused=True, finished_at=now())

    def release(self, sha256: str, pipeline: str, task_id: str) -> None:
        """Give the claim back (a transient error: the task will be retried)."""
        with self.tx() as s:
            s.execute(
                update(Analysis)
                .where(*_claimed_by(sha256, pipeline, task_id))
                .values(
                    state=QUEUED, claimed_by=None, heartbeat_at=None, attempts=Analysis.attempts - 1
                )
            )

    def requeue_stalled(self, stale_after: timedelta) -> list[str]:
        """Put analyses whose worker died or hung (no heartbeat for ``stale_after``) back in
        the queue, and return their unsettled jobs, whose tasks must be sent again."""
        with self.tx() as s:
            stalled = s.execute(
                select(Analysis.sha256, Analysis.pipeline).where(
                    Analysis.state == RUNNING,
                    Analysis.heartbeat_at.is_(None) | (Analysis.heartbeat_at < now() - stale_after),
                )
            ).all()
            jobs = []
            for sha256, pipeline in stalled:
                s.execute(
                    update(Analysis)
                    .where(Analysis.sha256 == sha256, Analysis.pipeline == pipeline)
                    .values(state=QUEUED, claimed_by=None, heartbeat_at=None)
                )
                jobs += s.scalars(
                    select(Job.id).where(
                        Job.sha256 == sha256, Job.pipeline == pipeline, Job.state.not_in(FINAL)
                    )
                )
            return jobs

    def waiting_jobs(self, sha256: str, pipeline: str) -> list[Job]:
        with self.tx() as s:
            return list(
                s.scalars(
                    select(Job).where(
                        Job.sha256 == sha256, Job.pipeline == pipeline, Job.state.not_in(FINAL)
                    )
                )
            )

    @staticmethod
    def _set_jobs(s: Session, sha256: str, pipeline: str, state: str, **values) -> None:
        s.execute(
            update(Job)
            .where(Job.sha256 == sha256, Job.pipeline == pipeline, Job.state.not_in(FINAL))
            .values(state=state, **values)
        )

    # Metrics ------------------------------------------------------------------------------

    def jobs_by_state(self) -> dict[str, int]:
        with self.tx() as s:
            return dict(s.execute(select(Job.state, func.count()).group_by(Job.state)).all())

    def analysis_durations(self) -> list[float]:
        """Seconds taken by each finished analysis, for the duration histogram."""
        with self.tx() as s:
            rows = s.execute(
                select(Analysis.started_at, Analysis.finished_at).where(
                    Analysis.finished_at.is_not(None), Analysis.started_at.is_not(None)
                )
            )
            return [(end - start).total_seconds() for start, end in rows]


class KeyNameTaken(Exception):
    """An API key with this name exists already."""


def _claimed(row: Analysis, task_id: str) -> Analysis:
    row.state, row.claimed_by, row.heartbeat_at, row.started_at = RUNNING, task_id, now(), now()
    row.attempts += 1
    return row


def _serialise_sqlite_writers(engine) -> None:
    """SQLite in WAL mode, every transaction taking the write lock when it begins: a read
    that later writes would otherwise fail at once when another process wrote meanwhile."""

    @event.listens_for(engine, "connect")
    def _connect(connection, _record) -> None:
        connection.isolation_level = None  # let SQLAlchemy, not pysqlite, begin transactions
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA busy_timeout=30000")

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _claimed_by(sha256: str, pipeline: str, task_id: str) -> tuple:
    """The analysis of these bytes, as long as this task holds its claim."""
    return (
        Analysis.sha256 == sha256,
        Analysis.pipeline == pipeline,
        Analysis.claimed_by == task_id,
    )


def _engine_options(url: str) -> dict:
    if not url.startswith("sqlite"):
        return {"pool_pre_ping": True}
    return {"connect_args": {"timeout": 30, "check_same_thread": False}}
