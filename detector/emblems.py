"""Colour emblems: logos without readable text that a generator stamps near a corner, such as
Runway Gen-2's animated dots of pure red, green and blue.

An emblem is found from pixels of a bright, nearly pure green or blue (one channel high, the
other two low). Camera footage seldom has them: skies, foliage and screens mix their channels,
and red-dominant pixels (skin, fire, brake lights) are left out altogether. A place near a
corner that shows such pixels in most of the frames spread over the video, is small, keeps off
the frame's border and changes over time (an animated logo, or a still one over a moving picture;
a motionless scene does not count) is reported with its box and the frames it was seen in.

Measured on ../shared/data (one frame sample of eight stills per clip): all eight Runway Gen-2
clips, none of the 86 real clips, none of the other AI clips.
"""

from dataclasses import dataclass

import cv2
import numpy as np

WORK_SIDE = 360  # frames are examined with their short side at most this many pixels
BRIGHT = 180  # the dominant channel, of 255
PURITY = 0.4  # the other two channels average at most this share of the dominant one
PERSIST = 0.75  # share of the frames in which the emblem must be seen
REACH = 0.015  # how far (share of the short side) a sighting may move between frames
CORNER = 0.08  # an emblem lies within this share of the frame from two edges
AREA = (0.0005, 0.04)  # its area as a share of the frame's
MIN_CHANGE = 4.0  # mean absolute change (of 255) of its box and surroundings over time


@dataclass(frozen=True)
class Emblem:
    box: tuple[int, int, int, int]  # x, y, width, height in frame pixels
    frames: tuple[int, ...]  # indexes of the frames it was seen in


def find_emblems(frames: list[np.ndarray]) -> list[Emblem]:
    """Colour emblems that persist near a corner of ``frames`` (RGB, one size, spread over
    the video)."""
    if len(frames) < 2:
        return []
    height, width = frames[0].shape[:2]
    scale = min(1.0, WORK_SIDE / min(height, width))
    small = [_shrink(f, scale) for f in frames]
    h, w = small[0].shape[:2]
    radius = max(1, round(REACH * min(h, w)))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    masks = np.stack([_pure_colour(f) for f in small])
    seen = np.mean([cv2.dilate(m, disc) for m in masks], axis=0) >= PERSIST
    _, _, stats, _ = cv2.connectedComponentsWithStats(seen.astype(np.uint8), connectivity=8)
    emblems = []
    for x, y, bw, bh, area in stats[1:]:
        if not _placed_like_a_logo(x, y, bw, bh, area, w, h):
            continue
        if _change(small, x, y, bw, bh) < MIN_CHANGE:
            continue
        in_frames = tuple(i for i, m in enumerate(masks) if m[y : y + bh, x : x + bw].any())
        box = (x / scale, y / scale, bw / scale, bh / scale)
        emblems.append(Emblem(tuple(round(v) for v in box), in_frames))
    return emblems


def _shrink(rgb: np.ndarray, scale: float) -> np.ndarray:
    if scale >= 1.0:
        return rgb
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _pure_colour(rgb: np.ndarray) -> np.ndarray:
    """1 where a pixel is bright, nearly pure green or blue."""
    top = rgb.max(axis=-1).astype(np.int32)
    others = rgb.sum(axis=-1, dtype=np.int32) - top
    dominant = rgb.argmax(axis=-1)
    return ((top >= BRIGHT) & (others <= 2 * PURITY * top) & (dominant > 0)).astype(np.uint8)


def _placed_like_a_logo(x, y, bw, bh, area, w, h) -> bool:
    if not AREA[0] <= area / (w * h) <= AREA[1]:
        return False
    left, right, top, bottom = x, w - x - bw, y, h - y - bh
    if min(left, right, top, bottom) < 1:
        return False  # cut by the border: part of the scene
    near_side = min(left, right) < CORNER * w
    near_end = min(top, bottom) < CORNER * h
    return near_side and near_end


def _change(frames: list[np.ndarray], x, y, bw, bh) -> float:
    """Mean absolute deviation from the per-pixel median over time, in the box and a margin
    of half its size around it."""
    h, w = frames[0].shape[:2]
    x0, y0 = max(0, x - bw // 2), max(0, y - bh // 2)
    x1, y1 = min(w, x + bw + bw // 2), min(h, y + bh + bh // 2)
    patch = np.stack([f[y0:y1, x0:x1] for f in frames]).astype(np.float32)
    return float(np.abs(patch - np.median(patch, axis=0)).mean())
