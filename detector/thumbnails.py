"""Small JPEG pictures of a report's key frames, for HTML reports. Not part of an analysis:
keyframes decode cheaply, so re-reading them here keeps the Report free of image bytes."""

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .decode import decode_stills
from .probe import probe
from .settings import Settings, get_settings


@dataclass(frozen=True)
class Thumbnail:
    time_s: float
    jpeg: bytes
    width: int
    height: int


def key_frame_thumbnails(
    path: str | Path, times_s: list[float], settings: Settings | None = None, width: int = 320
) -> list[Thumbnail]:
    """JPEGs at most ``width`` pixels wide of the frames nearest ``times_s``."""
    probed = probe(Path(path), settings or get_settings(), with_hash=False)
    out = []
    for frame in decode_stills(probed, times_s):
        image = Image.fromarray(frame.rgb)
        if image.width > width:
            image = image.resize((width, max(round(image.height * width / image.width), 1)))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=80)
        out.append(Thumbnail(frame.time_s, buffer.getvalue(), image.width, image.height))
    return out
