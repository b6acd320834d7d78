"""The faces check's cost: how much it adds to a full analysis of a 60 s 1080p clip without a
face (target under 0.2 s), with a face (target under 1 s), and with a face and sound (the
lip-sync measurement decodes the sound around each window). The check's own time comes from
the Report's timings, each the best of three runs after a warm-up run.

Run: .venv/bin/python benchmarks/faces.py
"""

import sys
import time

from clips import clip_1080p, face_1080p

from detector import Settings, analyze
from service.lifecycle import run


def best(clip, settings, check: str | None = None) -> float:
    """The check's own seconds (from the Report), or the whole analysis's wall time."""
    analyze(clip, settings)  # warm: models loaded once per process, as in a worker
    if check:
        return min(analyze(clip, settings).timings_ms[check] for _ in range(3)) / 1000
    times = []
    for _ in range(3):
        started = time.perf_counter()
        analyze(clip, settings)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    on = Settings(gpu=False)
    off = on.model_copy(update={"disabled_checks": ["faces"]})
    clips = {
        "no face": clip_1080p(),
        "a face, no sound": face_1080p(sound=False),
        "a face and sound": face_1080p(sound=True),
    }
    header = ("60 s 1080p clip", "faces check s", "every check s", "without faces s")
    print(f"{header[0]:<20} {header[1]:>14} {header[2]:>14} {header[3]:>16}")
    for name, clip in clips.items():
        check = best(clip, on, "faces")
        total, without = best(clip, on), best(clip, off)
        print(f"{name:<20} {check:>14.2f} {total:>14.2f} {without:>16.2f}")
    print("targets: the check adds under 0.2 s without a face, under 1 s with one")


if __name__ == "__main__":
    sys.exit(run(main))
