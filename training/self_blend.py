"""Self-blended faces (Shiohara and Yamasaki, CVPR 2022): training fakes made from real faces
alone. A real frame's face is blended back into the same frame from a slightly changed copy of
itself (colours, sharpness, a small shift and scale), through a soft mask around the face. What
remains is what every face swap leaves, a blending boundary and a mismatch of colour and detail
across it, without the identity of any swap method, which is why it generalises across methods
the training never saw. The faces model learns from these beside the staged face clips
(features.py's ``blended`` view, ``verity train --crop face``).
"""

from dataclasses import dataclass

import cv2
import numpy as np

from detector.faces import Face

BLEND_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)  # the paper's: mostly a full blend
MAX_SHIFT = 0.03  # of the face's size, each way
MAX_SCALE = 0.05  # the copy is scaled by up to 5 % about the face's centre


@dataclass(frozen=True)
class Blended:
    image: np.ndarray  # height x width x 3, uint8: the frame with its face blended in
    mask: np.ndarray  # height x width, float32 in [0, 1]: how much of the copy each pixel took


def self_blended(rgb: np.ndarray, face: Face, rng: np.random.Generator) -> Blended:
    """``rgb`` with ``face`` blended into it from a changed copy of itself."""
    source = _changed(rgb, rng)
    source = _moved(source, face, rng)
    mask = _mask(rgb.shape[:2], face, rng) * rng.choice(BLEND_RATIOS)
    blended = mask[..., None] * source.astype(np.float32) + (1 - mask[..., None]) * rgb
    return Blended(np.clip(blended + 0.5, 0, 255).astype(np.uint8), mask.astype(np.float32))


def _changed(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Colour, brightness and contrast moved a little; sometimes blurred or sharpened."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-5, 5)) % 180
    hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.85, 1.15), 0, 255)
    out = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
    out = (out - 128) * rng.uniform(0.9, 1.1) + 128 + rng.uniform(-12, 12)
    out = np.clip(out, 0, 255).astype(np.uint8)
    kind = rng.integers(3)
    if kind == 1:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.5))
    elif kind == 2:
        soft = cv2.GaussianBlur(out, (0, 0), 1.0)
        out = cv2.addWeighted(out, 1.5, soft, -0.5, 0)
    return out


def _moved(rgb: np.ndarray, face: Face, rng: np.random.Generator) -> np.ndarray:
    """The copy shifted and scaled a little about the face's centre."""
    x0, y0, x1, y1 = face.box
    centre = ((x0 + x1) / 2, (y0 + y1) / 2)
    scale = 1 + rng.uniform(-MAX_SCALE, MAX_SCALE)
    matrix = cv2.getRotationMatrix2D(centre, 0.0, scale)
    matrix[:, 2] += rng.uniform(-MAX_SHIFT, MAX_SHIFT, 2) * face.size
    height, width = rgb.shape[:2]
    return cv2.warpAffine(rgb, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)


def _mask(shape: tuple[int, int], face: Face, rng: np.random.Generator) -> np.ndarray:
    """A soft ellipse over the face, its size and softness varied: where the copy shows."""
    x0, y0, x1, y1 = face.box
    mask = np.zeros(shape, np.float32)
    centre = (round((x0 + x1) / 2), round((y0 + y1) / 2 + (y1 - y0) * rng.uniform(0, 0.08)))
    axes = (
        max(1, round((x1 - x0) / 2 * rng.uniform(0.75, 1.0))),
        max(1, round((y1 - y0) / 2 * rng.uniform(0.85, 1.15))),
    )
    cv2.ellipse(mask, centre, axes, 0, 0, 360, 1.0, -1)
    soft = max(1.0, face.size * rng.uniform(0.03, 0.1))
    return cv2.GaussianBlur(mask, (0, 0), soft)
