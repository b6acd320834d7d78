"""Text in frames, read with RapidOCR (PP-OCRv4 Chinese and English models shipped inside the
rapidocr-onnxruntime wheel; it runs on ONNX Runtime and downloads nothing)."""

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from .errors import ConfigError

MIN_SCORE = 0.5


@dataclass(frozen=True)
class TextBox:
    text: str
    score: float
    box: tuple[int, int, int, int]  # x, y, width, height in frame pixels


# Frames are read at this width: wider ones shrink, narrower ones grow (marks on 256-pixel
# clips are a few pixels tall), but a frame grows no further than to a short side of
# DET_SHORT_SIDE, where RapidOCR's text detector reads any frame (it enlarges smaller ones itself).
OCR_WIDTH = 960
DET_SHORT_SIDE = 736


@cache
def _engine(threads: int):
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as e:  # installed with --no-deps by the Makefile
        raise ConfigError("rapidocr-onnxruntime is not installed; see the README") from e
    limits = {"intra_op_num_threads": threads, "inter_op_num_threads": 1} if threads else {}
    return RapidOCR(det_limit_type="min", det_limit_side_len=DET_SHORT_SIDE, **limits)


def ocr_scale(height: int, width: int) -> float:
    """The factor a frame is scaled by before it is read."""
    scale = OCR_WIDTH / width
    if scale > 1:  # a small frame: no larger than the detector will read it anyway
        scale = min(scale, max(DET_SHORT_SIDE / min(height, width), 1.0))
    return scale


def read_text(frames: list[np.ndarray], threads: int = 0) -> list[list[TextBox]]:
    """The text lines of each RGB frame, in frame pixels, read with at most ``threads`` threads
    (0: all cores). Lines are found frame by frame at ``ocr_scale``, then all frames' lines are
    recognised in one batch."""
    engine = _engine(threads)
    lines: list[tuple[int, float, np.ndarray]] = []  # frame index, scale, corner points
    crops: list[np.ndarray] = []
    for index, rgb in enumerate(frames):
        scale = ocr_scale(*rgb.shape[:2])
        image = cv2.cvtColor(_scaled(rgb, scale), cv2.COLOR_RGB2BGR)
        found, _ = engine.text_det(image)
        if found is None or len(found) == 0:
            continue
        found = engine.sorted_boxes(found)
        crops += engine.get_crop_img_list(image, found)
        lines += [(index, scale, points) for points in found]
    texts, _ = engine.text_rec(crops) if crops else ([], 0.0)
    out: list[list[TextBox]] = [[] for _ in frames]
    for (index, scale, points), (text, score) in zip(lines, texts, strict=True):
        if float(score) < MIN_SCORE or not text.strip():
            continue
        xs, ys = points[:, 0] / scale, points[:, 1] / scale
        left, top = int(xs.min()), int(ys.min())
        box = (left, top, int(xs.max()) - left, int(ys.max()) - top)
        out[index].append(TextBox(text.strip(), float(score), box))
    return out


def _scaled(rgb: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return rgb
    height, width = rgb.shape[:2]
    size = (max(round(width * scale), 1), max(round(height * scale), 1))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
