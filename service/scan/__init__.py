"""``verity scan``: analyse every video under some folders (or S3 prefixes), resumably, with a
local process pool or through a running Verity service (``--via``).

Files are picked by their bytes, not their extension. Each distinct file (by SHA-256) is analysed
once and its Report stored in the scan's SQLite state; identical copies under other paths are
reported with it. One bad file is recorded with its reason and the scan goes on. Memory stays
flat: paths are walked lazily and at most a few analyses are in flight.
"""

import multiprocessing
import signal
from collections.abc import Callable
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from detector import MediaError, Report, Settings, analyze_keeping_stills
from detector.probe import file_sha256
from detector.settings import die_with_parent, keep_to_own_cores
from detector.sniff import sniff

from ..html_report import key_frame_pictures
from ..i18n import Words
from ..lifecycle import pause_here
from ..memory import StoreMemory
from ..store import Store
from .errors import ScanError
from .outputs import report_page, write_outputs
from .remote import RemoteAnalyser
from .sources import Entry, Sources
from .state import ScanState

__all__ = ["ScanError", "scan"]

STATE_FILE = "state.sqlite"
IN_FLIGHT_PER_WORKER = 2

Progress = Callable[[str, dict[str, int]], None]


def scan(
    paths: list[str | Path],
    out: Path,
    workers: int,
    resume: bool,
    settings: Settings,
    progress: Progress | None = None,
    via: RemoteAnalyser | None = None,
    s3_endpoint_url: str = "",
    words: Words | None = None,
    memory: StoreMemory | None = None,
) -> dict[str, int]:
    """Scan ``paths`` into ``out``, its pages in ``words``' language; return the counts by
    status. Raises ScanError. Interrupted at any point (KeyboardInterrupt, lifecycle.Terminated),
    it keeps every file it finished and writes its outputs if it can; ``resume`` goes on.
    With a ``memory``, local workers look each file up in it and every file analysed is
    remembered there, under its path (``verity match`` finds it)."""
    sources = Sources([str(p) for p in paths], out / "tmp", s3_endpoint_url)
    sources.check()
    if via is not None:
        via.check()
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / STATE_FILE
    if state_path.exists() and not resume:
        raise ScanError(
            f"{out} holds a previous scan: pass --resume to continue it, or choose another --out"
        )
    settings = settings.shared_by(workers)
    state = ScanState(state_path)
    try:
        runner = _Runner(workers, settings, via, memory)
        pause_here("pool")
        _run(sources, state, runner, progress or (lambda event, counts: None), memory, out)
    finally:
        pause_here("outputs")
        write_outputs(state, out, words)
        counts = state.counts()
        state.close()
    return counts


class _Runner:
    """Where analyses run: a pool of local processes, or threads waiting on a service."""

    def __init__(
        self,
        workers: int,
        settings: Settings,
        via: RemoteAnalyser | None,
        memory: StoreMemory | None = None,
    ):
        self.workers, self.settings, self.via = workers, settings, via
        # what a worker opens the memory with: the store's URL and the index's file
        self.memory = (memory.store.url, str(memory.index_file or "")) if memory else None
        self.executor = self._start()

    def _start(self) -> Executor:
        if self.via is not None:
            return ThreadPoolExecutor(max_workers=self.workers)
        # spawn: a fresh interpreter per worker, no inherited decoder or ONNX Runtime threads
        context = multiprocessing.get_context("spawn")
        started = context.Value("i", 0)  # numbers the workers as they start: their cores
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(self.settings.model_dump_json(), started, self.workers, self.memory),
        )

    def submit(self, entry: Entry) -> Future:
        analyse = self.via or _analyse
        return self.executor.submit(analyse, str(entry.local), entry.sha256)

    def restart(self) -> None:
        """After a worker process died: a new pool (the old one is unusable)."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self._start()

    def stop(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def _run(
    sources: Sources,
    state: ScanState,
    runner: _Runner,
    progress: Progress,
    memory: StoreMemory | None = None,
    out: Path | None = None,
) -> None:
    counts = {"done": 0, "failed": 0, "skipped": 0, "already": 0}
    progress("total", {"files": sum(1 for _ in sources.walk())})
    waiting: dict[str, list[Entry]] = {}  # sha256 -> copies waiting for the analysis in flight
    flying: dict[Future, Entry] = {}

    def record(entry: Entry, status: str, **fields) -> None:
        state.record(entry.path, entry.size, entry.mtime_ns, status, **fields)
        if memory is not None and fields.get("report_json"):
            report = Report.model_validate_json(fields["report_json"])
            local = None if entry.remote else Path(entry.path)  # an S3 copy is gone by now
            link = f"{out}/{report_page(report)}"
            memory.remember(report, "scan", entry.path, link=link, media=local)
        counts[status] += 1
        if sum(counts.values()) == 1:
            pause_here("work")

    try:
        for entry in sources.walk():
            if state.is_current(entry.path, entry.size, entry.mtime_ns):
                counts["already"] += 1
            elif not sniff(sources.head(entry)).is_known_video:
                record(entry, "skipped")
            else:
                try:
                    entry.sha256 = file_sha256(sources.fetch(entry))
                except (MediaError, OSError) as e:
                    sources.release(entry)
                    record(entry, "failed", error=str(e))
                    progress("file", counts)
                    continue
                if state.has_report(entry.sha256):
                    sources.release(entry)
                    record(entry, "done", sha256=entry.sha256)
                elif entry.sha256 in waiting:
                    sources.release(entry)
                    waiting[entry.sha256].append(entry)
                else:
                    waiting[entry.sha256] = []
                    flying[runner.submit(entry)] = entry
            progress("file", counts)
            while len(flying) >= runner.workers * IN_FLIGHT_PER_WORKER:
                _collect(flying, waiting, record, runner, sources, progress, counts)
        while flying:
            _collect(flying, waiting, record, runner, sources, progress, counts)
    finally:
        runner.stop()
        for entry in flying.values():
            sources.release(entry)


def _collect(flying, waiting, record, runner: _Runner, sources: Sources, progress, counts):
    """Record the analyses that finished; a dead worker fails its files and is replaced."""
    finished, _ = wait(flying, return_when=FIRST_COMPLETED)
    broken = False
    for future in finished:
        entry = flying.pop(future)
        sources.release(entry)
        try:
            status, payload, pictures = future.result()
        except BrokenProcessPool:
            status, payload, pictures = (
                "failed",
                "the analysing process died (a decoder crash?)",
                None,
            )
            broken = True
        for copy in [entry, *waiting.pop(entry.sha256, [])]:
            if status == "done":
                record(copy, "done", sha256=entry.sha256, report_json=payload, pictures=pictures)
            else:
                record(copy, "failed", sha256=entry.sha256, error=payload)
        progress("file", counts)
    if broken:  # the pool is gone: start another and send it the analyses that were lost
        runner.restart()
        lost = list(flying.values())
        flying.clear()
        for entry in lost:
            flying[runner.submit(entry)] = entry


_SETTINGS: Settings | None = None
_MEMORY: StoreMemory | None = None


def _init_worker(settings_json: str, started, workers: int, memory: tuple[str, str] | None) -> None:
    global _SETTINGS, _MEMORY
    # The scan ends its workers: Ctrl-C in a terminal reaches them too, but is the scan's to
    # act on, and a worker whose scan was killed has nobody to report to.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(signal.SIGKILL)
    _SETTINGS = Settings.model_validate_json(settings_json)
    with started.get_lock():
        number = started.value
        started.value += 1
    keep_to_own_cores(number, workers)
    if memory is not None:
        url, index_file = memory
        _MEMORY = StoreMemory(Store(url), Path(index_file) if index_file else None)


def _analyse(path: str, sha256: str) -> tuple[str, str, str | None]:
    """In a worker: ("done", Report JSON, key frames JSON) or ("failed", reason, None). The
    scan hashed the file already, so the analysis does not read it again for that; the key
    frames' pictures are made from the frames the analysis decoded."""
    try:
        report, stills = analyze_keeping_stills(
            Path(path), _SETTINGS, sha256=sha256, memory=_MEMORY
        )
        pictures = key_frame_pictures(stills)
    except MediaError as e:
        return "failed", str(e), None
    except Exception as e:  # a bug must not stop the scan: record it with the file
        return "failed", f"internal error: {type(e).__name__}: {e}", None
    return "done", report.model_dump_json(), pictures
