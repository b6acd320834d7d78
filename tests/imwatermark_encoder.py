"""imwatermark's own DWT-DCT encoder, for tests, loaded without its package.

``import imwatermark`` imports RivaGAN and with it torch; ``maxDct.py`` alone needs only numpy,
OpenCV and PyWavelets. The Makefile installs invisible-watermark with ``--no-deps``.
"""

import importlib.util
from importlib.metadata import distribution

import cv2
import numpy as np


def _max_dct():
    path = distribution("invisible-watermark").locate_file("imwatermark/maxDct.py")
    spec = importlib.util.spec_from_file_location("imwatermark_maxdct", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_MODULE = _max_dct()


def embed(rgb: np.ndarray, bits: list[int]) -> np.ndarray:
    """``WatermarkEncoder().encode(bgr, "dwtDct")`` with its default scales, on an RGB frame
    handed over in OpenCV's BGR order, as Stability's reference code does."""
    encoder = _MODULE.EmbedMaxDct(
        watermarks=list(bits), wmLen=len(bits), scales=[0, 36, 36], block=4
    )
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    return cv2.cvtColor(encoder.encode(bgr), cv2.COLOR_BGR2RGB)


def decode(rgb: np.ndarray, length: int) -> np.ndarray:
    """imwatermark's own hard-bit decoder."""
    decoder = _MODULE.EmbedMaxDct(watermarks=[], wmLen=length, scales=[0, 36, 36], block=4)
    return decoder.decode(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)).astype(int)
