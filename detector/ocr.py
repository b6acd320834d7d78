"""Text in frames, read with RapidOCR (PP-OCRv4 Chinese and English models shipped inside the
rapidocr-onnxruntime wheel; it runs on ONNX Runtime and downloads nothing)."""

import re
import unicodedata
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


@cache
def _engine(threads: int):
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as e:  # installed with --no-deps by the Makefile
        raise ConfigError("rapidocr-onnxruntime is not installed; see the README") from e
    limits = {"intra_op_num_threads": threads, "inter_op_num_threads": 1} if threads else {}
    return RapidOCR(**limits)


def read_text(
    rgb: np.ndarray, region: tuple[int, int, int, int], scale: float, threads: int = 0
) -> list[TextBox]:
    """Text lines inside ``region`` (x, y, w, h) of a frame, read at ``scale`` with at most
    ``threads`` threads (0: all cores)."""
    x, y, w, h = region
    crop = rgb[y : y + h, x : x + w]
    if crop.size == 0:
        return []
    if scale != 1.0:
        size = (max(round(w * scale), 1), max(round(h * scale), 1))
        crop = cv2.resize(
            crop, size, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        )
    result, _ = _engine(threads)(cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), use_cls=False)
    boxes = []
    for points, text, score in result or []:
        if float(score) < MIN_SCORE or not text.strip():
            continue
        xs = [p[0] / scale + x for p in points]
        ys = [p[1] / scale + y for p in points]
        left, top = int(min(xs)), int(min(ys))
        boxes.append(
            TextBox(
                text.strip(), float(score), (left, top, int(max(xs)) - left, int(max(ys)) - top)
            )
        )
    return boxes


def normalise(text: str) -> str:
    """Fold look-alikes so marks compare: full-width to ASCII, "Al" read for "AI", no spaces,
    upper case."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"A[l|1](?=$|[\s\d.\u4e00-\u9fff]|[A-Z])", "AI", text)  # "KLING Al", "Al生成"
    text = re.sub(r"(?<=[a-zA-Z])Al(?=$|\s)", "AI", text)  # "KlingAl"
    return re.sub(r"\s+", "", text).upper()
