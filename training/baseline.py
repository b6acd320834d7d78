"""The container-facts baseline: a logistic regression that sees only frame size, frame rate,
duration and container, never a pixel. What it scores is what packaging alone gives away; on
format-normalised copies, where those facts are the same for every clip, it knows nothing."""

import numpy as np

from detector import MediaError, Settings
from detector.probe import probe

from .data import Clip
from .evaluate import Scored

CONTAINERS = ("gif", "webp", "mp4", "matroska", "avi", "h264")  # words in FFmpeg's format names


def features(clip_path, settings: Settings) -> np.ndarray:
    info = probe(clip_path, settings, with_hash=False).info
    container = (info.container or "").lower()
    kinds = [
        float(any(k in container for k in (kind, kind.replace("mp4", "mov"))))
        for kind in CONTAINERS
    ]
    return np.array(
        [
            np.log1p(info.width or 0),
            np.log1p(info.height or 0),
            (info.fps or 0) / 30.0,
            np.log1p(info.duration_s or 0),
            *kinds,
        ]
    )


class ContainerBaseline:
    def __init__(self, settings: Settings, steps: int = 3000, rate: float = 0.1, l2: float = 1e-3):
        self.settings, self.steps, self.rate, self.l2 = settings, steps, rate, l2

    def fit(self, clips: list[Clip]) -> "ContainerBaseline":
        rows = []
        for clip in clips:
            try:
                rows.append((features(clip.path, self.settings), clip.fabricated))
            except MediaError:  # an unreadable clip has no container facts to learn from
                continue
        x = np.stack([r[0] for r in rows])
        y = np.array([float(r[1]) for r in rows])
        self.mean, self.std = x.mean(0), x.std(0) + 1e-6
        x = (x - self.mean) / self.std
        self.w, self.b = np.zeros(x.shape[1]), 0.0
        for _ in range(self.steps):  # plain gradient descent on the log loss
            p = 1 / (1 + np.exp(-(x @ self.w + self.b)))
            self.w -= self.rate * (x.T @ (p - y) / len(y) + self.l2 * self.w)
            self.b -= self.rate * float((p - y).mean())
        return self

    def score(self, clips: list[Clip]) -> list[Scored]:
        scored = []
        for clip in clips:
            try:
                x = (features(clip.path, self.settings) - self.mean) / self.std
            except MediaError as e:
                scored.append(Scored(clip, None, error=str(e)))
                continue
            scored.append(Scored(clip, float(1 / (1 + np.exp(-(x @ self.w + self.b))))))
        return scored
