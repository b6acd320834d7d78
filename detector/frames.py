"""The frame plan: which frames an analysis decodes, merged from every check's needs.

Decoding is the floor of the whole analysis, so the plan follows how codecs work. A seek lands on
the keyframe before its target and every frame after that keyframe must be decoded anyway, so on
seekable files windows and stills start *at* keyframes, read from the container's index without
decoding. Short or unseekable files (GIF, raw H.264, animated WebP) are decoded front to back once,
taking the planned frames as they pass. Either way no frame is decoded twice.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

import numpy as np

from .probe import Probe

# With fewer than this many frames in the file per planned frame, one front-to-back pass is
# cheaper than seeking (every seek restarts decoding at a keyframe).
SEQUENTIAL_IF_FILE_FRAMES_PER_PLANNED_FRAME = 3

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class FrameSpec:
    """What a check asks to see: ``stills`` single frames and ``windows`` runs of ``length``."""

    stills: int = 0
    windows: int = 0
    length: int = 1

    def merge(self, other: "FrameSpec") -> "FrameSpec":
        return FrameSpec(
            stills=max(self.stills, other.stills),
            windows=max(self.windows, other.windows),
            length=max(self.length, other.length),
        )


class Role(StrEnum):
    STILL = "still"
    WINDOW = "window"


@dataclass(frozen=True)
class Run:
    """Consecutive frames to take from ``start_s`` on; ``at_keyframe`` means a seek lands there."""

    role: Role
    start_s: float
    length: int
    at_keyframe: bool = False


@dataclass(eq=False)
class Frame:
    """One decoded frame. Its pixels become RGB on first use, so frames no check looks at cost
    nothing beyond decoding; ``rotation`` is counter-clockwise degrees (FFmpeg's convention)."""

    time_s: float
    key: bool
    pixels: Callable[[], np.ndarray] = field(repr=False)
    rotation: int = 0

    @cached_property
    def rgb(self) -> np.ndarray:
        """Height x width x 3, uint8, turned for display."""
        return to_rgb(self.pixels(), self.rotation)


@dataclass
class Frames:
    """The decoded frames every check shares."""

    stills: list[Frame] = field(default_factory=list)
    windows: list[list[Frame]] = field(default_factory=list)
    decoded: int = 0
    rotation: int = 0
    repeats: int = 0  # frames decoded at or before an earlier frame's time: should stay 0
    stopped_early: str | None = None  # why decoding ended before the plan was done

    @property
    def span(self) -> tuple[float, float]:
        times = [f.time_s for f in self.stills] + [f.time_s for w in self.windows for f in w]
        return (min(times), max(times)) if times else (0.0, 0.0)


@dataclass(frozen=True)
class FramePlan:
    runs: list[Run]
    seek: bool

    @property
    def planned_frames(self) -> int:
        return sum(r.length for r in self.runs)


def plan_frames(probe: Probe, spec: FrameSpec, max_frames: int) -> FramePlan:
    """Place the stills and windows of ``spec`` over the whole video."""
    info = probe.info
    fps = info.fps or 25.0
    duration = info.duration_s or max_frames / fps
    window_s = spec.length / fps
    planned = spec.stills + spec.windows * spec.length
    file_frames = info.frame_count or int(duration * fps)
    seek = (
        probe.seekable
        and len(probe.keyframes_s) > 1
        and file_frames > planned * SEQUENTIAL_IF_FILE_FRAMES_PER_PLANNED_FRAME
    )
    # Frame start times run from 0 to duration minus one frame: spread over exactly that.
    last_frame = max(duration - 1 / fps, 0.0)
    still_times = _spread(last_frame, spec.stills)
    window_times = _spread(max(last_frame - window_s + 1 / fps, 0.0), spec.windows)
    if not seek:
        runs = [Run(Role.STILL, t, 1) for t in still_times]
        runs += [Run(Role.WINDOW, t, spec.length) for t in window_times]
        return FramePlan(sorted(runs, key=lambda r: r.start_s), seek=False)
    keys = probe.keyframes_s
    stills = {_nearest(keys, t) for t in still_times}
    windows = {_at_or_before(keys, t) for t in window_times}
    runs = [Run(Role.STILL, t, 1, at_keyframe=True) for t in sorted(stills)]
    runs += [Run(Role.WINDOW, t, spec.length, at_keyframe=True) for t in sorted(windows)]
    return FramePlan(sorted(runs, key=lambda r: (r.start_s, r.role)), seek=True)


def _spread(end: float, n: int) -> list[float]:
    """``n`` times from 0 to ``end`` inclusive (one in the middle when ``n`` is 1)."""
    if n == 1:
        return [end / 2]
    return [end * i / (n - 1) for i in range(n)]


def _nearest(keys: list[float], t: float) -> float:
    return min(keys, key=lambda k: abs(k - t))


def _at_or_before(keys: list[float], t: float) -> float:
    earlier = [k for k in keys if k <= t + 1e-6]
    return max(earlier) if earlier else keys[0]


def to_rgb(image: np.ndarray, rotation: int) -> np.ndarray:
    """Turn a stored frame for display; ``rotation`` is counter-clockwise degrees (FFmpeg's)."""
    quarter_turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(image, quarter_turns)) if quarter_turns else image
