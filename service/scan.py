"""``verity scan``: analyse every video under some folders, resumably, with a process pool.

Files are picked by their bytes, not their extension. Each distinct file (by SHA-256) is analysed
once and its Report stored in the scan's SQLite state; identical copies under other paths are
reported with it. One bad file is recorded with its reason and the scan goes on. Memory stays
flat: paths are walked lazily and at most a few analyses are in flight.
"""

import csv
import json
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from detector import MediaError, Settings, analyze
from detector.fusion import capped
from detector.probe import file_sha256
from detector.report import Report
from detector.sniff import HEAD_BYTES, sniff

from .html_report import render_html, render_scan_index
from .scan_state import ScanState

STATE_FILE = "state.sqlite"
IN_FLIGHT_PER_WORKER = 2

Progress = Callable[[str, dict[str, int]], None]


class ScanError(Exception):
    """The scan itself cannot run (not one file's problem)."""


@dataclass
class _File:
    path: str
    size: int
    mtime_ns: int
    sha256: str = ""


def scan(
    paths: list[Path],
    out: Path,
    workers: int,
    resume: bool,
    settings: Settings,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Scan ``paths`` into ``out``; return the counts by status. Raises ScanError."""
    for path in paths:
        if not path.exists():
            raise ScanError(f"{path}: no such file or folder")
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / STATE_FILE
    if state_path.exists() and not resume:
        raise ScanError(
            f"{out} holds a previous scan: pass --resume to continue it, or choose another --out"
        )
    if workers > 1 and not settings.threads:  # share the cores instead of fighting for them
        settings = settings.model_copy(update={"threads": max((os.cpu_count() or 1) // workers, 1)})
    state = ScanState(state_path)
    try:
        _run(paths, state, workers, settings, progress or (lambda event, counts: None))
    finally:
        write_outputs(state, out)
        counts = state.counts()
        state.close()
    return counts


def _run(paths, state: ScanState, workers: int, settings: Settings, progress: Progress) -> None:
    counts = {"done": 0, "failed": 0, "skipped": 0, "already": 0}
    progress("total", {"files": sum(1 for _ in _walk(paths))})
    waiting: dict[str, list[_File]] = {}  # sha256 -> copies waiting for the analysis in flight
    flying: dict[Future, _File] = {}
    pool = _pool(workers, settings)
    try:
        for file in _walk(paths):
            if state.is_current(file.path, file.size, file.mtime_ns):
                counts["already"] += 1
                progress("file", counts)
                continue
            if not _is_video(file.path):
                state.record(file.path, file.size, file.mtime_ns, "skipped")
                counts["skipped"] += 1
                progress("file", counts)
                continue
            try:
                file.sha256 = file_sha256(Path(file.path))
            except MediaError as e:
                state.record(file.path, file.size, file.mtime_ns, "failed", error=str(e))
                counts["failed"] += 1
                progress("file", counts)
                continue
            if state.has_report(file.sha256):
                state.record(file.path, file.size, file.mtime_ns, "done", file.sha256)
                counts["done"] += 1
                progress("file", counts)
            elif file.sha256 in waiting:
                waiting[file.sha256].append(file)
            else:
                waiting[file.sha256] = []
                flying[pool.submit(_analyse, file.path, file.sha256)] = file
            while len(flying) >= workers * IN_FLIGHT_PER_WORKER:
                pool = _collect(flying, waiting, state, counts, progress, pool, workers, settings)
        while flying:
            pool = _collect(flying, waiting, state, counts, progress, pool, workers, settings)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _collect(flying, waiting, state, counts, progress, pool, workers, settings):
    """Record the analyses that finished; a dead worker fails its files and is replaced."""
    finished, _ = wait(flying, return_when=FIRST_COMPLETED)
    broken = False
    for future in finished:
        file = flying.pop(future)
        try:
            status, payload = future.result()
        except BrokenProcessPool:
            status, payload = "failed", "the analysing process died (a decoder crash?)"
            broken = True
        copies = [file, *waiting.pop(file.sha256, [])]
        for copy in copies:
            if status == "done":
                state.record(
                    copy.path, copy.size, copy.mtime_ns, "done", file.sha256, report_json=payload
                )
            else:
                state.record(
                    copy.path, copy.size, copy.mtime_ns, "failed", file.sha256, error=payload
                )
            counts[status] += 1
        progress("file", counts)
    if broken:  # the pool is gone: start another and send it the analyses that were lost
        pool.shutdown(wait=False, cancel_futures=True)
        pool = _pool(workers, settings)
        lost = list(flying.values())
        flying.clear()
        for file in lost:
            flying[pool.submit(_analyse, file.path, file.sha256)] = file
    return pool


def _pool(workers: int, settings: Settings) -> ProcessPoolExecutor:
    # spawn: a fresh interpreter per worker, no inherited decoder or ONNX Runtime threads
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(settings.model_dump_json(),),
    )


_SETTINGS: Settings | None = None


def _init_worker(settings_json: str) -> None:
    global _SETTINGS
    _SETTINGS = Settings.model_validate_json(settings_json)


def _analyse(path: str, sha256: str) -> tuple[str, str]:
    """In a worker: ("done", Report JSON) or ("failed", reason). The scan hashed the file
    already, so the analysis does not read it again for that."""
    try:
        return "done", analyze(Path(path), _SETTINGS, sha256=sha256).model_dump_json()
    except MediaError as e:
        return "failed", str(e)
    except Exception as e:  # a bug must not stop the scan: record it with the file
        return "failed", f"internal error: {type(e).__name__}: {e}"


def _walk(paths: list[Path]) -> Iterator[_File]:
    for root in paths:
        if root.is_file():
            yield _stat(root)
            continue
        for folder, subfolders, names in os.walk(root, followlinks=False):
            subfolders.sort()
            for name in sorted(names):
                path = Path(folder) / name
                if path.is_file() and not path.is_symlink():
                    yield _stat(path)


def _stat(path: Path) -> _File:
    info = path.stat()
    return _File(str(path.resolve()), info.st_size, info.st_mtime_ns)


def _is_video(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return sniff(f.read(HEAD_BYTES)).is_known_video
    except OSError:
        return False


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
