"""Tell what a file is from its first bytes, before any demuxer sees it.

A clear "this is a PDF, not a video" beats FFmpeg's "Invalid data found", and batch scans use the
same answer to pick video files by their bytes rather than their extension.
"""

from dataclasses import dataclass

HEAD_BYTES = 64 * 1024

# Kinds that are certainly not video, with the words the error message uses.
NOT_VIDEO = {
    "pdf": "a PDF document",
    "png": "a PNG still image",
    "jpeg": "a JPEG still image",
    "heif": "a HEIF/AVIF still image",
    "webp_still": "a still WebP image",
    "zip": "a ZIP archive (or an Office document)",
    "wav": "a WAV audio file",
    "mp3": "an MP3 audio file",
    "flac": "a FLAC audio file",
    "html": "an HTML page",
    "text": "a text file",
}

# Kinds that certainly hold a video container; batch scans and uploads accept only these.
VIDEO_KINDS = {"isobmff", "matroska", "avi", "gif", "webp", "h26x", "mpeg-ts", "mpeg-ps", "flv"}

_ISO_BOX_TYPES = {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot", b"uuid"}
_STILL_BRANDS = {b"heic", b"heix", b"mif1", b"avif"}  # image sequences (msf1, avis) are not refused


@dataclass(frozen=True)
class Sniffed:
    kind: str
    width: int | None = None  # where the header states the frame size cheaply (GIF, WebP)
    height: int | None = None

    @property
    def is_video(self) -> bool:
        """True for kinds that may hold a video; ``unknown`` is left to the demuxer to decide."""
        return self.kind not in NOT_VIDEO

    @property
    def is_known_video(self) -> bool:
        """True for the container kinds that certainly hold video."""
        return self.kind in VIDEO_KINDS

    def describe(self) -> str:
        """What the file looks like, in the words an error message uses."""
        if self.kind == "empty":
            return "an empty file"
        return NOT_VIDEO.get(self.kind, "not a video container Verity recognises")


def sniff(head: bytes) -> Sniffed:
    """Identify a file from its first bytes (``HEAD_BYTES`` are plenty)."""
    if not head:
        return Sniffed("empty")
    if head.startswith(b"%PDF"):
        return Sniffed("pdf")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("png")
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("jpeg")
    if head.startswith(b"PK\x03\x04"):
        return Sniffed("zip")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        width = int.from_bytes(head[6:8], "little")
        height = int.from_bytes(head[8:10], "little")
        return Sniffed("gif", width, height)  # still or animated: the probe counts frames
    if head[:4] == b"RIFF" and len(head) >= 12:
        form = head[8:12]
        if form == b"AVI ":
            return Sniffed("avi")
        if form == b"WAVE":
            return Sniffed("wav")
        if form == b"WEBP":
            return _sniff_webp(head)
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return Sniffed("matroska")
    if len(head) >= 12 and head[4:8] in _ISO_BOX_TYPES:
        if head[4:8] == b"ftyp" and head[8:12] in _STILL_BRANDS:
            return Sniffed("heif")
        return Sniffed("isobmff")
    if head[:3] == b"FLV":
        return Sniffed("flv")
    if head[:4] == b"OggS":
        return Sniffed("ogg")  # may hold Theora video; the demuxer decides
    if head[:4] == b"fLaC":
        return Sniffed("flac")
    if head[:3] == b"ID3" or (head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06):
        return Sniffed("mp3")
    if head[:4] == b"\x00\x00\x01\xba":
        return Sniffed("mpeg-ps")
    if head[0] == 0x47 and len(head) > 188 and head[188] == 0x47:
        return Sniffed("mpeg-ts")
    if _is_annex_b(head):
        return Sniffed("h26x")
    lowered = head[:512].lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return Sniffed("html")
    if _looks_like_text(head):
        return Sniffed("text")
    return Sniffed("unknown")


def _sniff_webp(head: bytes) -> Sniffed:
    chunk = head[12:16]
    if chunk == b"VP8X" and len(head) >= 30:
        animated = bool(head[20] & 0x02)
        width = 1 + int.from_bytes(head[24:27], "little")
        height = 1 + int.from_bytes(head[27:30], "little")
        return Sniffed("webp" if animated else "webp_still", width, height)
    return Sniffed("webp_still")  # simple VP8 / VP8L files hold one image


def _is_annex_b(head: bytes) -> bool:
    """Raw H.264/H.265 elementary stream: a start code, then a parameter set or delimiter."""
    for prefix in (b"\x00\x00\x00\x01", b"\x00\x00\x01"):
        if head.startswith(prefix):
            nal = head[len(prefix)]
            h264_type = nal & 0x1F
            h265_type = (nal >> 1) & 0x3F
            return h264_type in (6, 7, 9) or h265_type in (32, 33, 35, 39)
    return False


def _looks_like_text(head: bytes) -> bool:
    sample = head[:4096]
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(b < 9 or 13 < b < 32 for b in sample)
