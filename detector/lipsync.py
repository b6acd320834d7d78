"""Whether a face's mouth moves with the speech: the audio-visual offset and a confidence, in
the manner of SyncNet (Chung and Zisserman, 2016), without its learned embeddings (no model for
them ships in a registry package). The mouth's motion from frame to frame (the change of a patch
below the nose) is set against the change of the sound's loudness over the same frame steps,
shifted by every offset up to ``MAX_OFFSET`` frames either way, pooled over every window with a
face. The offset is where they agree best; the confidence is how far that agreement stands
above the median over offsets, as SyncNet reports it.

It is a measurement, not evidence: a re-dub whose lips were re-synced (Wav2Lip, the generators
of talking heads) is in sync by construction, and a real clip with music or a voice-over is not.
A large offset with some confidence says the sound was moved against the picture, which a desk
may want to know.
"""

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from .faces import Face

MAX_OFFSET = 6  # frames either way: 0.24 s at 25 fps
SAMPLE_RATE = 16_000
MOUTH = (0.5, 0.3)  # the mouth patch's width and height, as shares of the face's size
PATCH = (32, 16)  # the patch is compared at this size, whatever the face's


@dataclass(frozen=True)
class Sync:
    offset_s: float  # positive: the sound comes later than the mouth moves
    offset_frames: int
    confidence: float  # best agreement minus the median over offsets
    correlation: float  # the agreement (Pearson) at the best offset
    steps: int  # frame steps compared


def mouth_motion(frames: list[np.ndarray], faces: list[Face]) -> np.ndarray:
    """How much the mouth changes from each frame to the next: [len(frames) - 1]. Both frames of
    a step are cut with the first one's box, so the detector's jitter adds nothing."""
    import cv2

    steps = []
    for (a, b), face in zip(pairwise(frames), faces, strict=False):
        x, y = face.keypoints[3] if len(face.keypoints) > 3 else _centre(face)
        w, h = MOUTH[0] * face.size, MOUTH[1] * face.size
        x0, y0 = max(int(x - w / 2), 0), max(int(y - h / 2), 0)
        x1, y1 = int(x + w / 2), int(y + h / 2)
        if x1 - x0 < 4 or y1 - y0 < 4:
            steps.append(0.0)
            continue
        patches = [
            cv2.resize(cv2.cvtColor(f[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY), PATCH).astype(np.float32)
            for f in (a, b)
        ]
        steps.append(float(np.abs(patches[1] - patches[0]).mean()))
    return np.asarray(steps, np.float32)


def loudness_steps(
    path: Path, windows: list[tuple[float, int]], fps: float
) -> list[np.ndarray | None]:
    """For each window (start_s, steps): the change of loudness (RMS) over ``steps`` frame
    steps from ``start_s``, with ``MAX_OFFSET`` steps more on either side, [steps + 2 *
    MAX_OFFSET]; None without sound. The file is opened once; each window is a seek."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return [None] * len(windows)
            stream = container.streams.audio[0]
            return [_loudness(container, stream, start, fps, steps) for start, steps in windows]
    except (av.FFmpegError, OSError, ValueError):
        return [None] * len(windows)


def _loudness(container, stream, start_s: float, fps: float, steps: int) -> np.ndarray | None:
    import av

    begin = start_s - MAX_OFFSET / fps
    frames = steps + 1 + 2 * MAX_OFFSET
    per_frame = SAMPLE_RATE / fps
    wanted = int(frames * per_frame) + 1
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    container.seek(int(max(begin, 0) / stream.time_base), stream=stream)
    chunks, first = [], None
    for decoded in container.decode(stream):
        for out in resampler.resample(decoded):
            if first is None:
                first = float(out.time if out.time is not None else decoded.time or 0)
            chunks.append(out.to_ndarray().reshape(-1))
        if first is not None and sum(map(len, chunks)) >= (begin - first) * SAMPLE_RATE + wanted:
            break
    if not chunks:
        return None
    sound = np.concatenate(chunks)
    skip = round((begin - first) * SAMPLE_RATE)
    sound = np.pad(sound, (max(-skip, 0), 0))[max(skip, 0) :]
    sound = np.pad(sound, (0, max(wanted - len(sound), 0)))[:wanted]
    edges = (np.arange(frames + 1) * per_frame).astype(int)
    rms = np.array([np.sqrt(np.mean(sound[a:b] ** 2) + 1e-12) for a, b in pairwise(edges)])
    return np.abs(np.diff(rms)).astype(np.float32)


def sync(pairs: list[tuple[np.ndarray, np.ndarray]], fps: float) -> Sync | None:
    """The offset and confidence over windows of (mouth motion [n], loudness steps [n + 2M]):
    each offset's Pearson correlation over every window's steps together."""
    pairs = [(m, s) for m, s in pairs if len(m) >= 3 and len(s) == len(m) + 2 * MAX_OFFSET]
    if not pairs or np.std(np.concatenate([m for m, _ in pairs])) == 0:
        return None
    offsets = range(-MAX_OFFSET, MAX_OFFSET + 1)
    agreement = []
    for offset in offsets:
        mouth = np.concatenate([_z(m) for m, _ in pairs])
        start = MAX_OFFSET + offset
        sound = np.concatenate([_z(s[start : start + len(m)]) for m, s in pairs])
        agreement.append(float(np.mean(mouth * sound)))
    best = int(np.argmax(agreement))
    return Sync(
        offset_s=round(offsets[best] / fps, 3),
        offset_frames=offsets[best],
        confidence=round(agreement[best] - float(np.median(agreement)), 4),
        correlation=round(agreement[best], 4),
        steps=sum(len(m) for m, _ in pairs),
    )


def _z(x: np.ndarray) -> np.ndarray:
    spread = x.std()
    return (x - x.mean()) / spread if spread > 0 else np.zeros_like(x)


def _centre(face: Face) -> tuple[float, float]:
    x0, y0, x1, y1 = face.box
    return (x0 + x1) / 2, y0 + 0.75 * (y1 - y0)
