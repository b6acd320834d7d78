"""Small JPEG pictures of a report's key frames, for HTML reports. The Report carries no image
bytes: the pictures are made from the key frames the analysis decoded
(``analyze_keeping_stills``), or, for a Report whose analysis is over, decoded again."""

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .decode import decode_stills
from .frames import Frame
from .probe import probe
from .settings import Settings, get_settings


@dataclass(frozen=True)
class Thumbnail:
    time_s: float
    jpeg: bytes
    width: int
    height: int


def thumbnails_of(frames: list[Frame], width: int = 320) -> list[Thumbnail]:
    """JPEGs at most ``width`` pixels wide of ``frames``."""
    out = []
    for frame in frames:
        image = Image.fromarray(frame.rgb)
        if image.width > width:
            image = image.resize((width, max(round(image.height * width / image.width), 1)))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=80)
        out.append(Thumbnail(frame.time_s, buffer.getvalue(), image.width, image.height))
    return out


def key_frame_thumbnails(
    path: str | Path, times_s: list[float], settings: Settings | None = None, width: int = 320
) -> list[Thumbnail]:
    """The same of the frames nearest ``times_s``, decoded again from the file."""
    probed = probe(Path(path), settings or get_settings(), with_hash=False)
    return thumbnails_of(decode_stills(probed, times_s), width)
