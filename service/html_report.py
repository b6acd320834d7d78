"""A Report as one self-contained HTML page (inline CSS and pictures, no script)."""

import base64
import json
from collections.abc import Sequence
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from detector.report import Report
from detector.thumbnails import Thumbnail

from .present import VERDICT_MEANING, generator_name, headline, strength


@cache
def environment() -> Environment:
    # Autoescaping is what keeps a title tag like "<script>" in a video file harmless.
    return Environment(
        loader=PackageLoader("service", "templates"),
        autoescape=select_autoescape(["html"]),
    )


PICTURES = 8  # key frames shown in a report


def picture_times(report: Report) -> list[float]:
    """At most ``PICTURES`` of the report's key-frame times, spread over the video."""
    times = report.sampling.key_frames_s
    if len(times) <= PICTURES:
        return times
    return sorted({times[round(i * (len(times) - 1) / (PICTURES - 1))] for i in range(PICTURES)})


def render_html(report: Report, thumbnails: Sequence[Thumbnail] = ()) -> str:
    """The report page; ``thumbnails`` are key frames to show inline."""
    return environment().get_template("report.html").render(report_context(report, thumbnails))


def report_context(report: Report, thumbnails: Sequence[Thumbnail] = ()) -> dict:
    """What the report templates need; the web result page renders the same body."""
    timeline_end = max((s.end_s for s in report.timeline), default=0) or (
        report.media.duration_s or 1
    )
    marks = _visible_marks(report)
    return {
        "report": report,
        "headline": headline(report),
        "meaning": VERDICT_MEANING[report.verdict],
        "strengths": [strength(e) for e in report.evidence],
        "generator_names": {g.name: generator_name(g.name) for g in report.generators},
        "timeline_end": timeline_end,
        "thumbnails": [
            {
                "time_s": t.time_s,
                "width": t.width,
                "height": t.height,
                "b64": base64.b64encode(t.jpeg).decode("ascii"),
                "outlines": [o for seen, o in marks if seen[0] - 0.5 <= t.time_s <= seen[1] + 0.5],
            }
            for t in thumbnails
        ],
    }


def _visible_marks(report: Report) -> list[tuple[tuple[float, float], dict]]:
    """Where the visible-mark check saw marks and overlays: ((first, last seen), outline in
    percent of the frame), to draw over the key frames."""
    width, height = report.media.width or 0, report.media.height or 0
    if report.media.rotation in (90, 270):
        width, height = height, width
    found = []
    for evidence in report.evidence:
        if evidence.check != "visible_watermark" or not width or not height:
            continue
        for sighting in evidence.details.get("marks", []) + evidence.details.get("overlays", []):
            x, y, w, h = sighting["box"]
            seen = sighting["seen_at_s"] or [0.0]
            outline = {
                "left": round(100 * x / width, 2),
                "top": round(100 * y / height, 2),
                "width": round(100 * w / width, 2),
                "height": round(100 * h / height, 2),
                "label": sighting["mark"] or sighting["text"],
            }
            found.append(((min(seen), max(seen)), outline))
    return found


def thumbnails_to_json(thumbnails: Sequence[Thumbnail]) -> str:
    """Key-frame pictures as JSON, to keep beside a stored Report."""
    return json.dumps(
        [
            {
                "time_s": t.time_s,
                "width": t.width,
                "height": t.height,
                "jpeg": base64.b64encode(t.jpeg).decode("ascii"),
            }
            for t in thumbnails
        ]
    )


def thumbnails_from_json(text: str | None) -> list[Thumbnail]:
    return [
        Thumbnail(t["time_s"], base64.b64decode(t["jpeg"]), t["width"], t["height"])
        for t in json.loads(text or "[]")
    ]


def render_scan_index(rows: list[dict], status_counts: dict[str, int]) -> str:
    """The summary page of a scan: counts, a histogram of likelihoods, a sortable table."""
    verdicts: dict[str, int] = {}
    histogram = [0] * 10
    for row in rows:
        if row["verdict"]:
            verdicts[row["verdict"]] = verdicts.get(row["verdict"], 0) + 1
            histogram[min(int(float(row["likelihood"]) * 10), 9)] += 1
    return (
        environment()
        .get_template("scan.html")
        .render(
            rows=rows,
            verdict_counts=sorted(verdicts.items()),
            status_counts=sorted(status_counts.items()),
            histogram=histogram,
            histogram_top=max(histogram) or 1,
        )
    )
