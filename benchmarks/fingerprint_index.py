"""How long a fingerprint lookup takes as the archive grows, exhaustive against inverted file.

An archive of N videos, each ``--codes`` 256-bit frame codes (about what the fingerprint keeps of
a clip: 11 regions of 10 distinct frames), is put into ``service.memory.CodeIndex`` both ways:
exhaustive (exact; Verity's choice up to ``EXACT_UP_TO`` codes) and an inverted file
(``IndexBinaryIVF``, ``IVF_LISTS`` lists, ``IVF_PROBES`` probed). A lookup is one video's codes
against the archive, within ``MATCH_BITS``. Copies of 100 archived videos (every code moved by up
to 40 random bits) measure how many copies each index still finds by the memory's rule (two
frames). Random codes spread evenly, which is the inverted file's worst case: real frames
cluster, and its lists then hold their near neighbours together.

Printed: per archive size, build time, milliseconds per lookup (median of 20), memory of the
codes, and copies found. Ratios in one run are what to read: the machine is shared.

Run: .venv/bin/python benchmarks/fingerprint_index.py [--videos 10000 100000] [--codes 110]
"""

import argparse
import statistics
import sys
import time

import numpy as np

from detector.fingerprint import BITS, MATCH_BITS, MIN_FRAMES_MATCHED
from service.lifecycle import run
from service.memory import CodeIndex

FRAMES_PER_VIDEO = 10  # codes of a video are frames x regions; a match needs frames


def archive(videos: int, codes: int, rng) -> np.ndarray:
    return rng.integers(0, 256, (videos * codes, BITS // 8), dtype=np.uint8)


def copy_of(codes: np.ndarray, rng, max_bits: int = 40) -> np.ndarray:
    """Every code with up to ``max_bits`` random bits flipped, as a re-encode moves them."""
    bits = np.unpackbits(codes, axis=1)
    for row in bits:
        flips = rng.choice(BITS, rng.integers(0, max_bits + 1), replace=False)
        row[flips] ^= 1
    return np.packbits(bits, axis=1)


def build(codes: np.ndarray, exact: bool) -> tuple[CodeIndex, float]:
    index = CodeIndex()
    started = time.perf_counter()
    ids = np.arange(1, len(codes) + 1)
    if exact:
        CodeIndex.EXACT_UP_TO = len(codes) + 1
        index.add(ids.tolist(), [c.tobytes() for c in codes])
    else:
        CodeIndex.EXACT_UP_TO = 0  # the first add moves them to the inverted file
        index.add(ids.tolist(), [c.tobytes() for c in codes])
    return index, time.perf_counter() - started


def found(index: CodeIndex, query: np.ndarray, video: int, codes: int) -> bool:
    """The memory's rule: the video is found when codes of two of its frames match."""
    regions = codes // FRAMES_PER_VIDEO
    frames = {
        q // regions
        for q, row, _ in index.within([c.tobytes() for c in query], MATCH_BITS)
        if (row - 1) // codes == video
    }
    return len(frames) >= MIN_FRAMES_MATCHED


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--codes", type=int, default=110, help="codes per video")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    exact_up_to = CodeIndex.EXACT_UP_TO
    print(
        f"codes of {BITS} bits, {args.codes} per video, match within {MATCH_BITS} bits; "
        f"inverted file: {CodeIndex.IVF_LISTS} lists, {CodeIndex.IVF_PROBES} probed"
    )
    print("| videos | codes | index | build s | ms per lookup | codes MB | copies found |")
    print("|---|---|---|---|---|---|---|")
    for videos in args.videos:
        codes = archive(videos, args.codes, rng)
        picked = rng.choice(videos, 100, replace=False)
        copies = {v: copy_of(codes[v * args.codes : (v + 1) * args.codes], rng) for v in picked}
        for exact in (True, False):
            index, seconds = build(codes, exact)
            times = []
            for v in picked[:20]:
                started = time.perf_counter()
                list(index.within([c.tobytes() for c in copies[v]], MATCH_BITS))
                times.append((time.perf_counter() - started) * 1000)
            hits = sum(found(index, copies[v], v, args.codes) for v in picked)
            print(
                f"| {videos:,} | {len(codes):,} | {'exhaustive' if exact else 'inverted file'} "
                f"| {seconds:.1f} | {statistics.median(times):.1f} | {codes.nbytes / 2**20:.0f} "
                f"| {hits}/100 |",
                flush=True,
            )
            del index
    CodeIndex.EXACT_UP_TO = exact_up_to
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
