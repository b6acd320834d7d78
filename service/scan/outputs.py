"""What a scan leaves in its folder, rebuilt from its state after every run."""

import csv
import json
from pathlib import Path

from detector.fusion import capped
from detector.report import Report

from ..html_report import render_html, render_scan_index
from .state import ScanState


def write_outputs(state: ScanState, out: Path) -> None:
    """reports.jsonl, summary.csv, index.html and one HTML report per analysed file, rebuilt
    from the state so that no row appears twice however often the scan was resumed."""
    pages = out / "reports"
    pages.mkdir(exist_ok=True)
    rows = []
    with (
        open(out / "reports.jsonl", "w", encoding="utf-8") as jsonl,
        open(out / "summary.csv", "w", newline="", encoding="utf-8") as summary,
    ):
        table = csv.writer(summary)
        table.writerow(
            ["path", "sha256", "verdict", "likelihood", "generator", "strongest_evidence", "error"]
        )
        for path, status, sha, error, report_data in state.rows():
            if status == "done" and report_data:
                report = Report.model_validate(report_data)
                page = f"reports/{sha[:12]}.html"
                if not (out / page).exists():
                    (out / page).write_text(render_html(report), encoding="utf-8")
                jsonl.write(json.dumps({"path": path, "report": report_data}) + "\n")
                row = _summary_row(path, report, page)
            else:
                jsonl.write(json.dumps({"path": path, "error": error}) + "\n")
                row = {
                    "path": path,
                    "sha256": sha or "",
                    "verdict": "",
                    "likelihood": "",
                    "generator": "",
                    "strongest": "",
                    "error": error or "",
                    "page": "",
                }
            table.writerow(
                [
                    row[k]
                    for k in (
                        "path",
                        "sha256",
                        "verdict",
                        "likelihood",
                        "generator",
                        "strongest",
                        "error",
                    )
                ]
            )
            rows.append(row)
    (out / "index.html").write_text(render_scan_index(rows, state.counts()), encoding="utf-8")


def _summary_row(path: str, report: Report, page: str) -> dict:
    weighty = [e for e in report.evidence if capped(e) != 0]
    strongest = max(weighty, key=lambda e: abs(capped(e)), default=None)
    return {
        "path": path,
        "sha256": report.media.sha256,
        "verdict": report.verdict.value,
        "likelihood": f"{report.fabrication_likelihood:.4f}",
        "generator": report.generators[0].name if report.generators else "",
        "strongest": f"{strongest.check}: {strongest.finding}" if strongest else "",
        "error": "",
        "page": page,
    }
