"""A slowly panning textured scene, and the copies a platform makes of a clip: the fingerprint
tests' material (a camera's footage changes little from frame to frame; the demo clip's wrapping
colours do not)."""

import numpy as np
from PIL import Image, ImageDraw

from .h264 import write_h264


def scene(seed: int, seconds: float = 6, fps: int = 25, size=(480, 270)) -> list[np.ndarray]:
    """Frames of a camera panning slowly across a smooth random landscape."""
    width, height = size
    count = int(seconds * fps)
    step = width / (12 * fps)  # a frame's width every 12 seconds
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (12, 12 + int(12 * seconds / 12), 3), dtype=np.uint8)
    world_width = width + int(count * step) + 1
    world = np.asarray(Image.fromarray(coarse).resize((world_width, height), Image.BICUBIC))
    frames = []
    for i in range(count):
        x = int(i * step)
        frame = world[:, x : x + width].copy()
        frame += rng.integers(0, 4, frame.shape, dtype=np.uint8)  # sensor noise
        frames.append(frame)
    return frames


def cropped(frames, share: float = 0.10):
    h, w = frames[0].shape[:2]
    dy, dx = int(h * share) // 2 * 2, int(w * share) // 2 * 2
    return [np.ascontiguousarray(f[dy : h - dy, dx : w - dx]) for f in frames]


def captioned(frames):
    out = []
    for f in frames:
        image = Image.fromarray(f)
        draw = ImageDraw.Draw(image)
        h, w = f.shape[:2]
        draw.rectangle([0, int(h * 0.88), w, h], fill=(0, 0, 0))
        draw.text((int(w * 0.04), int(h * 0.9)), "BREAKING NEWS", fill=(255, 255, 255))
        draw.rectangle(
            [int(w * 0.85), int(h * 0.04), int(w * 0.96), int(h * 0.12)], fill=(220, 0, 0)
        )
        out.append(np.asarray(image))
    return out


def smaller(frames, height: int):
    h, w = frames[0].shape[:2]
    width = round(w * height / h) // 2 * 2
    return [np.asarray(Image.fromarray(f).resize((width, height), Image.BILINEAR)) for f in frames]


def write(path, frames, fps: int = 25, crf: int = 23):
    return write_h264(path, frames, fps=fps, crf=crf)
