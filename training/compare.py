"""``verity compare-backbones``: is the backbone better frozen, fine-tuned, or trained from
scratch? The shipped model keeps its pretrained backbone frozen and trains only the head on
cached features (features.py), which makes cross-validation cheap. Training the backbone too
may generalise better, or overfit 300 clips; this measures it, with the folds of the
cross-validation (``data.folds``: whole generator families and real sources held out).

One protocol for all three, so that only the backbone differs: single frames of the card's
crop grid (the temporal pooling measured no gain on these clips: docs/model-card.md), each crop
scored by the backbone's stage means under a linear read-out, a clip's logit the mean over its
crops. Every variant sees the same number of training crops per fold, drawn from the clip's
delivered windows and its random platform re-encodes (features.clip_windows); held-out clips
are scored on the delivered and the format-normalised view, as in the cross-validation.

Training the backbone on 2 CPU cores is slow (about 15 crops a second at 224 pixels), so the
schedule is short and says so in the result. Crops are cut once per clip and cached; each
fold's result is written as it finishes, so an interrupted run resumes."""

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from detector import MediaError, Settings
from detector.model import (
    ModelCard,
    card_path,
    normalise,
    window_frames,
    window_tubes,
    write_card,
)

from .crossval import VIEWS
from .data import Clip, fold_split, folds, read_manifests
from .evaluate import Scored, headline, markdown_table, metrics, threshold_at_fpr
from .features import TubeSpec, clip_windows, worker_pool
from .model import Backbone, load_init
from .train import MEAN, STD, Log

VARIANTS = ("frozen", "fine-tuned", "from scratch")


@dataclass
class CompareConfig:
    manifests: list[Path]  # the shared clips' manifest, a staged sources' manifest, ...
    out: Path
    init: Path  # the pretrained weights: frozen and fine-tuned start from them
    backbone: str = "tf_efficientnet_lite0"
    folds: int = 5
    epochs: int = 2
    crops_per_clip: int = 8  # training crops drawn from each clip per epoch
    batch: int = 32
    lr_backbone: float = 1e-4  # fine-tuned; from scratch trains everything at lr_head
    lr_head: float = 1e-3
    weight_decay: float = 0.05
    seed: int = 0
    workers: int = 2
    spec: TubeSpec | None = None
    variants: tuple[str, ...] = VARIANTS  # a long run may leave "from scratch" out

    def tubes(self) -> TubeSpec:
        return self.spec or TubeSpec(8, 2, 224, 4, 1080, tuple(MEAN), tuple(STD))


class CropNet(nn.Module):
    """The backbone's per-crop features under a linear read-out: crops [B, 3, H, W] -> [B]."""

    def __init__(self, backbone: str, size: int):
        super().__init__()
        self.backbone = Backbone(backbone)
        self.read = nn.Linear(self.backbone.width(size), 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.read(self.backbone(images)).squeeze(-1)


def compare(config: CompareConfig, log: Log = print) -> dict:
    """Cross-validate the variants; return and write (``out/comparison.json`` and
    ``.md``) their tables."""
    torch.manual_seed(config.seed)
    clips = read_manifests(config.manifests)
    log(f"cutting crops of {len(clips)} clips (cached in {config.out / 'crops'})…")
    crops = cut_crops(clips, config, log)
    fold_of = folds(clips, config.folds, config.seed)
    logits: dict[str, dict[str, dict[Path, float]]] = {}
    for variant in config.variants:
        logits[variant] = {view: {} for view in VIEWS}
        for fold in range(config.folds):
            held = _fold(config, variant, fold, clips, fold_of, crops, log)
            for view in VIEWS:
                logits[variant][view].update({Path(p): v for p, v in held[view].items()})
    result = summarise(clips, logits, config)
    (config.out / "comparison.json").write_text(json.dumps(result, indent=1))
    (config.out / "comparison.md").write_text(result["table"])
    log(result["table"])
    return result


def summarise(clips: list[Clip], logits: dict, config: CompareConfig) -> dict:
    """Per variant the metrics of the out-of-fold scores, as delivered and normalised; the
    normalised copies are cut at the delivered view's thresholds, as in the cross-validation."""
    sections, summary = {}, {}
    for variant, views in logits.items():
        delivered = _scored(clips, views["delivered"])
        usable = [s for s in delivered if s.score is not None]
        labels = np.array([s.clip.fabricated for s in usable], dtype=float)
        scores = np.array([s.score for s in usable])
        cuts = {f"{f:g}": threshold_at_fpr(labels, scores, f) for f in (0.01, 0.05)}
        for view, name in (("delivered", "as delivered"), ("normalised", "normalised")):
            sections[f"{variant}, {name}"] = metrics(_scored(clips, views[view]), cuts)
            summary[f"{variant}, {name}"] = headline(sections[f"{variant}, {name}"])
    schedule = (
        f"{config.folds} folds of whole units; per fold {config.epochs} epochs of "
        f"{config.crops_per_clip} crops per training clip, batch {config.batch}; "
        f"single frames of the {config.tubes().crops}-crop grid at {config.tubes().size} px"
    )
    table = f"# Backbone: frozen, fine-tuned, from scratch\n\n{schedule}\n\n"
    return {
        "schedule": schedule,
        "config": {k: str(v) for k, v in asdict(config).items()},
        "metrics": summary,
        "table": table + markdown_table(sections),
    }


def record(onnx_path: Path, result: dict, shipped: str = "frozen") -> None:
    """Put the comparison in the model card's training record, with the variant shipped."""
    card = ModelCard.model_validate_json(card_path(onnx_path).read_text())
    keys = ("auc", "ap", "tpr_at_0.01_fpr", "tpr_at_0.05_fpr")
    comparison = {
        "schedule": result["schedule"],
        "shipped": shipped,
        **{
            name: {k: round(v, 3) for k, v in measured.items() if k in keys}
            for name, measured in result["metrics"].items()
        },
    }
    training = {**card.training, "backbone_comparison": comparison}
    write_card(card.model_copy(update={"training": training}), onnx_path)


def _scored(clips: list[Clip], logits: dict[Path, float]) -> list[Scored]:
    out = []
    for clip in clips:
        z = logits.get(clip.path)
        out.append(Scored(clip, None if z is None else 1 / (1 + math.exp(-z))))
    return out


# ---- crops ------------------------------------------------------------------------------------


def cut_crops(clips: list[Clip], config: CompareConfig, log: Log) -> list[dict | None]:
    """Per clip uint8 crops [K, S, S, 3] by view ("train", and each of VIEWS), None when the
    clip cannot be read; cut where the cache lacks them."""
    folder = config.out / "crops"
    folder.mkdir(parents=True, exist_ok=True)
    spec = config.tubes()
    paths = [folder / f"{spec.key(c, 'crops')}.npz" for c in clips]
    todo = [(c, spec, p) for c, p in zip(clips, paths, strict=True) if not p.exists()]
    with worker_pool(config.workers) as pool:
        for done, _ in enumerate(pool.map(_cut_clip, todo), 1):
            if done % 25 == 0:
                log(f"  {done}/{len(todo)} clips cut")
    out = []
    for path in paths:
        with np.load(path) as saved:
            out.append({k: saved[k] for k in saved.files} or None)
    return out


def _cut_clip(job) -> None:
    clip, spec, path = job
    try:
        windows = dict(clip_windows(clip, spec, Settings(threads=1)))
        # the first frame of every tube: what the detector scores (delivered, normalised) and
        # what the training crops are drawn from (delivered and re-encoded windows)
        first = {
            view: [_first_frames(w, s, spec) for w, s, _ in zip(*windows[view], strict=True)]
            for view in windows
        }
        views = {view: np.concatenate(first[view]) for view in VIEWS}
        views["train"] = np.concatenate(first["delivered"] + first["augmented"])
    except (MediaError, ValueError, OSError):
        views = {}
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **views)
    tmp.replace(path)


def _first_frames(window: list[np.ndarray], stride: int, spec: TubeSpec) -> np.ndarray:
    taken = window_frames(window, spec.frames, stride)
    tubes, _ = window_tubes(taken, spec.size, spec.crops, spec.max_short_side)
    return tubes[:, 0]  # [crops, S, S, 3]


def _tensor(images: np.ndarray, spec: TubeSpec) -> torch.Tensor:
    """uint8 [B, S, S, 3] -> normalised float [B, 3, S, S], as the detector prepares them."""
    frames = normalise(images[:, None], list(spec.mean), list(spec.std))  # [B, 1, 3, S, S]
    return torch.from_numpy(frames[:, 0])


# ---- one fold of one variant ------------------------------------------------------------------


def _fold(config, variant, fold, clips, fold_of, crops, log) -> dict[str, dict[str, float]]:
    """Held-out logits {view: {path: logit}} of one fold, from its file when already done."""
    done = config.out / "folds" / f"{variant.replace(' ', '-')}-{fold}.json"
    if done.exists():
        return json.loads(done.read_text())
    started = time.monotonic()
    crops_of = dict(zip([c.path for c in clips], crops, strict=True))
    train_clips, test_clips = fold_split(clips, fold_of, fold)
    train = [(c, crops_of[c.path]) for c in train_clips if crops_of[c.path]]
    test = [(c, crops_of[c.path]) for c in test_clips if crops_of[c.path]]
    net = build(variant, config)
    fit(net, variant, train, config, seed=config.seed * 100 + fold)
    held = {
        view: {str(c.path): score_clip(net, x[view], config) for c, x in test} for view in VIEWS
    }
    done.parent.mkdir(parents=True, exist_ok=True)
    done.write_text(json.dumps(held))
    log(f"  {variant}, fold {fold + 1}/{config.folds}: {time.monotonic() - started:.0f} s")
    return held


def build(variant: str, config: CompareConfig) -> CropNet:
    net = CropNet(config.backbone, config.tubes().size)
    if variant != "from scratch":
        load_init(net.backbone, config.init)
    return net


def fit(net: CropNet, variant: str, train: list[tuple[Clip, dict]], config, seed: int) -> None:
    """Train on ``crops_per_clip`` random training crops of each clip per epoch, both labels
    weighing the same. Frozen: only the read-out learns. Fine-tuned: everything, the backbone at
    a tenth of the read-out's rate and its batch-norm statistics kept (small CPU batches).
    From scratch: everything, batch norm learning its statistics."""
    spec = config.tubes()
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    if variant == "frozen":
        groups = [{"params": net.read.parameters(), "lr": config.lr_head}]
        net.backbone.requires_grad_(False)
    elif variant == "fine-tuned":
        groups = [
            {"params": net.backbone.parameters(), "lr": config.lr_backbone},
            {"params": net.read.parameters(), "lr": config.lr_head},
        ]
    else:
        groups = [{"params": net.parameters(), "lr": config.lr_head}]
    optimiser = torch.optim.AdamW(groups, weight_decay=config.weight_decay)
    labels = np.array([c.fabricated for c, _ in train], dtype=float)
    weight_of = {True: 0.5 / max(labels.mean(), 1e-9), False: 0.5 / max(1 - labels.mean(), 1e-9)}
    draws = len(train) * config.crops_per_clip
    steps = config.epochs * math.ceil(draws / config.batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, [g["lr"] for g in groups], total_steps=steps
    )
    for _ in range(config.epochs):
        net.train()
        if variant != "from scratch":
            net.backbone.eval()  # keep the pretrained batch-norm statistics
        picks = [
            (i, int(rng.integers(len(train[i][1]["train"]))))
            for i in rng.permutation(np.repeat(np.arange(len(train)), config.crops_per_clip))
        ]
        for start in range(0, len(picks), config.batch):
            chosen = picks[start : start + config.batch]
            images = np.stack([train[i][1]["train"][k] for i, k in chosen])
            if rng.random() < 0.5:
                images = images[:, :, ::-1]  # a mirrored batch
            y = torch.tensor([float(train[i][0].fabricated) for i, _ in chosen])
            w = torch.tensor([weight_of[train[i][0].fabricated] for i, _ in chosen])
            loss = nn.functional.binary_cross_entropy_with_logits(
                net(_tensor(np.ascontiguousarray(images), spec)), y, weight=w
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    net.eval()


def score_clip(net: CropNet, images: np.ndarray, config: CompareConfig) -> float:
    """A clip's logit: the mean over its crops."""
    with torch.no_grad():
        out = [net(_tensor(images[i : i + 64], config.tubes())) for i in range(0, len(images), 64)]
    return float(torch.cat(out).mean())
