"""What the report pages draw: the classifier's per-window scores against time with the faces
judged in a row beneath, and outlines over the key frames (the visible marks read, where the
model looked hardest, the faces judged). Geometry only;
the templates draw it as SVG and boxes, on the server, with no script."""

import math

from detector.fusion import LIKELY_FABRICATED_AT, NO_EVIDENCE_BELOW
from detector.report import Report, Verdict

WIDTH, HEIGHT = 640, 150  # the drawing, in SVG units
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 30  # room for the axes' labels
MAX_TICKS = 8
FACE_ROW = 20  # the row under the axis where the faces judged are drawn
MARK_SLACK_S = 0.5


def timeline(report: Report, frame_times: list[float]) -> dict | None:
    """Bars for the windows the classifier scored, on a time axis in seconds, with the
    threshold at 5 % false alarms as a line; a window above it is marked and linked to the key
    frame nearest to it (an index into ``frame_times``). The faces check's spans are a row of
    their own under the axis, red where a face scored above its model's 5 % line. None without
    per-window scores."""
    faces = _evidence(report, "faces")
    face_spans = faces.details.get("regions", []) if faces else []
    segments = [s for s in report.timeline if not faces or s not in faces.segments]
    if not segments and not face_spans:
        return None
    end = max(s.end_s for s in report.timeline) or report.media.duration_s or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return round(LEFT + plot_w * t / end, 1)

    def y(score: float) -> float:
        return round(TOP + plot_h * (1 - score), 1)

    threshold = _threshold(report)
    bars = []
    segments = sorted(segments, key=lambda s: s.start_s)
    starts = [s.start_s for s in segments[1:]] + [math.inf]
    for s, next_start in zip(segments, starts, strict=True):
        # windows of a short clip overlap: each bar stops where the next window starts, so
        # that every bar stays visible (and clickable); its title keeps the whole window
        shown_end = min(s.end_s, next_start) if next_start > s.start_s else s.end_s
        above = threshold is not None and s.score >= threshold
        nearest = (
            min(range(len(frame_times)), key=lambda i: abs(frame_times[i] - s.start_s))
            if above and frame_times
            else None
        )
        bars.append(
            {
                "x": x(s.start_s),
                "y": y(s.score),
                "width": max(x(shown_end) - x(s.start_s) - 1, 3.0),
                "height": round(TOP + plot_h - y(s.score), 1),
                "start_s": s.start_s,
                "end_s": s.end_s,
                "score": s.score,
                "above": above,
                "frame": nearest,
            }
        )
    step = _tick_step(end)
    face_line = faces.details.get("threshold_at_5pct_fpr") if faces else None
    return {
        "width": WIDTH,
        "height": HEIGHT + (FACE_ROW if face_spans else 0),
        "label_y": HEIGHT - 2,
        "faces_y": HEIGHT,
        "faces": [
            {
                "x": x(span["start_s"]),
                "width": max(x(span["end_s"]) - x(span["start_s"]), 3.0),
                "start_s": span["start_s"],
                "end_s": span["end_s"],
                "score": span["score"],
                "above": face_line is not None and span["score"] >= face_line,
            }
            for span in face_spans
        ],
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": TOP + plot_h,
        "end_s": end,
        "bars": bars,
        "x_ticks": [{"x": x(t), "label": f"{t:g}"} for t in _arange(0, end + 1e-9, step)],
        "y_ticks": [{"y": y(v), "label": f"{v:.0%}"} for v in (0, 0.5, 1)],
        "threshold": None if threshold is None else {"y": y(threshold), "value": threshold},
        "above": sum(b["above"] for b in bars),
    }


def outlines(report: Report) -> list[tuple[tuple[float, float], dict]]:
    """Boxes to draw over the key frames: ((from, to), outline in percent of the frame), to be
    drawn on the key frames between those times. Kind "mark": a visible mark or overlay the OCR
    read, from half a second before it was first seen to half a second after it was last seen
    (it was read on a few sampled frames); kind "region": the crop the classifier scored
    highest in a window, on the frames of that window, labelled with its score; kind "face":
    each face the faces check judged, on the frames of its window, with its score."""
    width, height = report.media.width or 0, report.media.height or 0
    if report.media.rotation in (90, 270):
        width, height = height, width
    if not width or not height:
        return []
    found = []
    for evidence in report.evidence:
        if evidence.check == "visible_watermark":
            for seen in evidence.details.get("marks", []) + evidence.details.get("overlays", []):
                times = seen["seen_at_s"] or [0.0]
                label = seen["mark"] or seen["text"]
                outline = _box(seen["box"], width, height, label, "mark")
                found.append(((min(times) - MARK_SLACK_S, max(times) + MARK_SLACK_S), outline))
        elif evidence.check in ("classifier", "faces"):
            kind = "region" if evidence.check == "classifier" else "face"
            for region in evidence.details.get("regions", []):
                label = f"{region['score']:.0%}"
                outline = _box(region["box"], width, height, label, kind)
                found.append(((region["start_s"] - 1e-3, region["end_s"] + 1e-3), outline))
    return found


def _box(box: list[int], width: int, height: int, label: str, kind: str) -> dict:
    x0, y0, w, h = box
    return {
        "left": round(100 * x0 / width, 2),
        "top": round(100 * y0 / height, 2),
        "width": round(100 * w / width, 2),
        "height": round(100 * h / height, 2),
        "label": label,
        "kind": kind,
    }


def _threshold(report: Report) -> float | None:
    classifier = _evidence(report, "classifier")
    return classifier.details.get("threshold_at_5pct_fpr") if classifier else None


def _evidence(report: Report, check: str):
    return next((e for e in report.evidence if e.check == check), None)


def _tick_step(end: float) -> float:
    """1, 2 or 5 times a power of ten, so that at most MAX_TICKS ticks fit."""
    raw = end / MAX_TICKS
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _arange(start: float, stop: float, step: float) -> list[float]:
    return [round(start + i * step, 6) for i in range(int((stop - start) / step) + 1)]


HISTOGRAM_BINS = 10


def histogram(likelihoods: list[float]) -> dict:
    """Files per tenth of likelihood, as bars on axes: likelihood in percent along the bottom,
    number of files up the side (ticks at round counts), and under the axis a strip coloured
    by the verdict each likelihood gets (fusion's cut-offs)."""
    counts = [0] * HISTOGRAM_BINS
    for value in likelihoods:
        counts[min(int(value * HISTOGRAM_BINS), HISTOGRAM_BINS - 1)] += 1
    top = max(counts) or 1
    step = max(1, int(_tick_step(top * 2)))  # whole files, about four ticks up the side
    ceiling = step * math.ceil(top / step)
    width, height = 480, 196
    left, right, upper, bottom = 44, 24, 10, 46
    plot_w, plot_h = width - left - right, height - upper - bottom
    bar_w = plot_w / HISTOGRAM_BINS

    def y(count: float) -> float:
        return round(upper + plot_h * (1 - count / ceiling), 1)

    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "bottom": upper + plot_h,
        "bars": [
            {
                "x": round(left + i * bar_w + 1, 1),
                "y": y(n),
                "width": round(bar_w - 2, 1),
                "height": round(upper + plot_h - y(n), 1),
                "count": n,
                "low": i * 100 // HISTOGRAM_BINS,
                "high": (i + 1) * 100 // HISTOGRAM_BINS,
            }
            for i, n in enumerate(counts)
        ],
        "x_ticks": [
            {"x": round(left + i * bar_w, 1), "label": f"{i * 100 // HISTOGRAM_BINS}"}
            for i in range(0, HISTOGRAM_BINS + 1, 2)
        ],
        "y_ticks": [{"y": y(c), "label": str(c)} for c in range(0, ceiling + 1, step)],
        "bands": [
            {
                "x": round(left + plot_w * low, 1),
                "width": round(plot_w * (high - low), 1),
                "verdict": v,
            }
            for low, high, v in VERDICT_BANDS
        ],
    }


# where fusion puts each verdict on the likelihood scale
VERDICT_BANDS = (
    (0.0, NO_EVIDENCE_BELOW, Verdict.NO_EVIDENCE_OF_FABRICATION),
    (NO_EVIDENCE_BELOW, LIKELY_FABRICATED_AT, Verdict.INCONCLUSIVE),
    (LIKELY_FABRICATED_AT, 1.0, Verdict.LIKELY_FABRICATED),
)
