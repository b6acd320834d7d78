"""Files per minute of ``verity scan`` with 1 and 2 worker processes, on a generated archive of
short distinct clips (every check on), and the scaling ratio (target >= 1.8 on 2 cores).

Run: .venv/bin/python benchmarks/scan_throughput.py [--clips 40]
"""

import argparse
import tempfile
import time
from pathlib import Path

from clips import FOLDER

from detector import Settings
from detector.synth import make_clip
from service.scan import scan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=40)
    args = parser.parse_args()
    archive = FOLDER / f"archive_{args.clips}"
    if not archive.exists():
        archive.mkdir(parents=True)
        for i in range(args.clips):
            make_clip(archive / f"clip{i:03}.mp4", seconds=2, fps=25, size=(320, 240), seed=i)
    print(
        f"{'threads per worker':<22} {'workers':>7} {'files':>6} {'seconds':>8} {'files/min':>10}"
    )
    # "shared": the default, one worker may use both cores (OCR and decoding are multi-threaded),
    # two workers get one core each. "1": every worker single-threaded, pure process scaling.
    for label, threads in (("shared (default)", 0), ("1", 1)):
        rates = {}
        for workers in (1, 2):
            with tempfile.TemporaryDirectory() as out:
                started = time.perf_counter()
                counts = scan(
                    [archive], Path(out) / "scan", workers, False, Settings(threads=threads)
                )
                seconds = time.perf_counter() - started
            rates[workers] = counts["done"] * 60 / seconds
            print(
                f"{label:<22} {workers:>7} {counts['done']:>6} {seconds:>8.1f} "
                f"{rates[workers]:>10.1f}"
            )
        print(f"{label:<22} scaling 2 workers / 1 worker: {rates[2] / rates[1]:.2f}")


if __name__ == "__main__":
    main()
