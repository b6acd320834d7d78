"""Which face detector: recall and cost on clips that show a face in every frame.

The face clips of the staged sources (``manipulation``: talking heads, lip-sync, face swaps; see
../shared/data/sources/README.md) and of the shared clips (their ``note`` names a face), eight
frames each, spread over the clip. A face clip shows a face in every frame, so the share of
frames with a face found is the recall. Compared: BlazeFace full range and short range (ONNX,
``detector.faces``; short range when exported beside it with ``verity export-face-detector
--model blazeface-short-range``) and OpenCV's bundled Haar cascade (frontal faces, on a frame
shrunk to 480 pixels). Cost: milliseconds per frame on one thread.

Run: .venv/bin/python benchmarks/face_detection.py [--sources STAGED/manifest.jsonl]
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np
from clips import SHARED

from detector.faces import DEFAULT_FACE_DETECTOR, FaceDetector
from service.lifecycle import run

FRAMES = 8
STAGED = Path("/work/staged/sources/manifest.jsonl")
FACE_WORDS = ("face", "talking", "portrait", "speaker", "lip", "head")


def face_clips(sources: Path | None) -> list[tuple[str, Path]]:
    found = []
    if sources and sources.exists():
        for line in sources.open():
            row = json.loads(line)
            if row.get("manipulation"):
                found.append((row["manipulation"], sources.parent / row["path"]))
    manifest = SHARED / "manifest.jsonl"
    if manifest.exists():
        for line in manifest.open():
            row = json.loads(line)
            note = (row.get("note") or "").lower()
            if any(word in note for word in FACE_WORDS):
                found.append((f"shared {row['label']}", SHARED / row["path"]))
    return found


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    picks = np.linspace(0, len(decoded) - 1, min(FRAMES, len(decoded))).astype(int)
    return [decoded[i] for i in picks]


def haar():
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")

    def detect(rgb: np.ndarray) -> list:
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        scale = 480 / max(grey.shape)
        if scale < 1:
            grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return list(cascade.detectMultiScale(grey, 1.1, 5, minSize=(24, 24)))

    return detect


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, default=STAGED)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    detectors = {"BlazeFace full range": FaceDetector(DEFAULT_FACE_DETECTOR, threads=1)}
    short = DEFAULT_FACE_DETECTOR.with_name("blazeface-short-range.onnx")
    if short.exists():
        detectors["BlazeFace short range"] = FaceDetector(short, threads=1)
    if hasattr(cv2, "CascadeClassifier"):  # OpenCV 5 moved it out of the main modules
        detectors["OpenCV Haar cascade"] = haar()
    clips = face_clips(args.sources)
    if not clips:
        print("no face clips: stage the sources or provide the shared data")
        return 0
    found = {name: {} for name in detectors}
    cost = {name: [] for name in detectors}
    for kind, path in clips:
        try:
            frames = frames_of(path)
        except (av.FFmpegError, OSError) as e:
            print(f"  left out {path.name}: {e}", file=sys.stderr)
            continue
        for name, detect in detectors.items():
            started = time.perf_counter()
            hits = [len(detect(f)) > 0 for f in frames]
            cost[name].append((time.perf_counter() - started) * 1000 / len(frames))
            found[name].setdefault(kind, []).append(np.mean(hits))
    kinds = sorted({kind for per in found.values() for kind in per})
    print("| detector | " + " | ".join(kinds) + " | ms per frame |")
    print("|---" * (len(kinds) + 2) + "|")
    for name in detectors:
        shares = [
            f"{np.mean(found[name][k]):.2f} ({len(found[name][k])})" if k in found[name] else "-"
            for k in kinds
        ]
        print(f"| {name} | " + " | ".join(shares) + f" | {statistics.median(cost[name]):.1f} |")
    print("(share of frames with a face found; clips in brackets)")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
