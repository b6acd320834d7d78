"""The service's settings: the detector's, plus what the API, the queue and the stores need.

One object, read once from the environment with the same ``VERITY_`` prefix, so that a worker
hands the very same values to ``detector.analyze``.
"""

from functools import lru_cache
from pathlib import Path

from pydantic import Field

from detector import Settings

MiB = 1024**2


class ServiceSettings(Settings):
    """``VERITY_DATABASE_URL``, ``VERITY_BROKER_URL`` and so on; unset, everything lives in
    ``VERITY_DATA_DIR`` and needs no server."""

    # Empty means embedded: SQLite and a broker in files under data_dir.
    database_url: str = ""
    broker_url: str = ""
    # A local folder (default data_dir/uploads) or s3://bucket/prefix.
    blob_url: str = ""
    s3_endpoint_url: str = Field("", description="for MinIO and other S3-compatible servers")

    # Uploads larger than this are refused with 413 before they are stored.
    max_upload_bytes: int = Field(2 * 1024 * MiB, gt=0)
    retention_days: float = Field(7.0, gt=0, description="uploaded media deleted after this")
    analyses_per_minute: int = Field(30, gt=0, description="submissions per key per minute")
    cors_origins: list[str] = Field(default_factory=list)
    # Signs the web page's session cookies; empty: a secret made once in data_dir.
    secret_key: str = ""

    # A job that runs past the soft limit fails with a reason; past the hard limit its worker
    # process is killed and replaced. The broker's visibility timeout must outlast both, or a
    # running job would be handed to a second worker.
    job_soft_time_limit_s: float = Field(600.0, gt=0)
    job_time_limit_s: float = Field(660.0, gt=0)
    # A running analysis whose worker has not written a heartbeat for this long is taken to
    # be lost (its process killed, hung past the hard limit, or its machine gone) and is
    # queued again. Workers beat every two seconds.
    job_stale_after_s: float = Field(30.0, ge=5)
    # A file that has killed or hung this many worker processes is failed, not retried again.
    job_max_attempts: int = Field(3, ge=1)
    # Per worker process; a child is replaced once its resident memory passes this (0: never).
    worker_max_memory_mb: int = Field(4096, ge=0)
    # How long ``verity serve`` gives its embedded worker to finish the analysis in hand when
    # stopped; after that the worker is killed and the analysis queued again (a stale claim).
    worker_stop_grace_s: float = Field(30.0, ge=0)

    # URL fetching (POST /v1/analyses with {"url": ...}).
    fetch_timeout_s: float = Field(60.0, gt=0)
    fetch_allow_hosts: list[str] = Field(
        default_factory=list, description="hosts or networks exempt from the SSRF policy"
    )

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'verity.sqlite'}"

    @property
    def queue_url(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{self.data_dir / 'broker.sqlite'}"

    @property
    def uploads(self) -> str:
        return self.blob_url or str(self.data_dir / "uploads")

    @property
    def embedded(self) -> bool:
        """True when no broker server is configured: ``verity serve`` runs its own worker."""
        return not self.broker_url

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"

    @property
    def fingerprint_index(self) -> Path:
        """The fingerprint index's file (service.memory.CodeIndex), beside the job store."""
        return self.data_dir / "fingerprints.faiss"


@lru_cache(maxsize=1)
def get_service_settings() -> ServiceSettings:
    """The process-wide service settings, read from the environment on first use."""
    return ServiceSettings()
