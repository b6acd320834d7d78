"""Bytes coming in: an upload streamed from a multipart request, or a body fetched from a URL,
written to a temporary file with a running SHA-256 and a size cap. A refused file leaves
nothing behind."""

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from detector.sniff import HEAD_BYTES, Sniffed, sniff

FILE_FIELD = b"file"
MAX_FILENAME = 200
MAX_HEADER_BYTES = 16 * 1024  # a part's header line; long file names fit, endless ones do not


class Rejected(Exception):
    """The request's media is refused; ``status`` is the HTTP status that says why."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Received:
    path: Path
    sha256: str
    size: int
    filename: str


class Sink:
    """A temporary file that hashes and counts what is written, refusing more than max_bytes."""

    def __init__(self, tmp_dir: Path, max_bytes: int):
        tmp_dir.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=tmp_dir, prefix="in-")
        self.file = os.fdopen(handle, "wb")
        self.path = Path(name)
        self.max_bytes = max_bytes
        self.size = 0
        self.hash = hashlib.sha256()
        self.head = b""  # the first bytes, which tell what the file is

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise Rejected(413, f"the file is larger than the limit of {self.max_bytes} bytes")
        self.hash.update(data)
        self.file.write(data)
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]

    def sniffed(self) -> Sniffed:
        return sniff(self.head)

    def finish(self, filename: str) -> Received:
        """Close the file, check that it is a video, and hand it over."""
        self.file.close()
        sniffed = self.sniffed()
        if not sniffed.is_known_video:
            raise Rejected(415, f"this is {sniffed.describe()}, not a video")
        return Received(self.path, self.hash.hexdigest(), self.size, safe_filename(filename))

    def discard(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


async def receive_body(request: Request, tmp_dir: Path, max_bytes: int, filename: str) -> Received:
    """Stream a request's whole body (the file itself, as the soft-binding API sends it) to
    disk without holding it in memory."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise Rejected(413, f"the file is larger than the limit of {max_bytes} bytes")
    sink = Sink(tmp_dir, max_bytes)
    try:
        async for chunk in request.stream():
            sink.write(chunk)
        return sink.finish(filename)
    except Rejected:
        sink.discard()
        raise
    except Exception as e:  # a client that went away: keep nothing
        sink.discard()
        raise Rejected(422, f"the body could not be read: {type(e).__name__}") from e


async def receive_upload(request: Request, tmp_dir: Path, max_bytes: int) -> Received:
    """Stream the ``file`` field of a multipart body to disk without holding it in memory."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + 64 * 1024:
        raise Rejected(413, f"the file is larger than the limit of {max_bytes} bytes")
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not boundary:
        raise Rejected(422, "a multipart/form-data body with a boundary is required")
    sink = Sink(tmp_dir, max_bytes)
    part = _Part()
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": part.begin,
            "on_header_field": part.header_field,
            "on_header_value": part.header_value,
            "on_header_end": part.header_end,
            "on_headers_finished": part.headers_finished,
            "on_part_data": lambda data, start, end: part.data(sink, data[start:end]),
        },
        max_header_size=MAX_HEADER_BYTES,
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        if not part.found:
            raise Rejected(422, "the multipart body has no field named 'file'")
        return sink.finish(part.filename)
    except Rejected:
        sink.discard()
        raise
    except Exception as e:  # a malformed body or a client that went away: keep nothing
        sink.discard()
        raise Rejected(422, f"the upload could not be read: {type(e).__name__}") from e


class _Part:
    """Follows the headers of each part to find the one named ``file``."""

    def __init__(self) -> None:
        self.found = False
        self.filename = ""
        self.writing = False
        self._field = b""
        self._value = b""
        self._headers: dict[bytes, bytes] = {}

    def begin(self) -> None:
        self._headers, self.writing = {}, False

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if options.get(b"name") == FILE_FIELD and not self.found:
            self.found = self.writing = True
            self.filename = options.get(b"filename", b"").decode("utf-8", "replace")

    def data(self, sink: Sink, chunk: bytes) -> None:
        if self.writing:
            sink.write(chunk)


def safe_filename(name: str) -> str:
    """The client's file name, kept only as a label: no folders, no control characters, short."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".")
    return name[:MAX_FILENAME] or "upload"
