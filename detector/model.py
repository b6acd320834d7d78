"""The classifier's model: its card (the contract with training), how frames become its input,
and one ONNX Runtime session per process.

An exported model is ``NAME.onnx`` beside ``NAME.json``, the card. Training writes both and
imports this module for the frame preparation, so that what the model sees in training is what
it sees here (ARCHITECTURE §5).
"""

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from .errors import MediaError, ModelError
from .probe import file_sha256

INPUT, FABRICATED, GENERATORS = "frames", "fabricated_logit", "generator_logits"
MODELS_FOLDER = Path(__file__).parent / "models"
DEFAULT_MODEL = MODELS_FOLDER / "verity-small.onnx"


class Calibration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # p = sigmoid(logit / temperature), fitted on the validation split
    temperature: float = Field(1.0, gt=0)
    # probability at or above which a window is called fabricated, by false-positive rate on
    # the validation split's real clips ("0.01": ..., "0.05": ...)
    thresholds: dict[str, float] = Field(default_factory=dict)
    # the share of fabricated windows the model was trained on; log_lr is taken against it
    train_prior: float = Field(0.5, gt=0, lt=1)


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
    resize_short_side: int = Field(gt=0, description="frames are resized so the short side is this")
    crop: str = Field("center", description="then a centre crop of height x width")
    mean: list[float] = Field(min_length=3, max_length=3)
    std: list[float] = Field(min_length=3, max_length=3)
    generators: list[str]
    calibration: Calibration = Field(default_factory=Calibration)
    backbone: str = ""
    training: dict = Field(default_factory=dict, description="data, licences, command, split")
    metrics: dict = Field(default_factory=dict, description="held-out evaluation")

    @property
    def window_length(self) -> int:
        """Consecutive decoded frames one window spans."""
        return self.frames * self.stride


def card_path(onnx_path: Path) -> Path:
    return onnx_path.with_suffix(".json")


# ---- frames -> model input (training uses these very functions) ----------------------------


def resize_short(rgb: np.ndarray, short_side: int) -> np.ndarray:
    """Resize so the shorter side is ``short_side`` (bilinear), keeping the aspect ratio."""
    height, width = rgb.shape[:2]
    scale = short_side / min(height, width)
    size = (max(round(width * scale), short_side), max(round(height * scale), short_side))
    if size == (width, height):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR))


def center_crop(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    top = max((rgb.shape[0] - height) // 2, 0)
    left = max((rgb.shape[1] - width) // 2, 0)
    return rgb[top : top + height, left : left + width]


def normalise(frames: np.ndarray, mean: list[float], std: list[float]) -> np.ndarray:
    """uint8 [..., H, W, 3] -> float32 [..., 3, H, W], scaled to [0, 1] then standardised."""
    x = frames.astype(np.float32) / 255.0
    x = (x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.moveaxis(x, -1, -3)


def window_frames(window: list, frames: int, stride: int) -> list:
    """The ``frames`` frames of a window the model sees: every ``stride``-th; a short window
    repeats its last frame (a clip shorter than a window still gets a score)."""
    taken = window[::stride][:frames]
    return taken + [taken[-1]] * (frames - len(taken))


def window_input(taken: list[np.ndarray], card: ModelCard) -> np.ndarray:
    """The T frames ``window_frames`` chose from a window (RGB) -> float32 [T, 3, H, W]."""
    prepared = [
        center_crop(resize_short(f, card.resize_short_side), card.height, card.width) for f in taken
    ]
    return normalise(np.stack(prepared), card.mean, card.std)


def logit(p: float) -> float:
    """log(p / (1 - p)), with p kept off 0 and 1."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def calibrated(logit: float, card: ModelCard) -> float:
    return 1.0 / (1.0 + math.exp(-logit / card.calibration.temperature))


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
