"""Open a file, say what it is, and enforce the limits before a single frame is decoded."""

import hashlib
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
from PIL import ExifTags, Image

from .errors import (
    CorruptMedia,
    MediaTooLarge,
    MediaUnreadable,
    NotAVideo,
    UnsupportedMedia,
)
from .report import MediaInfo
from .settings import Settings
from .sniff import HEAD_BYTES, NOT_VIDEO, Sniffed, sniff

# Demuxers that deliver a bare stream with no timestamps: frame rate and duration are guesses,
# and seeking is unreliable, so they are decoded front to back.
RAW_STREAM_FORMATS = {"h264", "hevc", "mpegvideo", "m4v"}
# Demuxers whose seeking is absent or lands on arbitrary frames.
UNSEEKABLE_FORMATS = RAW_STREAM_FORMATS | {"gif", "webp_pipe", "mpegts"}
MAX_TAGS = 200
MAX_TAG_CHARS = 1000


@dataclass
class Probe:
    """What the decoder needs to know about a file, beside the MediaInfo that goes in the Report."""

    path: Path
    info: MediaInfo
    backend: Literal["av", "pillow"]
    seekable: bool
    keyframes_s: list[float] = field(default_factory=list)


def probe(path: Path, settings: Settings, with_hash: bool = True) -> Probe:
    """Read a file's header and metadata; raise a MediaError for anything Verity cannot analyse.

    ``with_hash=False`` skips reading the whole file for its SHA-256 (left empty)."""
    path = Path(path)
    size = _stat_size(path, settings)
    sniffed = _sniff_file(path)
    if not sniffed.is_video:
        raise NotAVideo(f"this is {NOT_VIDEO[sniffed.kind]}, not a video")
    _check_pixels(sniffed.width, sniffed.height, settings)
    sha256 = file_sha256(path) if with_hash else ""
    if sniffed.kind == "webp":
        return _probe_webp(path, size, sha256, settings)
    return _probe_av(path, size, sha256, sniffed, settings)


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """The hex SHA-256 of a file, read in chunks so memory stays flat."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while block := f.read(chunk):
                digest.update(block)
    except OSError as e:
        raise MediaUnreadable(f"read failed: {e.strerror or e}") from e
    return digest.hexdigest()


def _stat_size(path: Path, settings: Settings) -> int:
    if not path.exists():
        raise MediaUnreadable("no such file")
    if path.is_dir():
        raise MediaUnreadable("is a directory, not a video file")
    try:
        size = path.stat().st_size
    except OSError as e:
        raise MediaUnreadable(f"cannot be read: {e.strerror or e}") from e
    if size == 0:
        raise CorruptMedia("the file is empty (0 bytes)")
    if size > settings.max_bytes:
        raise MediaTooLarge(f"{size:,} bytes is over the limit of {settings.max_bytes:,} bytes")
    return size


def _sniff_file(path: Path) -> Sniffed:
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError as e:
        raise MediaUnreadable(f"cannot be read: {e.strerror or e}") from e
    return sniff(head)


def _check_pixels(width: int | None, height: int | None, settings: Settings) -> None:
    if width and height and width * height > settings.max_pixels:
        raise MediaTooLarge(
            f"frames of {width}x{height} are over the limit of {settings.max_pixels:,} pixels"
        )


def _check_duration(duration_s: float | None, settings: Settings) -> None:
    if duration_s is not None and duration_s > settings.max_duration_s:
        raise MediaTooLarge(
            f"a duration of {duration_s:,.0f} s is over the limit of "
            f"{settings.max_duration_s:,.0f} s"
        )


def _probe_av(path: Path, size: int, sha256: str, sniffed: Sniffed, settings: Settings) -> Probe:
    try:
        # export_xmp: the MOV/MP4 demuxer hands XMP packets over as the "xmp" tag
        container = av.open(str(path), metadata_errors="ignore", options={"export_xmp": "1"})
    except av.FFmpegError as e:
        if sniffed.kind == "unknown":
            raise UnsupportedMedia("not a recognised video format") from e
        raise CorruptMedia(f"the {sniffed.kind} container cannot be read: {e}") from e
    except OSError as e:
        raise MediaUnreadable(f"cannot be read: {e}") from e
    with container:
        fmt = container.format.name
        if not container.streams.video:
            what = "audio only" if container.streams.audio else "holds no video stream"
            raise NotAVideo(f"{what}, not a video")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        if ctx is None:  # FFmpeg found a video stream but no decoder for what it holds
            raise CorruptMedia("the video stream's codec is unknown or damaged")
        width, height = ctx.width, ctx.height
        if not width or not height:
            raise CorruptMedia("the video stream states no frame size")
        _check_pixels(width, height, settings)

        raw = fmt in RAW_STREAM_FORMATS
        fps, fps_assumed = _frame_rate(stream, raw)
        frame_count = stream.frames or None
        duration_s = _duration(container, stream)
        if frame_count is None and (raw or fmt == "gif" or duration_s is None):
            frame_count = _count_packets(container, stream)
        if duration_s is None and frame_count and fps:
            duration_s = frame_count / fps
        # an image format, or a GIF of one frame, is a still; a video container holding a single
        # frame (a poster clip, a test fixture) is analysed: its provenance and marks count
        if (fmt.endswith("_pipe") and fmt != "webp_pipe") or (fmt == "gif" and frame_count == 1):
            raise NotAVideo("a single still image, not a video")
        _check_duration(duration_s, settings)

        keyframes = [] if fmt in UNSEEKABLE_FORMATS else _keyframe_times(stream)
        info = MediaInfo(
            file_name=path.name,
            sha256=sha256,
            bytes=size,
            container=fmt,
            codec=ctx.name,
            width=width,
            height=height,
            fps=round(fps, 3) if fps else None,
            fps_assumed=fps_assumed,
            variable_frame_rate=_is_variable(stream),
            duration_s=round(duration_s, 3) if duration_s is not None else None,
            frame_count=frame_count,
            has_audio=bool(container.streams.audio),
            tags=_tags(container),
        )
        return Probe(path, info, "av", seekable=bool(keyframes), keyframes_s=keyframes)


def _frame_rate(stream: av.video.stream.VideoStream, raw: bool) -> tuple[float | None, bool]:
    rate: Fraction | None = stream.average_rate or stream.guessed_rate or stream.base_rate
    if not rate:
        return None, True
    return float(rate), raw  # a raw stream's rate is FFmpeg's default guess, not the file's


def _duration(container: av.container.InputContainer, stream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _is_variable(stream) -> bool:
    avg, base = stream.average_rate, stream.base_rate
    return bool(avg and base and abs(float(avg) - float(base)) > 0.01 * float(base))


def _count_packets(container, stream) -> int | None:
    """Count frames by demuxing without decoding: cheap, and the only way for raw streams."""
    count = 0
    try:
        for packet in container.demux(stream):
            if packet.size:
                count += 1
    except av.FFmpegError:
        pass  # a damaged tail: count what was readable, decoding will say more
    return count or None


def _keyframe_times(stream) -> list[float]:
    """Keyframe presentation times from the container's index, without decoding.

    MP4 indexes hold decode timestamps; with B-frames those run ahead of presentation times by
    a constant delay, which the first entry shows (its DTS is negative where its PTS is 0).
    """
    tb = stream.time_base
    try:
        entries = list(stream.index_entries)
    except (av.FFmpegError, AttributeError):
        return []
    if tb is None or not entries:
        return []
    start = stream.start_time or 0
    delay = max(start - entries[0].timestamp, 0)
    return sorted(float((e.timestamp + delay - start) * tb) for e in entries if e.is_keyframe)


def _tags(container) -> dict[str, str]:
    tags: dict[str, str] = {}
    sources = [("", container.metadata)]
    sources += [
        (f"{s.type}:", s.metadata) for s in container.streams if s.type in ("video", "audio")
    ]
    for prefix, metadata in sources:
        for key, value in metadata.items():
            if len(tags) >= MAX_TAGS:
                return tags
            tags.setdefault(f"{prefix}{key}", str(value)[:MAX_TAG_CHARS])
    return tags


def _probe_webp(path: Path, size: int, sha256: str, settings: Settings) -> Probe:
    """Animated WebP: FFmpeg's webp demuxer cannot animate it, Pillow can."""
    try:
        with Image.open(path) as im:
            width, height = im.size
            _check_pixels(width, height, settings)
            n = getattr(im, "n_frames", 1)
            im.load()  # Pillow fills in the frame duration only once a frame is loaded
            first_ms = im.info.get("duration") or 0
            metadata = {k: str(v)[:MAX_TAG_CHARS] for k, v in im.info.items() if isinstance(v, str)}
            if "xmp" in im.info:
                metadata["xmp"] = _as_text(im.info["xmp"])
            metadata.update(_exif_tags(im.getexif()))
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise CorruptMedia(f"the WebP file cannot be read: {e}") from e
    if n < 2:
        raise NotAVideo("a single still image, not a video")
    duration_s = n * first_ms / 1000 if first_ms else None
    _check_duration(duration_s, settings)
    info = MediaInfo(
        file_name=path.name,
        sha256=sha256,
        bytes=size,
        container="webp",
        codec="webp",
        width=width,
        height=height,
        fps=round(1000 / first_ms, 3) if first_ms else None,
        fps_assumed=not first_ms,
        duration_s=round(duration_s, 3) if duration_s else None,
        frame_count=n,
        tags=metadata,
    )
    return Probe(path, info, "pillow", seekable=False)


def _as_text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return text[:MAX_TAG_CHARS]


def _exif_tags(exif: Image.Exif) -> dict[str, str]:
    """EXIF text tags. ComfyUI stores its workflow and prompt JSON in Make and Model; those are
    reduced to the model files they name, which is what says how the clip was made."""
    tags: dict[str, str] = {}
    for tag_id, value in exif.items():
        if not isinstance(value, str):
            continue
        if value.startswith(("workflow:", "prompt:")):
            models = sorted(set(re.findall(r"[\w.\-]+\.(?:safetensors|ckpt|gguf|pth?)", value)))
            tags["comfyui:workflow"] = "embedded"
            tags["comfyui:models"] = ", ".join(models)[:MAX_TAG_CHARS]
            continue
        tags[f"exif:{ExifTags.TAGS.get(tag_id, str(tag_id))}"] = value[:MAX_TAG_CHARS]
    return tags
