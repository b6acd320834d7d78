"""The state of a batch scan, in SQLite: what was found, analysed, failed or skipped, keyed by path,
size and modification time, with each distinct file's Report stored once by its SHA-256. A rerun,
or a run after Ctrl-C or a crash, reads it to do only what is left."""

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    status TEXT NOT NULL,          -- done | failed | skipped
    sha256 TEXT,
    error TEXT
);
CREATE TABLE IF NOT EXISTS reports (
    sha256 TEXT PRIMARY KEY,
    report TEXT NOT NULL,          -- the Report as JSON
    pictures TEXT                  -- its key frames (html_report.thumbnails_to_json), if taken
);
"""


class ScanState:
    def __init__(self, path: Path):
        self.db = sqlite3.connect(path)
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(reports)")}
        if "pictures" not in columns:  # a scan started by a version without key frames
            with self.db:
                self.db.execute("ALTER TABLE reports ADD COLUMN pictures TEXT")

    def close(self) -> None:
        self.db.close()

    def is_current(self, path: str, size: int, mtime_ns: int) -> bool:
        """True when this path, with this size and time, was already dealt with."""
        row = self.db.execute("SELECT size, mtime_ns FROM files WHERE path = ?", (path,)).fetchone()
        return row == (size, mtime_ns)

    def has_report(self, sha256: str) -> bool:
        return (
            self.db.execute("SELECT 1 FROM reports WHERE sha256 = ?", (sha256,)).fetchone()
            is not None
        )

    def record(
        self,
        path: str,
        size: int,
        mtime_ns: int,
        status: str,
        sha256: str | None = None,
        error: str | None = None,
        report_json: str | None = None,
        pictures: str | None = None,
    ) -> None:
        """One file's outcome, committed at once so that an interrupted scan loses nothing."""
        with self.db:
            if report_json is not None:
                self.db.execute(
                    "INSERT OR IGNORE INTO reports (sha256, report, pictures) VALUES (?, ?, ?)",
                    (sha256, report_json, pictures),
                )
            self.db.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
                (path, size, mtime_ns, status, sha256, error),
            )

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM files GROUP BY status"))

    def rows(self) -> Iterator[tuple[str, str, str | None, str | None, dict | None, str | None]]:
        """(path, status, sha256, error, report, key frames JSON) for every analysed or failed
        file, by path."""
        query = (
            "SELECT f.path, f.status, f.sha256, f.error, r.report, r.pictures FROM files f "
            "LEFT JOIN reports r ON r.sha256 = f.sha256 "
            "WHERE f.status != 'skipped' ORDER BY f.path"
        )
        for path, status, sha, error, report, pictures in self.db.execute(query):
            yield path, status, sha, error, json.loads(report) if report else None, pictures
