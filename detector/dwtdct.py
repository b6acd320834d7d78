"""Read the DWT-DCT watermark that the invisible-watermark package (imwatermark) embeds.

Reimplemented in numpy rather than imported: ``import imwatermark`` pulls in torch (its package
imports the RivaGAN model) and the detector must stay torch-free. This follows imwatermark
0.2.0's ``maxDct.EmbedMaxDct.decode`` step by step: convert to YUV with OpenCV's full-range
coefficients, take the one-level Haar approximation band of U, cut it into 4x4 blocks, find each
block's largest-magnitude coefficient but the first, and read a bit as ``|v| mod 36 > 18``; bits
cycle over the blocks in raster order. The tests embed with imwatermark's own encoder to hold
this code to it.

Generators fed the encoder in two ways, which change what "U" is: OpenCV BGR order or RGB passed
as if it were BGR, and uint8 pixels (OpenCV adds 128 to U) or float pixels (it adds 0.5).
Each combination is a ``Reading``; the check tries all of them and corrects for that.
"""

from dataclasses import dataclass

import numpy as np

SCALE = 36.0  # imwatermark's default scale for the U channel ("scales=[0, 36, 36]")
BLOCK = 4
MIN_PIXELS = 256 * 256  # imwatermark refuses to embed into anything smaller


@dataclass(frozen=True)
class Reading:
    name: str
    swapped: bool  # RGB pixels handed over as if they were BGR
    offset: float  # 128 for uint8 input, 0.5 for float input
    rounded: bool  # uint8 input: OpenCV rounds and clips U


def _u(rgb: np.ndarray, swapped: bool) -> np.ndarray:
    """OpenCV's U of the pixels, before its offset, float32."""
    rgb = rgb.astype(np.float32)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    if swapped:
        red, blue = blue, red
    luma = 0.299 * red + 0.587 * green + 0.114 * blue
    return 0.492 * (blue - luma)


READINGS = (
    Reading("bgr-uint8", swapped=False, offset=128.0, rounded=True),
    Reading("rgb-uint8", swapped=True, offset=128.0, rounded=True),
    Reading("bgr-float", swapped=False, offset=0.5, rounded=False),
    Reading("rgb-float", swapped=True, offset=0.5, rounded=False),
)


def block_scores(rgb: np.ndarray, reading: Reading) -> np.ndarray:
    """Each 4x4 block's soft bit, in raster order: +1 where the strongest coefficient sits at a
    "1" phase (27 of 36), -1 at a "0" phase (9 of 36).

    imwatermark itself reads hard bits (``|v| mod 36 > 18``). Hard bits do not survive an H.264
    encode at CRF 18, which shrinks the embedded step to a fraction of its size; the sine of the
    phase keeps what is left, and averaging over thousands of blocks recovers it.
    """
    return frame_scores(rgb, (reading,))[0]


def frame_scores(rgb: np.ndarray, readings=READINGS) -> list[np.ndarray]:
    """``block_scores`` of one frame for each reading, sharing the work they have in common:
    U is computed once per channel order, and its Haar band once for the float readings (whose
    offset only shifts the band)."""
    height, width = (rgb.shape[0] // 4) * 4, (rgb.shape[1] // 4) * 4
    rgb = rgb[:height, :width]
    u_of: dict[bool, np.ndarray] = {}
    band_of: dict[bool, np.ndarray] = {}
    out = []
    for reading in readings:
        if reading.swapped not in u_of:
            u_of[reading.swapped] = _u(rgb, reading.swapped)
        u = u_of[reading.swapped]
        if reading.rounded:
            approx = _haar(np.clip(np.rint(u + reading.offset), 0, 255))
        else:
            if reading.swapped not in band_of:
                band_of[reading.swapped] = _haar(u)
            approx = band_of[reading.swapped] + 2 * reading.offset
        out.append(_soft_bits(approx))
    return out


def _haar(u: np.ndarray) -> np.ndarray:
    """The one-level Haar approximation band (cA) of an even-sided channel."""
    return (u[0::2, 0::2] + u[0::2, 1::2] + u[1::2, 0::2] + u[1::2, 1::2]) / 2


def _soft_bits(approx: np.ndarray) -> np.ndarray:
    rows, cols = approx.shape[0] // BLOCK, approx.shape[1] // BLOCK
    blocks = (
        approx[: rows * BLOCK, : cols * BLOCK]
        .reshape(rows, BLOCK, cols, BLOCK)
        .transpose(0, 2, 1, 3)
        .reshape(rows * cols, BLOCK * BLOCK)
    )
    strongest = np.abs(blocks[:, 1:]).max(axis=1)
    return -np.sin(2 * np.pi * (strongest % SCALE) / SCALE)


class Tally:
    """Running sums of soft bits at each cycled bit position, for payloads of several lengths:
    frames are added one at a time, so a reader can stop once the vote is decided."""

    def __init__(self, lengths):
        self.total = {n: np.zeros(n) for n in lengths}
        self.count = {n: np.zeros(n) for n in lengths}

    def add(self, scores: np.ndarray) -> None:
        for n in self.total:
            positions = np.arange(len(scores)) % n
            self.total[n] += np.bincount(positions, weights=scores, minlength=n)
            self.count[n] += np.bincount(positions, minlength=n)

    def means(self, length: int) -> np.ndarray:
        """The mean soft bit of each position: positive reads as 1, negative as 0."""
        return self.total[length] / np.maximum(self.count[length], 1)


def vote(score_rows: list[np.ndarray], length: int) -> np.ndarray:
    """The mean soft bit of each of ``length`` cycled bit positions, over all frames' blocks."""
    tally = Tally([length])
    for scores in score_rows:
        tally.add(scores)
    return tally.means(length)
