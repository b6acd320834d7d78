"""A Report as one self-contained HTML page (inline CSS and pictures, no script)."""

import base64
import json
from collections.abc import Sequence
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from detector.frames import Frame
from detector.report import Report, Verdict
from detector.thumbnails import Thumbnail, thumbnails_of

from .drawing import histogram, outlines, timeline
from .i18n import LANGUAGES, N_, Words
from .present import (
    check_name,
    generator_name,
    headline,
    strength,
    summary,
    verdict_meaning,
    verdict_words,
)


@cache
def environment(lang: str = "en") -> Environment:
    """The templates, with ``_`` speaking ``lang`` (one environment per language, so that
    requests in different languages never share gettext state)."""
    # Autoescaping is what keeps a title tag like "<script>" in a video file harmless.
    env = Environment(
        loader=PackageLoader("service", "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    words = Words(lang)
    env.install_gettext_translations(words.translations, newstyle=True)
    env.globals.update(words=words, languages=LANGUAGES)
    return env


PICTURES = 8  # key frames shown in a report


def _shown(count: int) -> list[int]:
    """Which of ``count`` key frames a report shows: at most ``PICTURES``, spread over the video."""
    if count <= PICTURES:
        return list(range(count))
    return sorted({round(i * (count - 1) / (PICTURES - 1)) for i in range(PICTURES)})


def picture_times(report: Report) -> list[float]:
    """The times of the key frames the report's pages show."""
    times = report.sampling.key_frames_s
    return [times[i] for i in _shown(len(times))]


def render_html(
    report: Report, thumbnails: Sequence[Thumbnail] = (), words: Words | None = None
) -> str:
    """The report page; ``thumbnails`` are key frames to show inline."""
    words = words or Words()
    template = environment(words.lang).get_template("report.html")
    return template.render(report_context(report, words, thumbnails))


def report_context(report: Report, words: Words, thumbnails: Sequence[Thumbnail] = ()) -> dict:
    """What the report templates need; the web result page renders the same body."""
    boxes = outlines(report)
    return {
        "report": report,
        "headline": headline(report, words),
        "meaning": verdict_meaning(report.verdict, words),
        "evidence": [
            {
                "e": e,
                "details": shown_details(e.details),
                "name": check_name(e.check, words),
                "strength": strength(e, words),
                "summary": summary(e, words),
            }
            for e in report.evidence
        ],
        "limitations": [words.say(lim.phrase, lim.message) for lim in report.limitations],
        "generator_names": {g.name: generator_name(g.name, words) for g in report.generators},
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


def shown_details(details: dict) -> dict:
    """An evidence's details as a page shows them: a fingerprint's codes only counted (they are
    for machines; the JSON Report keeps them)."""
    kept = details.get("fingerprint")
    if not kept:
        return details
    counted = {"algorithm": kept.get("algorithm"), "codes": len(kept.get("codes", []))}
    return {**details, "fingerprint": counted}


def picture_frames(stills: list[Frame]) -> list[Frame]:
    """Of the key frames an analysis decoded (the Report's ``sampling.key_frames_s``, one for
    one), those its report pages show."""
    return [stills[i] for i in _shown(len(stills))]


def key_frame_pictures(stills: list[Frame]) -> str:
    """The key frames the report pages show, as JSON to keep beside the Report: made from the
    frames the analysis decoded (``analyze_keeping_stills``), while they are at hand."""
    return thumbnails_to_json(thumbnails_of(picture_frames(stills)))


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


def render_scan_index(rows: list[dict], status_counts: dict[str, int], words: Words) -> str:
    """The summary page of a scan: counts, a histogram of likelihoods with its axes, and a
    table to sort and filter, one row per file with its key frame and a link to its report."""
    verdicts: dict[str, int] = {}
    for row in rows:
        if row.get("verdict"):
            verdicts[row["verdict"]] = verdicts.get(row["verdict"], 0) + 1
    likelihoods = [float(row["likelihood"]) for row in rows if row.get("likelihood")]
    return (
        environment(words.lang)
        .get_template("scan.html")
        .render(
            rows=rows,
            verdict_counts=[
                (code, verdict_words(code, words), n) for code, n in sorted(verdicts.items())
            ],
            status_counts=[
                (words._(SCAN_STATUSES.get(name, name)), n)
                for name, n in sorted(status_counts.items())
            ],
            histogram=histogram(likelihoods),
            band_names={v: verdict_words(v, words) for v in Verdict},
            band_colours=BAND_COLOURS,
        )
    )


BAND_COLOURS = {
    Verdict.LIKELY_FABRICATED: "#c62828",
    Verdict.INCONCLUSIVE: "#d4a72c",
    Verdict.NO_EVIDENCE_OF_FABRICATION: "#2e7d32",
}
SCAN_STATUSES = {"done": N_("analysed"), "failed": N_("failed"), "skipped": N_("not a video")}
