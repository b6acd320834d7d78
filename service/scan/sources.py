"""Where a scan's files come from: local folders, and ``s3://bucket/prefix`` when S3 is
configured. Objects are downloaded one at a time, as they are analysed, and deleted after."""

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from detector.sniff import HEAD_BYTES

from .errors import ScanError


@dataclass
class Entry:
    path: str  # an absolute local path, or s3://bucket/key
    size: int
    mtime_ns: int
    sha256: str = ""
    local: Path | None = None  # where the bytes are while the entry is worked on

    @property
    def remote(self) -> bool:
        return self.path.startswith("s3://")


class Sources:
    def __init__(self, roots: list[str], tmp_dir: Path, s3_endpoint_url: str = ""):
        self.roots = roots
        self.tmp_dir = tmp_dir
        self.s3_endpoint_url = s3_endpoint_url
        self._client = None

    def check(self) -> None:
        """Raise ScanError for a root that does not exist or cannot be reached."""
        for root in self.roots:
            if root.startswith("s3://"):
                bucket = urlparse(root).netloc
                try:
                    self.s3().head_bucket(Bucket=bucket)
                except Exception as e:
                    raise ScanError(f"{root}: the bucket cannot be reached: {e}") from None
            elif not Path(root).exists():
                raise ScanError(f"{root}: no such file or folder")

    def walk(self) -> Iterator[Entry]:
        """Every file under the roots, lazily, in a stable order."""
        for root in self.roots:
            if root.startswith("s3://"):
                yield from self._walk_s3(root)
            elif Path(root).is_file():
                yield _stat(Path(root))
            else:
                for folder, subfolders, names in os.walk(root, followlinks=False):
                    subfolders.sort()
                    for name in sorted(names):
                        path = Path(folder) / name
                        if path.is_file() and not path.is_symlink():
                            yield _stat(path)

    def head(self, entry: Entry) -> bytes:
        """The first bytes, which tell whether the entry is a video."""
        try:
            if entry.remote:
                bucket, key = _split(entry.path)
                answer = self.s3().get_object(
                    Bucket=bucket, Key=key, Range=f"bytes=0-{HEAD_BYTES - 1}"
                )
                return answer["Body"].read()
            with open(entry.path, "rb") as f:
                return f.read(HEAD_BYTES)
        except Exception:  # unreadable: counted as not a video
            return b""

    def fetch(self, entry: Entry) -> Path:
        """A local path holding the entry's bytes (downloaded for an S3 object)."""
        if not entry.remote:
            entry.local = Path(entry.path)
            return entry.local
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=self.tmp_dir, prefix="s3-")
        os.close(handle)
        bucket, key = _split(entry.path)
        try:
            self.s3().download_file(bucket, key, name)
        except Exception as e:
            Path(name).unlink(missing_ok=True)
            raise OSError(f"{entry.path} could not be downloaded: {e}") from e
        entry.local = Path(name)
        return entry.local

    def release(self, entry: Entry) -> None:
        """Delete the downloaded copy of an S3 object."""
        if entry.remote and entry.local is not None:
            entry.local.unlink(missing_ok=True)
        entry.local = None

    def s3(self):
        if self._client is None:
            try:
                import boto3
            except ImportError:
                raise ScanError("s3:// paths need boto3: pip install 'verity[s3]'") from None
            self._client = boto3.client("s3", endpoint_url=self.s3_endpoint_url or None)
        return self._client

    def _walk_s3(self, root: str) -> Iterator[Entry]:
        bucket, prefix = _split(root)
        pages = self.s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                if item["Key"].endswith("/"):
                    continue
                yield Entry(
                    f"s3://{bucket}/{item['Key']}",
                    item["Size"],
                    int(item["LastModified"].timestamp() * 1e9),
                )


def _stat(path: Path) -> Entry:
    info = path.stat()
    return Entry(str(path.resolve()), info.st_size, info.st_mtime_ns)


def _split(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    return parsed.netloc, parsed.path.lstrip("/")
