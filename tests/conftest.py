"""Fixtures shared by every test: clips made on the spot, and the shared data when present."""

import contextlib
import json
import multiprocessing
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from detector.settings import Settings
from detector.synth import make_clip

DEFAULT_SHARED_DATA = Path(__file__).parents[2] / "shared" / "data"
SHARED_DATA = Path(os.environ.get("VERITY_SHARED_DATA", DEFAULT_SHARED_DATA))


# Every process the suite starts inherits this mark in its environment, however it was started
# and whoever became its parent, so that the suite can tell at its end which are still alive.
SESSION_MARK = "VERITY_TEST_SESSION"
LEFT_BEHIND_GRACE_S = 15  # a process stopped in the last test may still be shutting down


@pytest.fixture(scope="session", autouse=True)
def nothing_left_behind():
    """Fails the run if a process the suite started (a server, a worker, a pool process, a
    scan) is alive after the last test, naming each; then ends them."""
    mark = f"{os.getpid()}-{time.time_ns()}"
    os.environ[SESSION_MARK] = mark
    yield
    deadline = time.monotonic() + LEFT_BEHIND_GRACE_S
    while (left := _marked_processes(mark)) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if left:
        pytest.fail(
            "processes the tests started are still running: "
            + "; ".join(f"{pid}: {command}" for pid, command in left.items())
        )


@pytest.fixture(autouse=True)
def own_data_folder(tmp_path_factory, monkeypatch):
    """Each test its own data folder (VERITY_DATA_DIR): ``verity check`` and ``verity scan``
    remember what they analysed there, and one test's memory must not reach another's."""
    from detector.settings import get_settings
    from service.settings import get_service_settings

    monkeypatch.setenv("VERITY_DATA_DIR", str(tmp_path_factory.mktemp("verity-data")))
    get_settings.cache_clear()
    get_service_settings.cache_clear()
    yield
    get_settings.cache_clear()
    get_service_settings.cache_clear()


# multiprocessing's resource tracker serves the test process itself and ends when it ends
OWN_HELPERS = ("multiprocessing.resource_tracker",)


def _marked_processes(mark: str) -> dict[int, str]:
    """Live processes (zombies aside) other than this one and its own helpers whose environment
    carries ``mark``."""
    found = {}
    needle = f"{SESSION_MARK}={mark}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        own_helper = int(parent) == os.getpid() and any(h in command for h in OWN_HELPERS)
        if state != "Z" and not own_helper:
            found[int(entry.name)] = command.strip()[:200]
    return found


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
