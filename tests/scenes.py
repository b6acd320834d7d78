"""A slowly panning textured scene, and the copies a platform makes of a clip: the fingerprint
tests' material (a camera's footage changes little from frame to frame; the demo clip's wrapping
colours do not). And a drawn talking face, which the face detector takes for one."""

import cv2
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


def talking_face(
    seconds: float = 2,
    fps: int = 25,
    size=(640, 360),
    face: int = 90,
    tilt: float = 0.0,
    seed: int = 0,
) -> list[np.ndarray]:
    """Frames of a drawn head and shoulders (hair, eyes, brows, ears, nose, a mouth opening and
    closing) ``face`` pixels from ear to ear, drifting slowly to the right, turned ``tilt``
    degrees (counter-clockwise in the picture), before a backdrop of a colour ``seed`` picks."""
    width, height = size
    backdrop = tuple(int(v) for v in np.random.default_rng(seed).integers(30, 140, 3))
    frames = []
    for i in range(int(seconds * fps)):
        t = i / fps
        centre = (width // 2 + int(10 * t), height // 2)
        mouth = 0.5 + 0.5 * np.sin(8 * t)
        frame = _drawn_head(width, height, centre, face / 1.4, mouth, backdrop)
        if tilt:
            turn = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), tilt, 1.0)
            frame = cv2.warpAffine(frame, turn, (width, height), borderMode=cv2.BORDER_REFLECT)
        frames.append(frame)
    return frames


def _drawn_head(width: int, height: int, centre, s: float, mouth: float, backdrop) -> np.ndarray:
    def at(dx: float, dy: float) -> tuple[int, int]:
        return int(centre[0] + dx * s), int(centre[1] + dy * s)

    def axes(a: float, b: float) -> tuple[int, int]:
        return max(1, int(a * s)), max(1, int(b * s))

    shade = np.linspace(0, 40, width, dtype=np.float32)[None, :, None]
    image = np.clip(np.full((height, width, 3), backdrop, np.float32) + shade, 0, 255)
    image = np.ascontiguousarray(image.astype(np.uint8))
    line = max(2, int(0.03 * s))
    cv2.ellipse(image, at(0, 1.25), axes(1.3, 0.6), 0, 180, 360, (40, 60, 120), -1)  # shoulders
    cv2.rectangle(image, at(-0.3, 0.6), at(0.3, 1.0), (200, 150, 120), -1)  # neck
    cv2.ellipse(image, at(0, -0.15), axes(0.78, 0.95), 0, 0, 360, (50, 35, 25), -1)  # hair
    cv2.ellipse(image, at(0, 0), axes(0.68, 0.88), 0, 0, 360, (224, 172, 140), -1)  # face
    for side in (-1, 1):
        cv2.ellipse(image, at(side * 0.3, -0.12), axes(0.14, 0.07), 0, 0, 360, (245, 245, 245), -1)
        cv2.circle(image, at(side * 0.3, -0.12), int(0.06 * s), (60, 40, 30), -1)
        cv2.ellipse(image, at(side * 0.3, -0.26), axes(0.16, 0.04), 0, 180, 360, (60, 40, 30), line)
        cv2.ellipse(image, at(side * 0.68, 0), axes(0.08, 0.16), 0, 0, 360, (214, 160, 130), -1)
    cv2.line(image, at(0, -0.05), at(-0.05, 0.22), (190, 130, 105), line)  # nose
    cv2.ellipse(image, at(0, 0.45), axes(0.22, 0.03 + 0.05 * mouth), 0, 0, 360, (150, 60, 60), -1)
    return cv2.GaussianBlur(image, (0, 0), 1.2)
