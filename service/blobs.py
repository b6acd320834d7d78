"""Where uploaded media waits for a worker: a local folder, or an S3-compatible bucket so that
workers on several machines share the uploads. Blob names are job ids, never client input."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse


class BlobMissing(Exception):
    """The media is gone (deleted with its job, or past retention)."""


class BlobStoreUnavailable(Exception):
    """The store cannot be reached now; worth retrying later."""


class Blobs(Protocol):
    def put(self, name: str, source: Path) -> None:
        """Take ``source`` (a finished temporary file) into the store under ``name``."""

    def local_copy(self, name: str) -> Iterator[Path]:
        """A context manager giving a local path to the blob for the length of the block."""

    def delete(self, name: str) -> None:
        """Remove the blob; a missing blob is not an error."""

    def ping(self) -> None:
        """Raise BlobStoreUnavailable when the store cannot be reached."""


class LocalBlobs:
    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def put(self, name: str, source: Path) -> None:
        shutil.move(source, self.root / name)

    @contextmanager
    def local_copy(self, name: str) -> Iterator[Path]:
        path = self.root / name
        if not path.is_file():
            raise BlobMissing(name)
        yield path

    def delete(self, name: str) -> None:
        (self.root / name).unlink(missing_ok=True)

    def ping(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise BlobStoreUnavailable(f"{self.root} is not writable")


class S3Blobs:
    """s3://bucket/prefix; ``endpoint_url`` points at MinIO or another S3-compatible server."""

    def __init__(self, url: str, endpoint_url: str, tmp_dir: Path):
        import boto3  # the s3 extra; only needed when an s3:// store is configured
        from botocore.config import Config

        parsed = urlparse(url)
        self.bucket, self.prefix = parsed.netloc, parsed.path.strip("/")
        self.tmp_dir = tmp_dir
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}),
        )

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def put(self, name: str, source: Path) -> None:
        with self._unavailable():
            self.client.upload_file(str(source), self.bucket, self._key(name))
        source.unlink()

    @contextmanager
    def local_copy(self, name: str) -> Iterator[Path]:
        from botocore.exceptions import ClientError

        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.tmp_dir, prefix="blob-")
        os.close(handle)
        path = Path(temporary)
        try:
            try:
                with self._unavailable():
                    self.client.download_file(self.bucket, self._key(name), str(path))
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                    raise BlobMissing(name) from None
                raise BlobStoreUnavailable(str(e)) from e
            yield path
        finally:
            path.unlink(missing_ok=True)

    def delete(self, name: str) -> None:
        with self._unavailable():
            self.client.delete_object(Bucket=self.bucket, Key=self._key(name))

    def ping(self) -> None:
        with self._unavailable():
            self.client.head_bucket(Bucket=self.bucket)

    @contextmanager
    def _unavailable(self) -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except (BotoCoreError, ClientError) as e:
            if isinstance(e, ClientError) and e.response.get("Error", {}).get("Code") in (
                "404",
                "NoSuchKey",
            ):
                raise
            raise BlobStoreUnavailable(str(e)) from e


def open_blobs(url: str, endpoint_url: str, tmp_dir: Path) -> Blobs:
    """The blob store a URL names: ``s3://bucket/prefix`` or a local folder."""
    if url.startswith("s3://"):
        return S3Blobs(url, endpoint_url, tmp_dir)
    return LocalBlobs(Path(url))
