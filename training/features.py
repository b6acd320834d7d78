"""Frozen-backbone features, computed once per crop and kept on disk.

With the backbone frozen, everything the head learns from is the backbone's features of each
tube's frames. Computing them once per clip (and per view of it) makes training the head, and
cross-validating it K times, a matter of seconds. Each clip gets these views:

- ``delivered``: the windows the detector itself takes from the file (``model_windows`` of them,
  the card's grid of crops), so a head scored here is scored as in production;
- ``normalised``: the same from a format-normalised copy (augment.normalised_frames);
- ``augmented``: ``renditions`` random platform re-encodes of ``train_windows`` windows (none
  when ``renditions`` is 0);
- ``blended`` (face tubes of real clips only): ``blends`` self-blended copies of those windows'
  faces (self_blend.py), training fakes the face model learns blending boundaries from.

The tubes are the card's grid of crops (``crop`` "grid", the classifier) or the faces found in
each window (``crop`` "face", the faces model: ``crops`` is then the most faces per window). A
clip in which no face is found has no face tubes, and is left out of the faces model's data.

Features come from the backbone exported to ONNX and run by ONNX Runtime, as in production.
A clip's file is written when all its views are done, so an interrupted run resumes where it
stopped.
"""

import hashlib
import json
import random
import signal
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from detector import MediaError, Settings
from detector.faces import FaceDetector, face_tubes
from detector.model import default_providers, normalise, window_frames, window_tubes
from detector.settings import die_with_parent

from .augment import normalised_frames, reencode_window, sample_windows, write_clip
from .data import Clip
from .self_blend import self_blended

VIEWS = ("delivered", "normalised", "augmented", "blended")
Progress = Callable[[int, int], None]
LATER_DEFAULTS = {("crop", "grid"), ("blends", 0)}


@dataclass(frozen=True)
class TubeSpec:
    """How tubes are cut, and how many of each view; part of every cache file's key."""

    frames: int
    stride: int
    size: int
    crops: int
    max_short_side: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    delivered_windows: int = 8
    train_windows: int = 4
    renditions: int = 3
    seed: int = 0
    crop: str = "grid"  # "grid": the card's grid of crops; "face": the faces found
    blends: int = 0  # self-blended copies of each training window (face tubes of real clips)

    def key(self, clip: Clip, backbone: str) -> str:
        # fields added since the first caches count only when set, so those caches stay valid
        spec = {k: v for k, v in asdict(self).items() if (k, v) not in LATER_DEFAULTS}
        text = json.dumps([str(clip.path), spec, backbone], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:24]


def tube_batch(
    window: list[np.ndarray], spec: TubeSpec, stride: int | None = None, blend: int | None = None
) -> np.ndarray:
    """One window's RGB frames -> the model's input for its tubes, float32 [C, T, 3, H, W]
    (C may be 0: a window without a face). ``blend``: the seed of a self-blended copy."""
    taken = window_frames(window, spec.frames, stride or spec.stride)
    if spec.crop == "grid":
        tubes, _ = window_tubes(taken, spec.size, spec.crops, spec.max_short_side)
    else:
        alter = None if blend is None else _blender(blend)
        detector = _face_detector()
        found = [detector(rgb) for rgb in taken]
        cut = face_tubes(taken, found, spec.size, spec.crops, alter)
        tubes = np.stack([t.pixels for t in cut]) if cut else np.zeros((0, len(taken), 0, 0, 3))
    return normalise(tubes, list(spec.mean), list(spec.std))


def _blender(seed: int):
    """Self-blending with one draw of its changes for every frame of a tube, as a swap is."""
    return lambda rgb, face: self_blended(rgb, face, np.random.default_rng(seed)).image


@lru_cache(maxsize=1)
def _face_detector() -> FaceDetector:
    return FaceDetector(threads=1)


def compute(
    clips: list[Clip],
    spec: TubeSpec,
    backbone_onnx: Path,
    backbone: str,
    folder: Path,
    workers: int = 2,
    progress: Progress | None = None,
) -> list[dict[str, np.ndarray] | None]:
    """Each clip's views as float16 arrays [tubes, T, F] (None: unreadable clip),
    computed where the cache in ``folder`` lacks them. ``backbone`` names the backbone and its
    weights (their sha256) for the cache key."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{spec.key(clip, backbone)}.npz" for clip in clips]
    todo = [(clip, spec, backbone_onnx, path) for clip, path in zip(clips, paths, strict=True)]
    todo = [job for job in todo if not job[3].exists()]
    done = len(clips) - len(todo)
    if todo:
        with worker_pool(workers) as pool:
            for _ in pool.map(_compute_clip, todo):
                done += 1
                if progress:
                    progress(done, len(clips))
    return [_load(path) for path in paths]


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """Processes for per-clip work (features, crops) that end with the command: Ctrl-C is the
    command's to act on (it stops the pool), and a worker whose command was killed dies too."""
    return ProcessPoolExecutor(max_workers=workers, initializer=_init_worker)


def _init_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(signal.SIGKILL)


def _load(path: Path) -> dict[str, np.ndarray] | None:
    """A clip's views; None when it has no tube as delivered (unreadable, or no face)."""
    with np.load(path) as saved:
        views = {name: saved[name] for name in saved.files if len(saved[name])}
    return views if "delivered" in views else None


_SESSIONS: dict[Path, object] = {}


def _features(batch: np.ndarray, backbone_onnx: Path) -> np.ndarray:
    """[N, T, 3, H, W] -> [N, T, F] through the backbone: on a GPU where onnxruntime-gpu finds
    one, else one CPU thread per worker process."""
    import onnxruntime as ort

    if backbone_onnx not in _SESSIONS:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        available = set(ort.get_available_providers())
        providers = [p for p in default_providers(gpu=True) if p in available]
        _SESSIONS[backbone_onnx] = ort.InferenceSession(
            str(backbone_onnx), options, providers=providers
        )
    session = _SESSIONS[backbone_onnx]
    n, t = batch.shape[:2]
    if n == 0:
        return np.zeros((0, t, 0), np.float32)
    (out,) = session.run(None, {"images": batch.reshape(n * t, *batch.shape[2:])})
    return out.reshape(n, t, -1)


def _view(windows: list[list[np.ndarray]], spec: TubeSpec, onnx: Path, strides: list, blends: list):
    out = [
        _features(tube_batch(w, spec, s, b), onnx)
        for w, s, b in zip(windows, strides, blends, strict=True)
    ]
    # windows of different sizes (renditions) may have different numbers of crops, or no face
    out = [x for x in out if len(x)]
    return np.concatenate(out).astype(np.float16) if out else np.zeros((0,), np.float16)


def clip_windows(clip: Clip, spec: TubeSpec, settings: Settings) -> Iterator[tuple[str, tuple]]:
    """Each view's name and windows of RGB frames, with the stride to take each window's frames
    at and the seed of its self-blending (None: none), "delivered" first; each view is made
    only when asked for. Raises MediaError, ValueError or OSError for a clip that cannot be
    read."""
    length = spec.frames * spec.stride

    def plain(windows: list, stride: int = spec.stride) -> tuple:
        return windows, [stride] * len(windows), [None] * len(windows)

    yield "delivered", plain(sample_windows(clip.path, spec.delivered_windows, length, settings))
    with tempfile.TemporaryDirectory(prefix="verity-features-") as tmp:
        copy = write_clip(normalised_frames(clip.path, settings), Path(tmp) / "n.mp4", "mp4")
        normalised = plain(sample_windows(copy, spec.delivered_windows, length, settings))
    yield "normalised", normalised
    rng = random.Random(f"{spec.seed}-{clip.path}")
    sampled = sample_windows(clip.path, spec.train_windows, length, settings)
    renditions, strides = [], []
    for _ in range(spec.renditions):
        for window in sampled:
            renditions.append(reencode_window(window, rng))
            # another frame rate: sometimes consecutive frames instead of every stride-th
            strides.append(1 if rng.random() < 0.3 else spec.stride)
    yield "augmented", (renditions, strides, [None] * len(renditions))
    if spec.blends and not clip.fabricated:
        blended = [w for _ in range(spec.blends) for w in sampled]
        seeds = [rng.randrange(2**31) for _ in blended]
        yield "blended", (blended, [spec.stride] * len(blended), seeds)


def _compute_clip(job) -> None:
    clip, spec, onnx, path = job
    try:
        views = {}
        for view, (w, s, b) in clip_windows(clip, spec, Settings(threads=1)):
            views[view] = _view(w, spec, onnx, s, b)
            if not len(views["delivered"]):
                break  # no face as delivered: the clip is not the faces model's, stop here
    except (MediaError, ValueError, OSError):
        views = {}  # an unreadable clip: nothing to learn from; the evaluation counts it
    tmp_path = path.with_suffix(".tmp.npz")
    np.savez(tmp_path, **views)
    tmp_path.replace(path)
