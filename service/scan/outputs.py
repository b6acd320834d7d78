"""What a scan leaves in its folder, rebuilt from its state after every run."""

import csv
import json
from pathlib import Path

from detector.report import Report

from ..html_report import render_html, render_scan_index, thumbnails_from_json
from ..i18n import DEFAULT, Words
from ..present import check_name, generator_name, percent, strongest, summary, verdict_words
from .state import ScanState

# summary.csv: machine-readable columns (codes, not words), for scripts as much as spreadsheets
COLUMNS = ("path", "sha256", "verdict", "likelihood", "generator", "strongest_evidence", "error")


def write_outputs(state: ScanState, out: Path, words: Words | None = None) -> None:
    """reports.jsonl, summary.csv, index.html and one HTML report (with its key frames) per
    analysed file, rebuilt from the state so that no row appears twice however often the scan
    was resumed. The pages are in ``words``' language."""
    words = words or Words()
    pages = out / "reports"
    pages.mkdir(exist_ok=True)
    rows = []
    # utf-8-sig: the byte-order mark tells spreadsheets (Excel above all) that the file is
    # UTF-8, so that file names in Chinese or Cyrillic open as written
    with (
        open(out / "reports.jsonl", "w", encoding="utf-8") as jsonl,
        open(out / "summary.csv", "w", newline="", encoding="utf-8-sig") as table_file,
    ):
        table = csv.writer(table_file)
        table.writerow(COLUMNS)
        for path, status, sha, error, report_data, pictures_json in state.rows():
            if status == "done" and report_data:
                report = Report.model_validate(report_data)
                jsonl.write(json.dumps({"path": path, "report": report_data}) + "\n")
                row = _report_row(path, report, pictures_json, out, words)
            else:
                jsonl.write(json.dumps({"path": path, "error": error}) + "\n")
                row = {"path": path, "sha256": sha or "", "error": error or ""}
            table.writerow([row.get(column, "") for column in COLUMNS])
            rows.append(row)
    index = render_scan_index(rows, state.counts(), words)
    (out / "index.html").write_text(index, encoding="utf-8")


def report_page(report: Report, lang: str = DEFAULT) -> str:
    """Where a file's report page is, under the scan's folder."""
    stem = _stem(report)
    return f"{stem}.html" if lang == DEFAULT else f"{stem}.{lang}.html"


def _stem(report: Report) -> str:
    return f"reports/{report.media.sha256[:12]}"


def _report_row(path: str, report: Report, pictures_json: str | None, out: Path, words) -> dict:
    """One analysed file's row, its report page (and key frame) written where missing."""
    page, stem = report_page(report, words.lang), _stem(report)
    pictures = thumbnails_from_json(pictures_json)
    if not (out / page).exists():
        (out / page).write_text(render_html(report, pictures, words), encoding="utf-8")
    picture = _row_picture(report, pictures)
    if picture is not None and not (out / f"{stem}.jpg").exists():
        (out / f"{stem}.jpg").write_bytes(picture.jpeg)
    top = strongest(report)
    generator = report.generators[0].name if report.generators else ""
    return {
        "path": path,
        "sha256": report.media.sha256,
        "verdict": report.verdict.value,
        "likelihood": f"{report.fabrication_likelihood:.4f}",
        "generator": generator,
        "strongest_evidence": f"{top.check}: {top.finding}" if top else "",
        # for the page, in words
        "verdict_words": verdict_words(report.verdict, words),
        "percent": percent(report.fabrication_likelihood),
        "generator_name": generator_name(generator, words) if generator else "",
        "evidence_name": check_name(top.check, words) if top else "",
        "evidence_words": summary(top, words) if top else "",
        "picture": f"{stem}.jpg" if picture is not None else "",
        "page": page,
    }


def _row_picture(report: Report, pictures: list):
    """The key frame to show beside a file: the one nearest the window the classifier scored
    highest, else the middle one."""
    if not pictures:
        return None
    if report.timeline:
        top = max(report.timeline, key=lambda s: s.score)
        return min(pictures, key=lambda p: abs(p.time_s - top.start_s))
    return pictures[len(pictures) // 2]
