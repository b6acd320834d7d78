"""A Report as one self-contained HTML page (inline CSS and pictures, no script)."""

import base64
import json
from collections.abc import Sequence
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from detector.report import Report
from detector.thumbnails import Thumbnail

from .drawing import outlines, timeline
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
    boxes = outlines(report)
    return {
        "report": report,
        "headline": headline(report),
        "meaning": VERDICT_MEANING[report.verdict],
        "strengths": [strength(e) for e in report.evidence],
        "generator_names": {g.name: generator_name(g.name) for g in report.generators},
        "timeline": timeline(report, [t.time_s for t in thumbnails]),
        "thumbnails": [
            {
                "time_s": t.time_s,
                "width": t.width,
                "height": t.height,
                "b64": base64.b64encode(t.jpeg).decode("ascii"),
                "outlines": [o for (start, end), o in boxes if start <= t.time_s <= end],
            }
            for t in thumbnails
        ],
    }


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
