"""Cross-validation that holds out whole generator families and whole real sources at once
(``data.folds``), so every AI family is scored by a head that never saw it, nor any of its
near-duplicates. The head is trained on cached frozen-backbone features, so K folds cost
seconds. The out-of-fold scores then calibrate the shipped model: Platt scaling, the thresholds
at 1 % and 5 % false-positive rate, and the likelihood ratio it earned at 1 %, which caps its
weight in fusion.

Generator attribution cannot be measured on held-out families (they have no class), so it is
measured by a second split that holds out whole source groups instead: a family with another
group in training is a family the head knows."""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from detector import Settings
from detector.model import Calibration

from .baseline import ContainerBaseline
from .data import Clip, fold_split, folds
from .evaluate import Scored, auc, headline, metrics, threshold_at_fpr, write_report
from .model import NetConfig, TemporalHead

# The classifier may never count for more than 20:1 either way, however well it did here: the
# folds are few and small, and footage from outside them will be harder (ARCHITECTURE §4).
MAX_LIKELIHOOD_RATIO = 20.0
# With a hundred-odd real clips, zero, one or two false alarms at the 1 % threshold say little:
# the FPR there is taken at the upper end of what the count allows, the one-sided Poisson upper
# bound at FPR_CONFIDENCE (k = 0, 1, 2 seen -> 1.8, 3.3, 4.6), so that a lucky sample does not
# inflate the weight. (Counting one false alarm more than seen, the v3 head's cap was 6.7:1 and
# two shared real clips, Vid4's calendar and CoTracker's teddy, were called likely fabricated at
# 0.856; with the plain count v2's cap was 6.4:1 and Vid4's calendar reached 0.850.)
FPR_CONFIDENCE = 0.84  # one standard deviation, one-sided
VIEWS = ("delivered", "normalised")
# The generators a desk meets most, reported on their own rows (each against every real clip).
COMMERCIAL = ("sora", "kling", "runway-gen2", "runway-gen3", "pika", "hailuo", "veo", "luma")


@dataclass
class CrossVal:
    folds: int
    clips: list[Clip]
    logits: dict[str, dict[Path, float]]  # view -> clip path -> out-of-fold logit
    baseline: list[Scored]
    attribution: dict
    fold_of: dict[Path, int]
    calibration: Calibration = field(default_factory=Calibration)

    def scored(self, view: str) -> list[Scored]:
        """Calibrated out-of-fold probabilities of the clips that could be read."""
        out = []
        for clip in self.clips:
            value = self.logits[view].get(clip.path)
            if value is None:
                out.append(Scored(clip, None, error="unreadable"))
                continue
            out.append(Scored(clip, self.calibration.probability(value)))
        return out

    def sections(self) -> dict[str, dict]:
        thresholds = self.calibration.thresholds
        delivered, normalised = self.scored("delivered"), self.scored("normalised")
        sections = {
            "cross-validated classifier, as delivered": metrics(delivered, thresholds),
            "cross-validated classifier, normalised": metrics(normalised, thresholds),
            "cross-validated container baseline, as delivered": metrics(self.baseline),
        }
        # the same out-of-fold scores on a part of the clips, at the same thresholds
        parts = {}
        fabricated = [c for c in self.clips if c.fabricated]
        if any(c.generator in COMMERCIAL for c in fabricated):
            parts["commercial families and every real clip"] = _commercial_or_real
        if any(c.manipulation for c in fabricated) and not all(c.manipulation for c in fabricated):
            parts["face rows and every real clip"] = _face_row_or_real  # the faces model's
        collections = sorted({c.collection for c in self.clips})
        if len(collections) > 1:
            for name in collections:
                parts[f"{name} manifest only"] = lambda c, name=name: c.collection == name
        for part, chosen in parts.items():
            for view, scored in (("as delivered", delivered), ("normalised", normalised)):
                picked = [s for s in scored if chosen(s.clip)]
                sections[f"cross-validated classifier, {part}, {view}"] = metrics(
                    picked, thresholds
                )
        return sections

    def weight(self) -> dict:
        """What fusion makes of the out-of-fold scores: the AUC of the capped log-likelihood
        ratio beside the logit's (ties at the cap lose ranking), and the clips at the cap."""
        calibration = self.calibration
        chosen = [c for c in self.clips if c.path in self.logits["delivered"]]
        labels = np.array([int(c.fabricated) for c in chosen])
        z = np.array([self.logits["delivered"][c.path] for c in chosen])
        weights = np.array([calibration.log_lr(v) for v in z])
        cap = calibration.max_log_lr or 0.0
        at_cap = np.isclose(weights, cap) if cap else np.zeros(len(z), bool)
        return {
            "auc_of_logit": auc(labels, z),
            "auc_of_capped_log_lr": auc(labels, weights),
            "at_cap": {
                "ai": int(at_cap[labels == 1].sum()),
                "real": int(at_cap[labels == 0].sum()),
            },
        }

    def summary(self) -> dict:
        sections = {name: headline(result) for name, result in self.sections().items()}
        return {
            "folds": self.folds,
            "split": "whole units: generator families and real sources with their "
            "near-duplicates (data.units), largest first to the emptiest fold; clips sharing "
            "a group or repository with a held-out clip left out of its training (data.apart)",
            **sections,
            "attribution_on_known_families": self.attribution,
            "likelihood_ratio_at_1pct_fpr": round(math.exp(self.calibration.max_log_lr or 0), 3),
            "weight_in_fusion": self.weight(),
        }

    def write(self, folder: Path) -> Path:
        folds_table = {str(c.path): self.fold_of.get(c.path) for c in self.clips}
        extra = {
            "attribution_on_known_families": json.dumps(self.attribution),
            "likelihood_ratio_at_1pct_fpr": math.exp(self.calibration.max_log_lr or 0),
        }
        report = write_report(self.sections(), folder, extra)
        (folder / "folds.json").write_text(json.dumps(folds_table, indent=1))
        return report


def cross_validate(clips: list[Clip], samples: dict, config, log) -> CrossVal:
    """Out-of-fold logits of every readable clip, as delivered and normalised."""
    from .train import fit_head, head_scores

    fold_list = folds(clips, config.cv, config.seed)
    fold_of = dict(zip([c.path for c in clips], fold_list, strict=True))
    logits: dict[str, dict[Path, float]] = {view: {} for view in VIEWS}
    baseline: list[Scored] = []
    settings = Settings(threads=1)
    for fold in range(config.cv):
        train, test = fold_split(clips, fold_list, fold)
        head = _fit(train, samples, config, fit_head)
        for clip in test:
            sample = samples.get(clip.path)
            for view in VIEWS:  # a face clip's normalised copy may show no face
                if sample is not None and view in sample.views:
                    logits[view][clip.path] = head_scores(head, sample, view)[0]
        baseline += ContainerBaseline(settings).fit(train).score(test)
        families = sorted({c.generator for c in test if c.fabricated})
        log(
            f"  fold {fold + 1}/{config.cv}: {len(test)} clips held out ({', '.join(families)}); "
            f"trained on {len(train)}, {len(clips) - len(test) - len(train)} kept apart"
        )
    result = CrossVal(config.cv, clips, logits, _in_order(clips, baseline), {}, fold_of)
    result.calibration = _calibrate(clips, logits)
    result.attribution = _attribution(clips, samples, config, fit_head, head_scores)
    delivered = result.sections()["cross-validated classifier, as delivered"]
    log(
        f"cross-validated: AUC {delivered['auc']:.3f} as delivered, "
        f"{result.sections()['cross-validated classifier, normalised']['auc']:.3f} normalised; "
        f"TPR at 1 %/5 % FPR {delivered['tpr_at_0.01_fpr']:.2f}/{delivered['tpr_at_0.05_fpr']:.2f}"
    )
    return result


def _fit(train: list[Clip], samples: dict, config, fit_head) -> TemporalHead:
    readable = [samples[c.path] for c in train if c.path in samples]
    generators = sorted({s.clip.generator for s in readable if s.clip.fabricated})
    features = next(iter(readable)).views["delivered"].shape[-1]
    head = TemporalHead(
        features, NetConfig(dim=config.dim, dropout=config.dropout, generators=generators)
    )
    head.generators = generators
    fit_head(head, readable, generators, config)
    return head


def _calibrate(clips: list[Clip], logits: dict[str, dict[Path, float]]) -> Calibration:
    """Platt scaling on the delivered out-of-fold logits; thresholds at 1 % and 5 % FPR; and
    the likelihood ratio TPR / FPR at the 1 % threshold (the FPR at its upper bound, poisson_upper),
    the smaller of delivered and normalised, at most MAX_LIKELIHOOD_RATIO."""
    scored = [c for c in clips if c.path in logits["delivered"]]
    labels = np.array([float(c.fabricated) for c in scored])
    z = np.array([logits["delivered"][c.path] for c in scored])
    a, b = _platt(z, labels)
    calibration = Calibration(temperature=1 / a, bias=b, train_prior=float(labels.mean()))
    p = _sigmoid(z * a + b)
    thresholds = {f"{fpr:g}": threshold_at_fpr(labels, p, fpr) for fpr in (0.01, 0.05)}
    ratios = []
    for view in VIEWS:
        chosen = [c for c in clips if c.path in logits[view]]
        y = np.array([c.fabricated for c in chosen])
        q = _sigmoid(np.array([logits[view][c.path] for c in chosen]) * a + b)
        cut = thresholds["0.01"]
        tpr = (q[y] >= cut).mean()
        fpr = poisson_upper((q[~y] >= cut).sum(), FPR_CONFIDENCE) / (~y).sum()
        ratios.append(tpr / fpr)
    ratio = min(MAX_LIKELIHOOD_RATIO, max(min(ratios), 1.0))
    knots = log_lr_knots(z, labels)
    return calibration.model_copy(
        update={"thresholds": thresholds, "max_log_lr": math.log(ratio), "log_lr_knots": knots}
    )


def log_lr_knots(z: np.ndarray, labels: np.ndarray) -> list[tuple[float, float]]:
    """The log-likelihood ratio as an increasing function of the logit: isotonic regression of
    the label on the out-of-fold logits (pool adjacent violators), each pooled block's share of
    AI clips against the share overall. One knot per block, at its mean logit: the blocks'
    shares rise strictly, so clips between knots keep their order."""
    order = np.argsort(z, kind="stable")
    blocks: list[list[float]] = []  # [sum of logits, AI clips, clips]
    for value, label in zip(z[order], labels[order], strict=True):
        blocks.append([float(value), float(label), 1.0])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            last = blocks.pop()
            blocks[-1] = [a + b for a, b in zip(blocks[-1], last, strict=True)]
    prior = labels.mean()
    prior_odds = math.log(prior / (1 - prior))
    # a block of one label alone is held half a clip off certainty: finite, and the card's
    # cap (max_log_lr) decides how much it may say
    edge = 0.5 / len(z)
    knots = []
    for total, ai, n in blocks:
        share = min(max(ai / n, edge), 1 - edge)
        knots.append((total / n, math.log(share / (1 - share)) - prior_odds))
    return knots


def poisson_upper(count: int, confidence: float) -> float:
    """The rate λ for which seeing at most ``count`` events has probability 1 - ``confidence``:
    the one-sided upper confidence bound of a Poisson count (bisection on its CDF)."""

    def cdf(rate: float) -> float:
        term = total = math.exp(-rate)
        for i in range(1, count + 1):
            term *= rate / i
            total += term
        return total

    low, high = 0.0, count + 10.0 * math.sqrt(count + 1) + 10.0
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if cdf(middle) > 1 - confidence else (low, middle)
    return (low + high) / 2


def _platt(z: np.ndarray, y: np.ndarray, steps: int = 100) -> tuple[float, float]:
    """a, b minimising the log loss of sigmoid(a z + b) against Platt's smoothed targets (which
    keep a finite on separable scores), by Newton's method with step halving; a kept positive."""
    positives, negatives = y.sum(), len(y) - y.sum()
    t = np.where(y == 1, (positives + 1) / (positives + 2), 1 / (negatives + 2))

    def loss(a: float, b: float) -> float:
        x = a * z + b
        return float((np.logaddexp(0, x) - t * x).sum())

    a, b = 1.0 / max(z.std(), 1e-6), 0.0
    for _ in range(steps):
        p = _sigmoid(a * z + b)
        g = np.array([((p - t) * z).sum(), (p - t).sum()])
        w = p * (1 - p) + 1e-12
        h = np.array([[(w * z * z).sum(), (w * z).sum()], [(w * z).sum(), w.sum()]])
        step = np.linalg.solve(h + 1e-9 * np.eye(2), g)
        scale, before = 1.0, loss(a, b)
        while scale > 1e-6 and loss(a - scale * step[0], b - scale * step[1]) > before:
            scale /= 2
        a, b = a - scale * step[0], b - scale * step[1]
        if np.abs(scale * step).max() < 1e-9:
            break
    return max(a, 1e-6), b


def _attribution(clips, samples, config, fit_head, head_scores) -> dict:
    """Generator named right on AI clips of families the head knows: folds by source group."""
    groups = sorted({c.source_group for c in clips})
    fold_of_group = {g: i % config.cv for i, g in enumerate(groups)}
    named, correct, per_family = 0, 0, {}
    for fold in range(config.cv):
        train = [c for c in clips if fold_of_group[c.source_group] != fold]
        head = _fit(train, samples, config, fit_head)
        for clip in clips:
            if fold_of_group[clip.source_group] != fold or clip.path not in samples:
                continue
            if not clip.fabricated or clip.generator not in head.generators:
                continue
            _, generator_logits = head_scores(head, samples[clip.path], "delivered")
            guess = head.generators[int(np.argmax(generator_logits))]
            named += 1
            correct += guess == clip.generator
            row = per_family.setdefault(clip.generator, [0, 0])
            row[0] += 1
            row[1] += guess == clip.generator
    return {
        "clips": named,
        "correct": correct,
        "accuracy": round(correct / named, 3) if named else None,
        "per_family": {f: {"clips": n, "correct": k} for f, (n, k) in sorted(per_family.items())},
    }


def _commercial_or_real(clip: Clip) -> bool:
    return not clip.fabricated or clip.generator in COMMERCIAL


def _face_row_or_real(clip: Clip) -> bool:
    return not clip.fabricated or bool(clip.manipulation)


def _in_order(clips: list[Clip], scored: list[Scored]) -> list[Scored]:
    by_path = {s.clip.path: s for s in scored}
    return [by_path[c.path] for c in clips]


def _sigmoid(x):
    return 1 / (1 + np.exp(-np.clip(x, -500, 500)))
