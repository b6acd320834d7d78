"""A video's perceptual fingerprint: 256-bit perceptual hashes (imagehash's pHash, 16 x 16 DCT
signs) of the frames the analysis decoded anyway, each over the whole frame and ten regions
within it, so a copy that was re-encoded, scaled, trimmed, sped up, captioned or cropped by up to
a tenth per side (on any sides), or boxed in black bars, still lands within ``MATCH_BITS``
of its original. Why pHash and these numbers:
``benchmarks/fingerprint_robustness.py`` and the README.

A frame too flat to say anything (a black or faded frame, whose hash every black frame shares)
is left out, and frames whose hashes barely differ from one already kept are kept once, so a
still shot costs one code per region.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import cv2
import imagehash
import numpy as np
from PIL import Image

from .frames import Frame, Frames

ALGORITHM = "verity.phash16.regions.v1"
BITS = 256
# Regions as (share of the height kept, share of the width kept, where the kept part sits: 0
# top or left, 0.5 centred, 1 bottom or right). A copy cropped by c on every side shows the
# original's centre (1 - 2c): the centred 90 % and 80 % cover 5 % and 10 % a side. A copy cropped
# on two adjacent sides shows a corner, on one side a side: the 90 % corners and sides.
REGIONS = {
    "full": (1.0, 1.0, 0.5, 0.5),
    "centre90": (0.9, 0.9, 0.5, 0.5),
    "centre80": (0.8, 0.8, 0.5, 0.5),
    "top_left90": (0.9, 0.9, 0.0, 0.0),
    "top_right90": (0.9, 0.9, 0.0, 1.0),
    "bottom_left90": (0.9, 0.9, 1.0, 0.0),
    "bottom_right90": (0.9, 0.9, 1.0, 1.0),
    "left90": (1.0, 0.9, 0.5, 0.0),
    "right90": (1.0, 0.9, 0.5, 1.0),
    "top90": (0.9, 1.0, 0.0, 0.5),
    "bottom90": (0.9, 1.0, 1.0, 0.5),
}
MATCH_BITS = 45  # a frame matches within this many differing bits of 256 (measured: README)
# A video matches an earlier one when this many of its fingerprinted frames (all, if it has
# fewer) each lie within MATCH_BITS of that video's codes: one frame alone may be a title card.
MIN_FRAMES_MATCHED = 2
SAME_BITS = 12  # frames of one video this close are the same picture, kept once
MIN_CONTRAST = 6.0  # grey-level standard deviation below which a frame is too flat to hash
BAR_LEVEL, BAR_SPREAD = 24, 4.0  # a letterbox bar's row: this dark on average, this flat
SHRINK_TO = 128  # frames are shrunk to this many pixels on the short side before hashing
WINDOW_STEP = 8  # every 8th frame of a classifier window is hashed


@dataclass(frozen=True)
class FrameCode:
    """One region of one frame: its time and its 256-bit hash (32 bytes)."""

    time_s: float
    region: str
    code: bytes

    def to_json(self) -> dict:
        """As the Report and the export keep it: ``{"t", "region", "hash"}`` (hexadecimal)."""
        return {"t": self.time_s, "region": self.region, "hash": self.code.hex()}

    @classmethod
    def from_json(cls, kept: dict) -> "FrameCode":
        return cls(float(kept["t"]), kept["region"], bytes.fromhex(kept["hash"]))


def frame_codes(rgb: np.ndarray, time_s: float) -> list[FrameCode]:
    """The hashes of one frame's regions; none if the frame is too flat."""
    grey = _without_black_bars(_shrunk_grey(rgb))
    if float(grey.std()) < MIN_CONTRAST:
        return []
    codes = []
    for region, part in regions(grey):
        bits = imagehash.phash(Image.fromarray(part), hash_size=16).hash
        codes.append(FrameCode(round(time_s, 3), region, np.packbits(bits.flatten()).tobytes()))
    return codes


def regions(grey: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    """Each of ``REGIONS`` cut from a frame, by name."""
    height, width = grey.shape
    for region, (tall, wide, down, across) in REGIONS.items():
        h, w = round(height * tall), round(width * wide)
        top, left = round((height - h) * down), round((width - w) * across)
        yield region, grey[top : top + h, left : left + w]


def fingerprint(frames: Frames) -> list[FrameCode]:
    """The fingerprint of an analysis's decoded frames: stills and every ``WINDOW_STEP``-th
    frame of each window, flat frames left out and repeats kept once."""
    chosen = list(frames.stills) + [f for w in frames.windows for f in w[::WINDOW_STEP]]
    return distinct(c for f in _in_time_order(chosen) for c in frame_codes(f.rgb, f.time_s))


def is_match(frames_matched: int, frames: int) -> bool:
    """Whether ``frames_matched`` of a video's ``frames`` fingerprinted frames make a match."""
    return frames_matched >= min(MIN_FRAMES_MATCHED, frames)


def distinct(codes: Iterable[FrameCode]) -> list[FrameCode]:
    """``codes`` without those within ``SAME_BITS`` of a kept code of the same region."""
    kept: dict[str, list[np.ndarray]] = {}
    out = []
    for c in codes:
        bits = np.unpackbits(np.frombuffer(c.code, np.uint8))
        same = kept.setdefault(c.region, [])
        if any(int((bits != k).sum()) <= SAME_BITS for k in same):
            continue
        same.append(bits)
        out.append(c)
    return out


def distances(query: Sequence[bytes], reference: Sequence[bytes]) -> np.ndarray:
    """Differing bits between every query code and every reference code, [query, reference]."""
    q = np.unpackbits(np.frombuffer(b"".join(query), np.uint8).reshape(len(query), -1), axis=1)
    r = np.unpackbits(
        np.frombuffer(b"".join(reference), np.uint8).reshape(len(reference), -1), axis=1
    )
    return (q[:, None, :] != r[None, :, :]).sum(axis=2)


def _shrunk_grey(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = SHRINK_TO / min(height, width)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


def _without_black_bars(grey: np.ndarray) -> np.ndarray:
    """The picture inside letterbox or pillarbox bars (rows and columns dark and flat), as
    platforms add them to fit a clip to their frame; the frame itself when that leaves less than
    a third of either side."""
    dark_rows = (grey.mean(axis=1) < BAR_LEVEL) & (grey.std(axis=1) < BAR_SPREAD)
    dark_columns = (grey.mean(axis=0) < BAR_LEVEL) & (grey.std(axis=0) < BAR_SPREAD)
    rows, columns = np.flatnonzero(~dark_rows), np.flatnonzero(~dark_columns)
    if len(rows) < grey.shape[0] / 3 or len(columns) < grey.shape[1] / 3:
        return grey
    return grey[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]


def _in_time_order(frames: list[Frame]) -> list[Frame]:
    seen: set[int] = set()
    unique = [f for f in frames if not (id(f) in seen or seen.add(id(f)))]
    return sorted(unique, key=lambda f: f.time_s)
