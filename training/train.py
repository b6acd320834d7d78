"""``verity train``: from a labelled manifest to an ONNX model with its card.

Reads top to bottom: split by source group; sample windows with the detector's own frame plan
and re-encode every one of them at random (augment.py); train the network (model.py); calibrate
on the validation split; export to ONNX and check it against PyTorch; evaluate the exported
model through the detector on clips it never saw, as delivered and format-normalised, beside
the container-facts baseline; write the card.
"""

import math
import random
import shlex
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from detector import Settings
from detector.model import (
    ModelCard,
    center_crop,
    logit,
    normalise,
    resize_short,
    window_frames,
)

from .augment import reencode_window, sample_windows
from .baseline import ContainerBaseline
from .data import Clip, read_manifest, split
from .evaluate import (
    classifier_settings,
    format_shift,
    metrics,
    normalised_copies,
    reported_as,
    score_clips,
    threshold_at_fpr,
    write_report,
)
from .export import PARITY_TOLERANCE, export_onnx, parity, write_card
from .model import NetConfig, VerityNet, load_init, save_checkpoint

# ImageNet statistics: the usual convention for timm backbones, kept when training from scratch
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
Log = Callable[[str], None]


@dataclass
class TrainConfig:
    manifest: Path
    out: Path
    name: str = "verity-small"
    version: str = "0.1.0"
    backbone: str = "mobilenetv3_small_050"
    frames: int = 8
    stride: int = 2
    size: int = 128
    resize: int = 144
    windows_per_clip: int = 4
    renditions: int = 3  # random re-encodes of each training window
    epochs: int = 12
    batch: int = 16
    lr: float = 1e-3
    generator_weight: float = 0.3
    val_share: float = 0.25
    seed: int = 0
    init: Path | None = None
    workers: int = 2
    evaluate: bool = True
    command: list[str] = field(default_factory=lambda: sys.argv[:])


@dataclass
class Windows:
    """Prepared windows: uint8 frames with the short side at ``resize``, and their labels."""

    frames: list[np.ndarray] = field(default_factory=list)  # each [T, h, w, 3]
    fabricated: list[float] = field(default_factory=list)
    generator: list[int] = field(default_factory=list)  # -1 for real footage
    clip: list[int] = field(default_factory=list)


def train(config: TrainConfig, log: Log = print) -> Path:
    """Train, export and evaluate; return the ONNX path (its card is beside it)."""
    started = time.monotonic()
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    config.out.mkdir(parents=True, exist_ok=True)

    clips = read_manifest(config.manifest)
    train_clips, val_clips = split(clips, config.val_share, config.seed)
    generators = sorted({c.generator for c in train_clips if c.fabricated})
    log(f"{len(train_clips)} training clips, {len(val_clips)} validation clips (whole groups)")
    card = ModelCard(
        name=config.name,
        version=config.version,
        onnx_sha256="",
        frames=config.frames,
        height=config.size,
        width=config.size,
        stride=config.stride,
        resize_short_side=config.resize,
        mean=MEAN,
        std=STD,
        generators=generators,
        backbone=config.backbone,
    )

    log("sampling and re-encoding windows…")
    train_set = prepare(train_clips, generators, config, augment=True)
    log(f"{len(train_set.frames)} training windows")

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    net = VerityNet(
        NetConfig(config.backbone, config.frames, config.size, config.size, generators=generators)
    ).to(device)
    if config.init:
        load_init(net, config.init)
    fit(net, train_set, config, device, log)
    checkpoint = config.out / f"{config.name}.pt"
    save_checkpoint(net.cpu(), checkpoint, {"card": card.model_dump(mode="json")})

    onnx_path = config.out / f"{config.name}.onnx"
    export_onnx(net, onnx_path)
    difference = parity(net, onnx_path)
    if difference >= PARITY_TOLERANCE:
        raise RuntimeError(f"ONNX and PyTorch disagree by {difference:.2e}")
    log(f"exported {onnx_path} (ONNX vs PyTorch: max |logit difference| {difference:.1e})")
    prior = float(np.mean(train_set.fabricated))
    card = card.model_copy(
        update={"calibration": card.calibration.model_copy(update={"train_prior": prior})}
    )
    card = write_card(card, onnx_path)

    eval_settings = Settings(model_path=onnx_path, gpu=False)
    card = calibrate(card, onnx_path, val_clips, eval_settings, log)
    card = card.model_copy(
        update={
            "training": training_record(
                config, clips, train_clips, val_clips, difference, time.monotonic() - started
            ),
        }
    )
    card = write_card(card, onnx_path)
    if config.evaluate:
        card = evaluate_card(card, onnx_path, train_clips, val_clips, eval_settings, config, log)
    log(f"done in {time.monotonic() - started:.0f} s")
    return onnx_path


def reevaluate(config: TrainConfig, log: Log = print) -> Path:
    """The held-out evaluation again, for a model ``train`` made in ``config.out`` (after a fix
    to the evaluation itself): the same split, the card's numbers replaced, and the command
    that did it recorded beside the training command."""
    onnx_path = config.out / f"{config.name}.onnx"
    card = ModelCard.model_validate_json(onnx_path.with_suffix(".json").read_text())
    clips = read_manifest(config.manifest)
    train_clips, val_clips = split(clips, config.val_share, config.seed)
    if sorted({c.group for c in val_clips}) != card.training.get("val_groups"):
        raise ValueError("this split is not the one the model was trained with")
    training = {**card.training, "evaluated_by": shlex.join(config.command)}
    card = card.model_copy(update={"training": training})
    settings = Settings(model_path=onnx_path, gpu=False)
    evaluate_card(card, onnx_path, train_clips, val_clips, settings, config, log)
    return onnx_path


# ---- data -----------------------------------------------------------------------------------


def prepare(
    clips: list[Clip], generators: list[str], config: TrainConfig, augment: bool
) -> Windows:
    """Windows from every clip, each through the random re-encode, in worker processes."""
    jobs = [(i, clip, config, augment) for i, clip in enumerate(clips)]
    windows = Windows()
    with ProcessPoolExecutor(max_workers=config.workers) as pool:
        for i, clip_windows in pool.map(_clip_windows, jobs):
            clip = clips[i]
            for frames in clip_windows:
                windows.frames.append(frames)
                windows.fabricated.append(float(clip.fabricated))
                windows.generator.append(
                    generators.index(clip.generator) if clip.generator in generators else -1
                )
                windows.clip.append(i)
    return windows


def _clip_windows(job) -> tuple[int, list[np.ndarray]]:
    index, clip, config, augment = job
    rng = random.Random(f"{config.seed}-{clip.path}")
    settings = Settings(threads=1)
    try:
        sampled = sample_windows(
            clip.path, config.windows_per_clip, config.frames * config.stride, settings
        )
    except Exception:  # an unreadable clip gives no windows; the evaluation counts it
        return index, []
    out = []
    for _ in range(config.renditions if augment else 1):
        for window in sampled:
            frames = reencode_window(window, rng) if augment else window
            # a different frame rate: sometimes consecutive frames instead of every stride-th
            stride = 1 if augment and rng.random() < 0.3 else config.stride
            taken = window_frames(frames, config.frames, stride)
            out.append(np.stack([resize_short(f, config.resize) for f in taken]))
    return index, out


def batch_tensor(windows: list[np.ndarray], config: TrainConfig, rng: random.Random, train: bool):
    """Random crops and flips for training, the detector's centre crop otherwise; then the
    detector's normalisation."""
    size = config.size
    out = []
    for frames in windows:
        if train:
            top = rng.randint(0, frames.shape[1] - size)
            left = rng.randint(0, frames.shape[2] - size)
            crop = frames[:, top : top + size, left : left + size]
            if rng.random() < 0.5:
                crop = crop[:, :, ::-1]
        else:
            crop = np.stack([center_crop(f, size, size) for f in frames])
        out.append(crop)
    return torch.from_numpy(normalise(np.stack(out), MEAN, STD))


# ---- the loop ---------------------------------------------------------------------------------


def fit(net: VerityNet, data: Windows, config: TrainConfig, device, log: Log) -> None:
    rng = random.Random(config.seed)
    labels = np.array(data.fabricated)
    # Both labels weigh the same however many windows each has.
    weights = np.where(
        labels == 1, 0.5 / max(labels.mean(), 1e-6), 0.5 / max(1 - labels.mean(), 1e-6)
    )
    optimiser = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=0.05)
    steps = config.epochs * math.ceil(len(labels) / config.batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, config.lr, total_steps=steps)
    scaler = torch.amp.GradScaler(enabled=device.type == "cuda")
    generator_loss = nn.CrossEntropyLoss(reduction="none")
    for epoch in range(config.epochs):
        net.train()
        order = list(range(len(labels)))
        rng.shuffle(order)
        total, seen = 0.0, 0
        for start in range(0, len(order), config.batch):
            index = order[start : start + config.batch]
            x = batch_tensor([data.frames[i] for i in index], config, rng, train=True).to(device)
            y = torch.tensor(labels[index], dtype=torch.float32, device=device)
            w = torch.tensor(weights[index], dtype=torch.float32, device=device)
            g = torch.tensor([data.generator[i] for i in index], device=device)
            with torch.autocast(device.type, enabled=device.type == "cuda"):
                fabricated, generator_logits = net(x)
                loss = (
                    nn.functional.binary_cross_entropy_with_logits(
                        fabricated.float(), y, reduction="none"
                    )
                    * w
                ).mean()
                known = g >= 0
                if known.any():
                    loss = (
                        loss
                        + config.generator_weight
                        * generator_loss(generator_logits[known].float(), g[known]).mean()
                    )
            optimiser.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(optimiser)
            scaler.update()
            schedule.step()
            total += float(loss.detach()) * len(index)
            seen += len(index)
        log(f"epoch {epoch + 1}/{config.epochs}: loss {total / seen:.4f}")
    net.eval()


# ---- calibration and evaluation ---------------------------------------------------------------


def calibrate(card: ModelCard, onnx_path: Path, val: list[Clip], settings: Settings, log: Log):
    """Temperature scaling on the validation clips' video-level logits, through the detector;
    decision thresholds at 1 % and 5 % false-positive rate on their real clips."""
    scored = [s for s in score_clips(val, settings, classifier_only=True) if s.score is not None]
    logits = np.array([logit(s.score) for s in scored])  # the card still says temperature 1
    labels = np.array([float(s.clip.fabricated) for s in scored])
    temperatures = np.exp(np.linspace(np.log(0.25), np.log(20), 200))
    losses = [_log_loss(labels, 1 / (1 + np.exp(-logits / t))) for t in temperatures]
    temperature = float(temperatures[int(np.argmin(losses))])
    probabilities = 1 / (1 + np.exp(-logits / temperature))
    thresholds = {f"{fpr:g}": threshold_at_fpr(labels, probabilities, fpr) for fpr in (0.01, 0.05)}
    log(f"temperature {temperature:.2f}; thresholds {thresholds}")
    calibration = card.calibration.model_copy(
        update={"temperature": temperature, "thresholds": thresholds}
    )
    return write_card(card.model_copy(update={"calibration": calibration}), onnx_path)


def evaluate_card(card, onnx_path, train_clips, val_clips, settings, config, log) -> ModelCard:
    """The card's held-out numbers, by the same code as ``verity eval``."""
    log("evaluating on the validation clips, as delivered and format-normalised…")
    thresholds = card.calibration.thresholds
    pipeline = metrics(score_clips(val_clips, settings, False))
    delivered = metrics(score_clips(val_clips, settings, True), thresholds)
    baseline = ContainerBaseline(settings).fit(train_clips)
    base_delivered = metrics(baseline.score(val_clips))
    with normalised_copies(val_clips, settings) as copies:  # one set for both scorers
        normalised = metrics(
            reported_as(val_clips, score_clips(copies, settings, True)), thresholds
        )
        base_normalised = metrics(reported_as(val_clips, baseline.score(copies)))
    shift = format_shift(val_clips, settings)
    sections = {
        "whole pipeline, as delivered": pipeline,
        "classifier, as delivered": delivered,
        "classifier, normalised": normalised,
        "container baseline, as delivered": base_delivered,
        "container baseline, normalised": base_normalised,
    }
    write_report(sections, config.out / "eval", {"format_shift_mean_abs": shift})
    summary = {
        name: {k: v for k, v in result.items() if k not in ("reliability", "most_wrong", "errors")}
        for name, result in sections.items()
    }
    summary["format_shift_mean_abs"] = shift
    card = card.model_copy(update={"metrics": summary})
    log(
        f"AUC as delivered {delivered['auc']:.3f}, normalised {normalised['auc']:.3f}; "
        f"baseline {base_delivered['auc']:.3f} / {base_normalised['auc']:.3f}; "
        f"format shift {shift:.3f}"
    )
    return write_card(card, onnx_path)


def training_record(config, clips, train_clips, val_clips, parity_difference, seconds) -> dict:
    licences = sorted({c.licence for c in clips if c.licence})
    return {
        "command": shlex.join(config.command),
        "config": {
            k: str(v) if isinstance(v, Path) else v
            for k, v in asdict(config).items()
            if k != "command"
        },
        "data": {
            "manifest": str(config.manifest),
            "clips": len(clips),
            "train_clips": len(train_clips),
            "val_clips": len(val_clips),
            "train": _counts(train_clips),
            "val": _counts(val_clips),
            "licences": licences,
        },
        "val_groups": sorted({c.group for c in val_clips}),
        "split": f"whole source groups, {config.val_share:.0%} of each label's clips held out, "
        f"seed {config.seed}",
        "onnx_parity_max_abs": parity_difference,
        "seconds": round(seconds),
        "device": "cuda" if torch.cuda.is_available() else "cpu",
    }


def _counts(clips: list[Clip]) -> dict[str, int]:
    out: dict[str, int] = {}
    for clip in clips:
        out[clip.generator] = out.get(clip.generator, 0) + 1
    return dict(sorted(out.items()))


def _log_loss(labels: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-(labels * np.log(p) + (1 - labels) * np.log(1 - p)).mean())


__all__ = ["TrainConfig", "classifier_settings", "train"]
