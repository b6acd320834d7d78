"""Fixtures shared by every test: clips made on the spot, and the shared data when present."""

import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from detector.settings import Settings
from detector.synth import make_clip

DEFAULT_SHARED_DATA = Path(__file__).parents[2] / "shared" / "data"
SHARED_DATA = Path(os.environ.get("VERITY_SHARED_DATA", DEFAULT_SHARED_DATA))


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def clip(tmp_path):
    """``clip("name.mp4", **make_clip_options)`` writes a synthetic clip and returns its path."""

    def make(name: str = "clip.mp4", **options) -> Path:
        return make_clip(tmp_path / name, **options)

    return make


@pytest.fixture(scope="session")
def shared_clips() -> list[dict]:
    """Rows of ../shared/data/clips/manifest.jsonl with an absolute ``file``; skip if absent."""
    manifest = SHARED_DATA / "clips" / "manifest.jsonl"
    if not manifest.exists():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    rows = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
    for row in rows:
        row["file"] = SHARED_DATA / "clips" / row["path"]
    return rows


@pytest.fixture(scope="session")
def shared_reports(shared_clips) -> dict[str, object]:
    """Each shared clip's Report under default settings, analysed once for the whole session,
    in one process per core: {path: Report, or the exception analysing it raised}."""
    workers = max(1, min(len(os.sched_getaffinity(0)), 4))
    files = [row["file"] for row in shared_clips]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = pool.map(_analyse, files, chunksize=4)
        return {row["path"]: result for row, result in zip(shared_clips, results, strict=True)}


def _analyse(path: Path) -> object:
    from detector import analyze

    # the pool's processes share the cores: one thread each
    try:
        return analyze(path, Settings(threads=1))
    except Exception as e:  # the test that needs every clip to analyse reports these
        return e
