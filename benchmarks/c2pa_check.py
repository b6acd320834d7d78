"""Cost of the C2PA check on a 100 MB MP4 without a manifest and with one.

The file is a short clip plus a second 100 MB ``mdat`` box of random bytes (a valid MP4 that
hashes like 100 MB of media); the signed copy carries a manifest from a throwaway CA. Prints
the median of three runs of the check alone.

Run: .venv/bin/python benchmarks/c2pa_check.py
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from detector import Settings
from detector.checks.c2pa import C2paCheck
from detector.synth import make_clip
from service.lifecycle import run

sys.path.insert(0, str(Path(__file__).parents[1]))
from tests.c2pa_signing import TestCA, manifest, sign

PAD_BYTES = 100 * 1024 * 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain = make_clip(folder / "plain.mp4", seconds=2, size=(320, 240))
        with open(plain, "ab") as f:
            f.write((8 + PAD_BYTES).to_bytes(4, "big") + b"mdat")
            f.write(os.urandom(PAD_BYTES))
        ca = TestCA()
        signed = sign(
            plain,
            folder / "signed.mp4",
            ca.issue(),
            manifest("Sora", "c2pa.created", "trainedAlgorithmicMedia"),
        )
        check = C2paCheck(Settings(c2pa_trust_anchors=[ca.write(folder)]))
        print(f"{'file':<22} {'MB':>6} {'finding':>12} {'check s':>9}")
        for path in (plain, signed):
            times, finding = [], ""
            for _ in range(3):
                started = time.perf_counter()
                finding = check.inspect(path).finding
                times.append(time.perf_counter() - started)
            size = path.stat().st_size / 1e6
            print(f"{path.name:<22} {size:>6.1f} {finding:>12} {statistics.median(times):>9.3f}")


if __name__ == "__main__":
    sys.exit(run(main))  # Ctrl-C: 130, SIGTERM: 143, and whatever it started is stopped
