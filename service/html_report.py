"""A Report as one self-contained HTML page (inline CSS and pictures, no script)."""

import base64
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from detector.report import Report
from detector.thumbnails import Thumbnail

from .present import VERDICT_MEANING, generator_name, headline, strength


@cache
def _environment() -> Environment:
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


def render_html(report: Report, thumbnails: list[Thumbnail] = ()) -> str:
    """The report page; ``thumbnails`` are key frames to show inline."""
    timeline_end = max((s.end_s for s in report.timeline), default=0) or (
        report.media.duration_s or 1
    )
    return (
        _environment()
        .get_template("report.html")
        .render(
            report=report,
            headline=headline(report),
            meaning=VERDICT_MEANING[report.verdict],
            strengths=[strength(e) for e in report.evidence],
            generator_names={g.name: generator_name(g.name) for g in report.generators},
            timeline_end=timeline_end,
            thumbnails=[
                {
                    "time_s": t.time_s,
                    "width": t.width,
                    "height": t.height,
                    "b64": base64.b64encode(t.jpeg).decode("ascii"),
                }
                for t in thumbnails
            ],
        )
    )


def render_scan_index(rows: list[dict], status_counts: dict[str, int]) -> str:
    """The summary page of a scan: counts, a histogram of likelihoods, a sortable table."""
    verdicts: dict[str, int] = {}
    histogram = [0] * 10
    for row in rows:
        if row["verdict"]:
            verdicts[row["verdict"]] = verdicts.get(row["verdict"], 0) + 1
            histogram[min(int(float(row["likelihood"]) * 10), 9)] += 1
    return (
        _environment()
        .get_template("scan.html")
        .render(
            rows=rows,
            verdict_counts=sorted(verdicts.items()),
            status_counts=sorted(status_counts.items()),
            histogram=histogram,
            histogram_top=max(histogram) or 1,
        )
    )
