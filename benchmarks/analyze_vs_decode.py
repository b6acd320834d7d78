"""How close ``analyze`` runs to its floor: decoding the frames its plan needs, and no more.

Makes a 60 s 1080p H.264 clip (25 fps, a keyframe every 250 frames, as ARCHITECTURE §2 assumes)
once, then prints, from one run so the ratios share the machine's mood:

- analyze wall time, the decode floor (PyAV seeking to and decoding the planned frames, nothing
  else), their ratio (target <= 1.5) and the realtime factor (video seconds per wall second),
  for today's checks and with a stand-in check that asks for the classifier's 8 windows x 16;
- the same 8 x 16 windows decoded from keyframes versus from arbitrary times.

The frame checks (watermarks) are switched off here: their own cost is in watermark_checks.py.

Run: make bench   (or .venv/bin/python benchmarks/analyze_vs_decode.py [--seconds 60])
"""

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import av
from clips import clip_1080p

from detector import Settings, analyze
from detector.frames import FrameSpec, plan_frames
from detector.probe import probe
from detector.registry import _CHECKS, Check, Needs, register_check

REPEATS = 3
CLASSIFIER_PLAN = FrameSpec(windows=8, length=16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    clip = clip_1080p(args.seconds)
    settings = Settings(disabled_checks=["invisible_watermark", "visible_watermark"])
    print(
        f"clip: {clip} ({clip.stat().st_size / 1e6:.1f} MB, {args.seconds} s, 1920x1080, "
        f"25 fps, GOP 250); median of {REPEATS} runs\n"
    )

    rows = [("checks of today", *_compare(clip, settings))]
    with _stand_in_classifier(read_pixels=False):
        rows.append(("+ 8x16 windows, pixels unread", *_compare(clip, settings)))
    with _stand_in_classifier(read_pixels=True):
        rows.append(("+ 8x16 windows, pixels read as RGB", *_compare(clip, settings)))
    header = f"{'analysis':<36} {'analyze s':>10} {'decode floor s':>15} {'ratio':>6}"
    print(f"{header} {'x realtime':>11}")
    for name, wall, floor in rows:
        ratio, realtime = wall / floor, args.seconds / wall
        print(f"{name:<36} {wall:>10.3f} {floor:>15.3f} {ratio:>6.2f} {realtime:>11.1f}")

    probed = probe(clip, settings)
    at_keyframes = plan_frames(probed, CLASSIFIER_PLAN, settings.max_frames_decoded)
    keyed = [(r.start_s, r.length) for r in at_keyframes.runs]
    step = args.seconds / 8
    arbitrary = [(step * i + step * 0.45, 16) for i in range(8)]
    t_key = _median(lambda: _decode_runs(clip, keyed))
    t_any = _median(lambda: _decode_runs(clip, arbitrary))
    print(
        f"\n8 windows x 16 frames: from keyframes {t_key:.3f} s, from arbitrary times "
        f"{t_any:.3f} s ({t_any / t_key:.1f}x)"
    )


def _compare(clip: Path, settings: Settings) -> tuple[float, float]:
    report = analyze(clip, settings)
    runs = [(w.start_s, w.frames) for w in report.sampling.windows]
    runs += [(t, 1) for t in report.sampling.key_frames_s]
    wall = _median(lambda: analyze(clip, settings))
    floor = _median(lambda: _decode_runs(clip, sorted(set(runs))))
    return wall, floor


def _decode_runs(clip: Path, runs: list[tuple[float, int]]) -> int:
    """The floor: seek to each run's start, decode its frames, convert nothing."""
    decoded = 0
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for start_s, length in runs:
            container.seek(round(start_s / stream.time_base), stream=stream)
            for n, frame in enumerate(container.decode(stream)):
                decoded += 1
                if frame.time >= start_s - 1e-3 and n >= length - 1:
                    break
    return decoded


def _median(run: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


class _stand_in_classifier:
    """Registers a check that needs the classifier's windows and, if asked, reads their pixels
    (the RGB conversion any pixel check pays), to price the plan without a model."""

    def __init__(self, read_pixels: bool):
        self.read_pixels = read_pixels

    def __enter__(self):
        read_pixels = self.read_pixels

        @register_check("bench_windows")
        class Windows(Check):
            needs = Needs(frames=CLASSIFIER_PLAN)

            def run(self, media):
                if read_pixels:
                    for window in media.frames.windows:
                        for frame in window:
                            frame.rgb  # noqa: B018  (the conversion is what is measured)
                return self.evidence("no_signal", "benchmark stand-in")

    def __exit__(self, *exc):
        del _CHECKS["bench_windows"]


if __name__ == "__main__":
    main()
