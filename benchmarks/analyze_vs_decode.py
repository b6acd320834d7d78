"""Where a full analysis spends its time, against its floor: decoding the frames its plan needs.

For three clips a desk sees (a 60 s 1080p H.264 clip with a keyframe every 250 frames, as
ARCHITECTURE §2 assumes; a 20 s 720p one; a 2 s 256x256 GIF, taken from the shared data when
it is there, else drawn) prints, from one run so that the ratios share the machine's mood:

- the decode floor: PyAV seeking to and decoding the planned frames, converting nothing;
- each stage's time from the Reports' ``timings_ms`` (every check, the classifier included),
  and the whole analysis, in seconds and as a ratio to the floor;
- the targets of the speed issue (whole analysis under 5 s, 3 s and 1.5 s on 2 cores).

Run: make bench   (or .venv/bin/python benchmarks/analyze_vs_decode.py [--repeats 3])
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import av
from clips import clip_720p, clip_1080p, gif_256

from detector import Settings, analyze
from detector.frames import plan_frames
from detector.pipeline import frame_spec
from detector.probe import probe
from detector.registry import create_checks
from service.lifecycle import run

TARGETS_S = {"60 s 1080p": 5.0, "20 s 720p": 3.0, "2 s 256 GIF": 1.5}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="median of this many runs")
    args = parser.parse_args()
    clips = {"60 s 1080p": clip_1080p(60), "20 s 720p": clip_720p(20), "2 s 256 GIF": gif_256()}
    settings = Settings()
    columns = {}
    for name, path in clips.items():
        analyze(path, settings)  # warm: model sessions, OCR engine, file cache
        floor = _median(lambda p=path: decode_floor(p, settings), args.repeats)
        reports = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            report = analyze(path, settings)
            report.timings_ms["whole analysis"] = (time.perf_counter() - started) * 1000
            reports.append(report)
        stages = {
            k: statistics.median(r.timings_ms[k] for r in reports) / 1000
            for k in reports[0].timings_ms
        }
        columns[name] = (floor, stages, reports[0].sampling.frames_decoded)
        print(f"{name}: {path}")
    print(f"\n2 cores; median of {args.repeats} analyses; seconds and (x decode floor)\n")
    print(f"{'stage':<22}" + "".join(f"{name:>22}" for name in columns))
    print(f"{'frames decoded':<22}" + "".join(f"{c[2]:>22}" for c in columns.values()))
    print(f"{'decode floor':<22}" + "".join(f"{c[0]:>16.3f} s     " for c in columns.values()))
    for stage in next(iter(columns.values()))[1]:
        cells = [f"{c[1][stage]:>10.3f} s ({c[1][stage] / c[0]:>6.1f}x)" for c in columns.values()]
        print(f"{stage:<22}" + "".join(f"{cell:>22}" for cell in cells))
    print(f"\n{'target':<22}" + "".join(f"{'< ' + str(TARGETS_S[n]) + ' s':>22}" for n in columns))
    verdicts = [
        "met" if c[1]["whole analysis"] < TARGETS_S[n] else "MISSED" for n, c in columns.items()
    ]
    print(f"{'':<22}" + "".join(f"{v:>22}" for v in verdicts))


def decode_floor(path: Path, settings: Settings) -> int:
    """Decode what the analysis plans, as cheaply as PyAV can: seek to each run and decode its
    frames, or (a plan without seeking) decode front to back up to the last planned frame."""
    probed = probe(path, settings, with_hash=False)
    spec = frame_spec(create_checks(settings), settings)
    plan = plan_frames(probed, spec, settings.max_frames_decoded)
    fps = probed.info.fps or 25.0
    decoded = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if not plan.seek:
            last = max(r.start_s + (r.length - 1) / fps for r in plan.runs) - 1e-3
            for frame in container.decode(stream):
                decoded += 1
                if frame.time is not None and frame.time >= last:
                    break
            return decoded
        for run in plan.runs:
            container.seek(round(run.start_s / stream.time_base), stream=stream)
            for n, frame in enumerate(container.decode(stream)):
                decoded += 1
                if frame.time >= run.start_s - 1e-3 and n >= run.length - 1:
                    break
    return decoded


def _median(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


if __name__ == "__main__":
    sys.exit(run(main))  # Ctrl-C: 130, SIGTERM: 143, and whatever it started is stopped
