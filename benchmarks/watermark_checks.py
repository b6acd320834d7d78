"""What the watermark checks cost per minute of video, on a 60 s 1080p H.264 clip (shared with
analyze_vs_decode.py) and on a 20 s 640x360 one. Prints each check's time from the Report's
timings (median of three analyses) and scales it to one minute of video.

Run: .venv/bin/python benchmarks/watermark_checks.py
"""

import statistics
import sys
from pathlib import Path

from clips import FOLDER, clip_1080p

from detector import Settings, analyze
from detector.synth import make_clip
from service.lifecycle import run

CHECKS = ("invisible_watermark", "visible_watermark")


def main() -> None:
    small = FOLDER / "bench_20s_360p.mp4"
    if not small.exists():
        make_clip(small, seconds=20, fps=25, size=(640, 360), gop=50)
    print(f"{'clip':<24} {'check':<20} {'frames':>6} {'check ms':>9} {'ms per video min':>17}")
    for path, seconds in ((clip_1080p(60), 60), (small, 20)):
        _row(path, seconds)


def _row(path: Path, seconds: int) -> None:
    runs = [analyze(path, Settings()) for _ in range(3)]
    frames = len(runs[0].sampling.key_frames_s)
    for check in CHECKS:
        ms = statistics.median(r.timings_ms[check] for r in runs)
        print(f"{path.name:<24} {check:<20} {frames:>6} {ms:>9.0f} {ms * 60 / seconds:>17.0f}")


if __name__ == "__main__":
    sys.exit(run(main))  # Ctrl-C: 130, SIGTERM: 143, and whatever it started is stopped
