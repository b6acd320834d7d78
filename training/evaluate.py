"""Scoring a labelled manifest with the whole pipeline, or the classifier alone, and the metrics
a model card and ``verity eval`` report: AUC, AP, TPR at 1 % and 5 % FPR, recall per generator,
generator attribution, expected calibration error with a reliability diagram, and the files
scored most wrongly."""

import itertools
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw

from detector import MediaError, Settings, analyze
from detector.generators import key_for_family
from detector.registry import check_names

from .augment import degraded_copy, normalised_frames, write_clip
from .data import Clip

FPRS = (0.01, 0.05)
BINS = 10
Progress = Callable[[int, int], None]


@dataclass
class Scored:
    clip: Clip
    score: float | None  # probability of fabrication; None when the file could not be read
    generator: str | None = None  # the generator the scorer named, if any
    error: str = ""


def classifier_settings(settings: Settings) -> Settings:
    """The same settings with every check but the classifier switched off."""
    others = [name for name in check_names() if name != "classifier"]
    return settings.model_copy(update={"disabled_checks": others})


def score_clips(
    clips: list[Clip], settings: Settings, classifier_only: bool, progress: Progress | None = None
) -> list[Scored]:
    """Each clip's probability of fabrication: the Report's likelihood, or the classifier's."""
    if classifier_only:
        settings = classifier_settings(settings)
    scored = []
    for i, clip in enumerate(clips):
        try:
            scored.append(_score(clip, clip.path, settings, classifier_only))
        except MediaError as e:
            scored.append(Scored(clip, None, error=str(e)))
        if progress:
            progress(i + 1, len(clips))
    return scored


def _score(clip: Clip, path: Path, settings: Settings, classifier_only: bool) -> Scored:
    report = analyze(path, settings)
    if not classifier_only:
        top = report.generators[0].name if report.generators else None
        return Scored(clip, report.fabrication_likelihood, top)
    (evidence,) = [e for e in report.evidence if e.check == "classifier"]
    if evidence.status != "ok":
        raise MediaError(evidence.summary)
    named = max(evidence.generators, key=evidence.generators.get) if evidence.generators else None
    return Scored(clip, evidence.details["probability"], named)


def score_normalised(
    clips: list[Clip], settings: Settings, classifier_only: bool, progress: Progress | None = None
) -> list[Scored]:
    """The same, on format-normalised copies (see ``normalised_copies``)."""
    with normalised_copies(clips, settings) as copies:
        return reported_as(clips, score_clips(copies, settings, classifier_only, progress))


@contextmanager
def normalised_copies(clips: list[Clip], settings: Settings) -> Iterator[list[Clip]]:
    """Format-normalised copies of the clips, in their order, for the length of the block:
    same codec, frame size, frame rate and length, no metadata (what a social platform's
    re-encode leaves), so that only the pixels differ."""
    with tempfile.TemporaryDirectory(prefix="verity-normalised-") as folder:
        copies = []
        for i, clip in enumerate(clips):
            try:
                frames = normalised_frames(clip.path, settings)
            except (MediaError, ValueError):
                copies.append(clip)  # scored as delivered, it fails the same way
                continue
            copy = write_clip(frames, Path(folder) / f"{i:05}.mp4", "mp4")
            copies.append(Clip(copy, clip.label, clip.generator, clip.source_group))
        yield copies


def reported_as(clips: list[Clip], scored: list[Scored]) -> list[Scored]:
    """Scores of copies, each reported against the clip it was made from."""
    for original, result in zip(clips, scored, strict=True):
        result.clip = original
    return scored


def format_shift(clips: list[Clip], settings: Settings) -> float:
    """Mean absolute change of the classifier's score for one clip presented as MP4, GIF and
    WebP (the same frames): how much the container alone moves it."""
    settings = classifier_settings(settings)
    changes = []
    with tempfile.TemporaryDirectory(prefix="verity-formats-") as folder:
        for i, clip in enumerate(clips):
            try:
                frames = normalised_frames(clip.path, settings)
                scores = []
                for fmt in ("mp4", "gif", "webp"):
                    path = write_clip(frames, Path(folder) / f"{i:05}.{fmt}", fmt)
                    scores.append(_score(clip, path, settings, True).score)
            except (MediaError, ValueError):
                continue
            changes += [abs(a - b) for j, a in enumerate(scores) for b in scores[j + 1 :]]
    return float(np.mean(changes)) if changes else float("nan")


def degraded_shift(clips: list[Clip], settings: Settings) -> float:
    """Mean absolute change of the classifier's score between each clip as delivered and a
    480p H.264 CRF 28 copy of it (augment.degraded_copy)."""
    settings = classifier_settings(settings)
    changes = []
    with tempfile.TemporaryDirectory(prefix="verity-degraded-") as folder:
        for i, clip in enumerate(clips):
            try:
                original = _score(clip, clip.path, settings, True).score
                copy = degraded_copy(clip.path, Path(folder) / f"{i:05}.mp4")
                changes.append(abs(original - _score(clip, copy, settings, True).score))
            except (MediaError, ValueError, av.error.FFmpegError):
                continue
    return float(np.mean(changes)) if changes else float("nan")


# ---- metrics --------------------------------------------------------------------------------


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (the Mann-Whitney statistic; ties count half)."""
    positives, negatives = scores[labels == 1], scores[labels == 0]
    if not len(positives) or not len(negatives):
        return float("nan")
    greater = (positives[:, None] > negatives[None, :]).sum()
    ties = (positives[:, None] == negatives[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(positives) * len(negatives)))


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """Precision averaged over the recall gained at each distinct score threshold (tied scores
    are one threshold, so a constant scorer gets the share of AI clips, not a lucky order)."""
    if not labels.sum():
        return float("nan")
    ap, recall_before = 0.0, 0.0
    for cut in np.unique(scores)[::-1]:
        chosen = scores >= cut
        hits = labels[chosen].sum()
        recall = hits / labels.sum()
        ap += (recall - recall_before) * hits / chosen.sum()
        recall_before = recall
    return float(ap)


def threshold_at_fpr(labels: np.ndarray, scores: np.ndarray, fpr: float) -> float:
    """The lowest score threshold at which at most ``fpr`` of the real clips score at or above."""
    negatives = np.sort(scores[labels == 0])[::-1]
    allowed = int(np.floor(fpr * len(negatives)))
    if allowed >= len(negatives):
        return float(negatives[-1]) if len(negatives) else 0.5
    # strictly above the (allowed+1)-th highest real score
    return float(np.nextafter(negatives[allowed], np.inf))


def expected_calibration_error(labels, scores, bins: int = BINS) -> tuple[float, list[dict]]:
    edges = np.linspace(0, 1, bins + 1)
    table, error = [], 0.0
    for low, high in itertools.pairwise(edges):
        inside = (scores >= low) & ((scores < high) | (high == 1.0))
        if not inside.any():
            table.append({"low": low, "high": high, "n": 0})
            continue
        confidence, accuracy = float(scores[inside].mean()), float(labels[inside].mean())
        error += inside.mean() * abs(confidence - accuracy)
        table.append(
            {
                "low": low,
                "high": high,
                "n": int(inside.sum()),
                "mean_score": confidence,
                "share_fabricated": accuracy,
            }
        )
    return float(error), table


def metrics(scored: list[Scored], thresholds: dict[str, float] | None = None) -> dict:
    """Every number of the evaluation table, from the clips that could be scored."""
    usable = [s for s in scored if s.score is not None]
    labels = np.array([int(s.clip.fabricated) for s in usable])
    scores = np.array([s.score for s in usable], dtype=float)
    result: dict = {
        "clips": len(scored),
        "scored": len(usable),
        "unreadable": len(scored) - len(usable),
        "ai": int(labels.sum()),
        "real": int((1 - labels).sum()),
        "auc": auc(labels, scores),
        "ap": average_precision(labels, scores),
    }
    thresholds = thresholds or {}
    for fpr in FPRS:
        key = f"{fpr:g}"
        cut = thresholds.get(key, threshold_at_fpr(labels, scores, fpr))
        result[f"tpr_at_{key}_fpr"] = (
            float((scores[labels == 1] >= cut).mean()) if labels.any() else float("nan")
        )
        result[f"fpr_at_{key}_threshold"] = (
            float((scores[labels == 0] >= cut).mean()) if (1 - labels).any() else float("nan")
        )
        result[f"threshold_{key}"] = cut
    cut = result["threshold_0.05"]
    per_generator = {}
    for generator in sorted({s.clip.generator for s in usable if s.clip.fabricated}):
        mine = [s for s in usable if s.clip.generator == generator]
        per_generator[generator] = {
            "clips": len(mine),
            "recall_at_5pct_fpr": float(np.mean([s.score >= cut for s in mine])),
        }
    result["per_generator"] = per_generator
    result["per_resolution"] = per_resolution(usable, cut)
    named = [s for s in usable if s.clip.fabricated and s.generator]
    result["attribution"] = {
        "named": len(named),
        "correct": sum(s.generator == key_for_family(s.clip.generator) for s in named),
    }
    result["ece"], result["reliability"] = expected_calibration_error(labels, scores)
    wrong = sorted(usable, key=lambda s: -abs(int(s.clip.fabricated) - s.score))[:10]
    result["most_wrong"] = [
        {
            "path": str(s.clip.path),
            "label": s.clip.label,
            "generator": s.clip.generator,
            "score": round(s.score, 4),
        }
        for s in wrong
    ]
    result["errors"] = [{"path": str(s.clip.path), "error": s.error} for s in scored if s.error]
    return result


# Bands of the frame's shorter side: research generators' galleries sit in the first two,
# camera footage in the last two, so a model that learnt the size instead of the pixels shows
# here as recall falling and false alarms rising with the band.
RESOLUTION_BANDS = ((0, 300), (300, 500), (500, 800), (800, 100_000))


def per_resolution(usable: list[Scored], cut: float) -> dict[str, dict]:
    """By band of the shorter side: AI clips and their recall at ``cut``, real clips and the
    share of them at or above it (false alarms). Clips whose size is not listed are left out."""
    table = {}
    for low, high in RESOLUTION_BANDS:
        inside = [s for s in usable if low <= s.clip.short_side < high and s.clip.short_side]
        ai = [s.score >= cut for s in inside if s.clip.fabricated]
        real = [s.score >= cut for s in inside if not s.clip.fabricated]
        table[f"{low}-{high if high < 100_000 else ''}"] = {
            "ai": len(ai),
            "recall_at_5pct_fpr": float(np.mean(ai)) if ai else None,
            "real": len(real),
            "false_alarms_at_5pct_fpr": float(np.mean(real)) if real else None,
        }
    return table


def headline(result: dict) -> dict:
    """The numbers of a ``metrics`` result, without its tables and lists (for a model card)."""
    return {k: v for k, v in result.items() if k not in ("reliability", "most_wrong", "errors")}


def _share_at_or_above(scores: np.ndarray, cut: float) -> float:
    return float((scores >= cut).mean()) if len(scores) else float("nan")


def reliability_diagram(table: list[dict], path: Path, title: str) -> Path:
    """Mean score against the share of fabricated clips per bin, as a PNG."""
    size, margin = 360, 40
    image = Image.new("RGB", (size + 2 * margin, size + 2 * margin), "white")
    draw = ImageDraw.Draw(image)

    def point(x: float, y: float) -> tuple[float, float]:
        return margin + x * size, margin + (1 - y) * size

    draw.rectangle([point(0, 1), point(1, 0)], outline="black")
    draw.line([point(0, 0), point(1, 1)], fill=(150, 150, 150), width=1)
    for row in table:
        if row["n"]:
            x0, y0 = point(row["low"], row["share_fabricated"])
            x1, y1 = point(row["high"], 0)
            draw.rectangle([x0 + 2, y0, x1 - 2, y1], fill=(31, 79, 191), outline=(20, 40, 120))
    draw.text((margin, 10), title, fill="black")
    draw.text((margin, size + margin + 8), "mean predicted probability per bin  ->", fill="black")
    draw.text((4, margin), "share\nAI", fill="black")
    image.save(path)
    return path


def markdown_table(sections: dict[str, dict]) -> str:
    """One column per evaluation (as delivered, normalised, baseline, ...)."""
    names = list(sections)
    rows = [
        ("clips scored", "scored", "{}"),
        ("AUC", "auc", "{:.3f}"),
        ("AP", "ap", "{:.3f}"),
        ("TPR at 1 % FPR", "tpr_at_0.01_fpr", "{:.2f}"),
        ("TPR at 5 % FPR", "tpr_at_0.05_fpr", "{:.2f}"),
        ("ECE", "ece", "{:.3f}"),
    ]
    lines = ["| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for label, key, fmt in rows:
        cells = [fmt.format(sections[n][key]) if key in sections[n] else "–" for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(sections: dict[str, dict], out: Path, extra: dict | None = None) -> Path:
    """eval.md, eval.json and a reliability diagram per section, in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# Evaluation", "", markdown_table(sections), ""]
    for name, result in sections.items():
        lines += ["", f"## {name}"]
        if "reliability" in result:
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            png = reliability_diagram(result["reliability"], out / f"reliability-{slug}.png", name)
            lines += ["", f"Reliability diagram: ![{name}]({png.name})"]
        if result.get("per_generator"):
            lines += [
                "",
                f"## Recall per generator ({name}, at the 5 % FPR threshold)",
                "",
                "| generator | clips | recall |",
                "|---|---|---|",
            ]
            for generator, row in result["per_generator"].items():
                lines.append(f"| {generator} | {row['clips']} | {row['recall_at_5pct_fpr']:.2f} |")
        if result.get("per_resolution"):
            lines += [
                "",
                f"## By resolution ({name}: shorter side, at the 5 % FPR threshold)",
                "",
                "| shorter side | AI clips | recall | real clips | false alarms |",
                "|---|---|---|---|---|",
            ]
            for band, row in result["per_resolution"].items():
                recall, alarms = row["recall_at_5pct_fpr"], row["false_alarms_at_5pct_fpr"]
                lines.append(
                    f"| {band} | {row['ai']} | {'–' if recall is None else f'{recall:.2f}'} "
                    f"| {row['real']} | {'–' if alarms is None else f'{alarms:.2f}'} |"
                )
        if result.get("most_wrong"):
            lines += ["", "Scored most wrongly:", ""]
            lines += [
                f"- {w['label']} {w['generator']}: {w['score']:.3f} {Path(w['path']).name}"
                for w in result["most_wrong"]
            ]
    for key, value in (extra or {}).items():
        lines += ["", f"{key}: {value}"]
    (out / "eval.md").write_text("\n".join(lines) + "\n")
    (out / "eval.json").write_text(json.dumps({"sections": sections, **(extra or {})}, indent=2))
    return out / "eval.md"
