"""The classifier's model: its card (the contract with training), how frames become its input,
and one ONNX Runtime session per process.

An exported model is ``NAME.onnx`` beside ``NAME.json``, the card. Training writes both and
imports this module for the frame preparation, so that what the model sees in training is what
it sees here (ARCHITECTURE §5).
"""

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .errors import MediaError, ModelError
from .probe import file_sha256

INPUT, FABRICATED, GENERATORS = "frames", "fabricated_logit", "generator_logits"
MODELS_FOLDER = Path(__file__).parent / "models"
DEFAULT_MODEL = MODELS_FOLDER / "verity-v4.onnx"


class Calibration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # p = sigmoid(logit / temperature), fitted on the validation split
    temperature: float = Field(1.0, gt=0)
    # probability at or above which a window is called fabricated, by false-positive rate on
    # the validation split's real clips ("0.01": ..., "0.05": ...)
    thresholds: dict[str, float] = Field(default_factory=dict)
    # p = sigmoid(logit / temperature + bias): Platt scaling when the bias is fitted too
    bias: float = 0.0
    # the share of fabricated clips among those calibrated on; log_lr is taken against it
    train_prior: float = Field(0.5, gt=0, lt=1)
    # the most the classifier's log-likelihood ratio may say either way: ln(TPR / FPR) that the
    # cross-validation measured at the 1 % FPR threshold (None: fusion's own cap alone)
    max_log_lr: float | None = Field(None, ge=0)
    # The log-likelihood ratio as a monotone function of a video's logit, fitted on the
    # cross-validated scores (isotonic regression, training/crossval.py): [logit, log_lr] knots,
    # joined by straight lines, flat beyond the ends. It reaches the cap only where real clips
    # were almost never seen, so that fused likelihoods keep the classifier's ranking. Empty (an
    # older card): the calibrated probability against train_prior.
    log_lr_knots: list[tuple[float, float]] = Field(default_factory=list)

    def probability(self, logit: float) -> float:
        return 1.0 / (1.0 + math.exp(-(logit / self.temperature + self.bias)))

    def log_lr(self, logit: float) -> float:
        """The evidence a video's mean logit carries, as a log-likelihood ratio within the
        earned cap (max_log_lr)."""
        if self.log_lr_knots:
            xs, ys = zip(*self.log_lr_knots, strict=True)
            value = float(np.interp(logit, xs, ys))
        else:
            value = _log_odds(self.probability(logit)) - _log_odds(self.train_prior)
        cap = self.max_log_lr
        return value if cap is None else max(-cap, min(cap, value))


class ModelCard(BaseModel):
    """Everything needed to run the model as it was trained, and to judge it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    version: str
    onnx_sha256: str
    frames: int = Field(gt=0, description="T: frames per window")
    height: int = Field(gt=0)
    width: int = Field(gt=0)
    stride: int = Field(1, ge=1, description="take every stride-th decoded frame of a window")
    crop: Literal["grid", "face"] = Field(
        "grid",
        description="grid: crops of height x width at native resolution on a fixed grid; "
        "face: each face found, aligned and scaled to height x width (detector/faces.py)",
    )
    crops: int = Field(
        4, ge=1, description="crops per frame (grid) or most faces judged (face), each a tube"
    )
    max_short_side: int = Field(
        1080, gt=0, description="frames with a longer short side are scaled down to it first"
    )
    mean: list[float] = Field(min_length=3, max_length=3)
    std: list[float] = Field(min_length=3, max_length=3)
    generators: list[str]
    calibration: Calibration = Field(default_factory=Calibration)
    backbone: str = ""
    training: dict = Field(default_factory=dict, description="data, licences, command, split")
    metrics: dict = Field(default_factory=dict, description="held-out evaluation")

    @model_validator(mode="after")
    def _square_crops(self) -> "ModelCard":
        if self.height != self.width:
            raise ValueError(f"crops are square: height {self.height} != width {self.width}")
        return self

    @property
    def window_length(self) -> int:
        """Consecutive decoded frames one window spans."""
        return self.frames * self.stride


def card_path(onnx_path: Path) -> Path:
    return onnx_path.with_suffix(".json")


def write_card(card: ModelCard, onnx_path: Path) -> ModelCard:
    """The card, with the ONNX file's sha256, beside the file (training writes it; ``verity
    eval --record`` adds its numbers)."""
    card = card.model_copy(update={"onnx_sha256": file_sha256(onnx_path)})
    card_path(onnx_path).write_text(json.dumps(card.model_dump(mode="json"), indent=2) + "\n")
    return card


# ---- frames -> model input (training uses these very functions) ----------------------------
#
# The model looks at native pixels: the traces generators leave (upsampling and decoder
# patterns, texture statistics) are lost when a frame is shrunk to a thumbnail. So each frame
# keeps its resolution and the model sees ``crops`` squares of it at fixed places, the same
# places in every frame of a window: a tube through time. Only frames too small for one crop
# are scaled up, and frames beyond ``max_short_side`` scaled down.

# Crops keep this share of each side away from the frame's edge when the frame has room: the
# edges hold logos, captions and letterboxing, which other checks read and which say nothing
# about how the pixels were made.
EDGE_MARGIN = 0.06


def resize_short(rgb: np.ndarray, short_side: int) -> np.ndarray:
    """Resize so the shorter side is ``short_side`` (bilinear), keeping the aspect ratio."""
    height, width = rgb.shape[:2]
    scale = short_side / min(height, width)
    size = (max(round(width * scale), short_side), max(round(height * scale), short_side))
    if size == (width, height):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR))


def fit_frame(rgb: np.ndarray, crop: int, max_short_side: int) -> np.ndarray:
    """The frame at native resolution when its short side lies in [crop, max_short_side],
    else scaled to the nearer bound."""
    short = min(rgb.shape[:2])
    if short < crop:
        return resize_short(rgb, crop)
    if short > max_short_side:
        return resize_short(rgb, max_short_side)
    return rgb


def crop_grid(height: int, width: int, size: int, crops: int) -> list[tuple[int, int]]:
    """At most ``crops`` (top, left) corners of size x size squares spread over the frame in a
    grid of rows x columns whose shape best fits the frame's. Along a side too short for its
    crops to lie half a crop apart there are fewer of them (one, centred, on a 256-pixel frame):
    crops a few pixels apart would cost as much and see the same pixels."""
    pairs = [(r, crops // r) for r in range(1, crops + 1) if crops % r == 0]
    rows, cols = min(pairs, key=lambda rc: abs(math.log((rc[1] / rc[0]) / (width / height))))

    def spread(side: int, n: int) -> list[int]:
        room = side - size
        margin = min(round(EDGE_MARGIN * side), room // 2)
        n = min(n, 1 + (room - 2 * margin) // (size // 2))
        if n == 1:
            return [room // 2]
        return [round(margin + (room - 2 * margin) * i / (n - 1)) for i in range(n)]

    return [(top, left) for top in spread(height, rows) for left in spread(width, cols)]


def normalise(frames: np.ndarray, mean: list[float], std: list[float]) -> np.ndarray:
    """uint8 [..., H, W, 3] -> float32 [..., 3, H, W], scaled to [0, 1] then standardised."""
    # channels first, then one multiply and one add in place: as few passes over memory as can be
    x = np.moveaxis(frames, -1, -3).astype(np.float32, order="C")
    std = np.asarray(std, np.float32)
    x *= (1 / (255 * std))[:, None, None]
    x -= (np.asarray(mean, np.float32) / std)[:, None, None]
    return x


def window_frames(window: list, frames: int, stride: int) -> list:
    """The ``frames`` frames of a window the model sees: every ``stride``-th; a short window
    repeats its last frame (a clip shorter than a window still gets a score)."""
    taken = window[::stride][:frames]
    return taken + [taken[-1]] * (frames - len(taken))


def window_tubes(
    taken: list[np.ndarray], size: int, crops: int, max_short_side: int
) -> tuple[np.ndarray, list[list[int]]]:
    """The T frames ``window_frames`` chose (RGB) -> uint8 tubes [C, T, size, size, 3] (C at
    most ``crops``, see crop_grid), and
    where each tube lies in the frame as delivered: [x, y, width, height] in its pixels."""
    fitted = [fit_frame(f, size, max_short_side) for f in taken]
    height, width = fitted[0].shape[:2]
    corners = crop_grid(height, width, size, crops)
    scale = taken[0].shape[0] / height
    boxes = [[round(v * scale) for v in (left, top, size, size)] for top, left in corners]
    # a stream may change its frame size midway: later frames follow the first
    stacked = np.stack(
        [f if f.shape[:2] == (height, width) else _resized(f, width, height) for f in fitted]
    )
    tubes = np.stack([stacked[:, t : t + size, x : x + size] for t, x in corners])
    return tubes, boxes


def _resized(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.BILINEAR))


def window_input(taken: list[np.ndarray], card: ModelCard) -> np.ndarray:
    """The model's input for one window: float32 [crops, T, 3, H, W]."""
    tubes, _ = window_tubes(taken, card.height, card.crops, card.max_short_side)
    return normalise(tubes, card.mean, card.std)


def logit(p: float) -> float:
    """log(p / (1 - p)), with p kept off 0 and 1."""
    return _log_odds(p)


def _log_odds(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def calibrated(logit: float, card: ModelCard) -> float:
    return card.calibration.probability(logit)


# ---- the session ---------------------------------------------------------------------------


class Model:
    """An ONNX model checked against its card."""

    def __init__(self, onnx_path: Path, providers: tuple[str, ...], threads: int):
        import onnxruntime as ort

        card_file = card_path(onnx_path)
        if not onnx_path.is_file() or not card_file.is_file():
            raise ModelError(f"no model at {onnx_path} (it needs {card_file.name} beside it)")
        try:
            self.card = ModelCard.model_validate_json(card_file.read_text())
        except ValueError as e:
            raise ModelError(f"{card_file}: not a valid model card: {e}") from None
        try:
            actual = file_sha256(onnx_path)
        except MediaError as e:
            raise ModelError(f"{onnx_path}: {e}") from None
        if actual != self.card.onnx_sha256:
            raise ModelError(
                f"{onnx_path.name} does not match its card: sha256 {actual[:12]}… where the card "
                f"says {self.card.onnx_sha256[:12]}… (a different export?)"
            )
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        available = set(ort.get_available_providers())
        chosen = [p for p in providers if p in available] or ["CPUExecutionProvider"]
        try:
            self.session = ort.InferenceSession(str(onnx_path), options, providers=chosen)
        except Exception as e:
            raise ModelError(f"{onnx_path.name} cannot be loaded: {e}") from None
        self._check_inputs()

    def _check_inputs(self) -> None:
        inputs = {i.name: i.shape for i in self.session.get_inputs()}
        outputs = {o.name for o in self.session.get_outputs()}
        card = self.card
        expected = [card.frames, 3, card.height, card.width]
        shape = inputs.get(INPUT)
        if shape is None or len(shape) != 5 or list(shape[1:]) != expected:
            spec = ", ".join(map(str, expected))
            raise ModelError(f"the model's input {INPUT} is {shape}, its card says [N, {spec}]")
        if not {FABRICATED, GENERATORS} <= outputs:
            raise ModelError(f"the model lacks the outputs {FABRICATED} and {GENERATORS}")

    def __call__(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """float32 [N, T, 3, H, W] -> (fabricated logits [N], generator logits [N, G])."""
        fabricated, generators = self.session.run([FABRICATED, GENERATORS], {INPUT: windows})
        return fabricated, generators


def load_model(onnx_path: Path, providers: tuple[str, ...], threads: int) -> Model:
    """One session per process and model, reused by every analysis (a rewritten card, as after
    calibration, is read again)."""
    card_file = card_path(onnx_path)
    stamp = card_file.stat().st_mtime_ns if card_file.exists() else 0
    return _load_model(onnx_path, stamp, providers, threads)


@lru_cache(maxsize=4)
def _load_model(onnx_path: Path, stamp: int, providers: tuple[str, ...], threads: int) -> Model:
    return Model(onnx_path, providers, threads)


def default_providers(gpu: bool) -> tuple[str, ...]:
    """TensorRT, then CUDA where onnxruntime-gpu finds a GPU; the CPU always last."""
    if not gpu:
        return ("CPUExecutionProvider",)
    return ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
