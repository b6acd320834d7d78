"""Files per minute of ``verity scan`` with 1 and 2 worker processes, on a generated archive of
short distinct clips (every check on), and the scaling ratio (target >= 1.8 on 2 cores).

Each worker pays a start-up once (a fresh interpreter, the models loaded: the time to the first
result), then analyses at its steady rate; an archive of 50,000 files sees the steady rate, a
40-file benchmark sees both, so both are printed. Configurations alternate over ``--rounds``
rounds and the median is kept: this machine is shared and its speed drifts.

Rows: "1 thread per worker", pure process scaling (the speed issue's target); "shared", the
default, where one worker may use both cores (ONNX Runtime, OCR, decoding, OpenCV and BLAS are
multi-threaded) and two get one core each. "CPU s/file" is the workers' processor time per file:
when it grows from one worker to two, the cores slow each other down (shared caches, memory
bandwidth, clock), which no scheduling in the scan can win back.

Run: .venv/bin/python benchmarks/scan_throughput.py [--clips 40] [--rounds 3]
"""

import argparse
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from clips import FOLDER

from detector import Settings
from detector.synth import make_clip
from service.lifecycle import run
from service.scan import scan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    archive = FOLDER / f"archive_{args.clips}"
    if not archive.exists():
        archive.mkdir(parents=True)
        for i in range(args.clips):
            make_clip(archive / f"clip{i:03}.mp4", seconds=2, fps=25, size=(320, 240), seed=i)
    print(
        f"{'threads per worker':<20} {'workers':>7} {'files':>6} {'seconds':>8} {'files/min':>10} "
        f"{'start-up s':>10} {'steady files/min':>17} {'CPU s/file':>10}"
    )
    for label, threads in (("1", 1), ("shared (default)", 0)):
        runs: dict[int, list[tuple[float, float, float, float]]] = {1: [], 2: []}
        for _ in range(args.rounds):
            for workers in (1, 2):
                runs[workers].append(_run(archive, workers, threads, args.clips))
        rates = {}
        for workers, measured in runs.items():
            seconds, startup, steady, cpu = (
                statistics.median(m[i] for m in measured) for i in range(4)
            )
            rates[workers] = (args.clips * 60 / seconds, steady)
            print(
                f"{label:<20} {workers:>7} {args.clips:>6} {seconds:>8.1f} "
                f"{rates[workers][0]:>10.1f} {startup:>10.1f} {steady:>17.1f} "
                f"{cpu / args.clips:>10.2f}"
            )
        print(
            f"{label:<20} scaling 2 workers / 1 worker: {rates[2][0] / rates[1][0]:.2f} overall, "
            f"{rates[2][1] / rates[1][1]:.2f} steady"
        )


def _run(
    archive: Path, workers: int, threads: int, clips: int
) -> tuple[float, float, float, float]:
    """(seconds, seconds to the first result, files per minute from the first to the last,
    the worker processes' CPU seconds)."""
    finished: list[float] = []

    def progress(event: str, counts: dict[str, int]) -> None:
        if event == "file" and counts["done"] > len(finished):
            finished.append(time.perf_counter())

    cpu_before = _children_cpu()
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        counts = scan(
            [archive], Path(out) / "scan", workers, False, Settings(threads=threads), progress
        )
        seconds = time.perf_counter() - started
    for worker in multiprocessing.active_children():  # reaped, so that their time is counted
        worker.join(30)
    if counts["done"] != clips:
        raise RuntimeError(f"{clips - counts['done']} files were not analysed")
    steady = (len(finished) - 1) * 60 / (finished[-1] - finished[0])
    return seconds, finished[0] - started, steady, _children_cpu() - cpu_before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    sys.exit(run(main))  # Ctrl-C: 130, SIGTERM: 143, and whatever it started is stopped
