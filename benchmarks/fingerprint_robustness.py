"""Does a platform's copy of a clip match its original, and a different clip not?

Each clip (the shared clips of at least 8 s, else drawn camera pans) is copied the ways
platforms copy: re-encoded (H.264 CRF 18 at 1080 lines, 28 at 720, 35 at 360), converted to GIF
and to WebP (320 px, half the frame rate), cropped (10 % every side, 5 % every side, 10 % off
the top and left, 10 % off the left, uneven 2-8 %), given a logo and a caption strip, boxed
into a square with black bars, trimmed to a 3 s excerpt, or sped up by dropping every other
frame. The copy and the original go through the frames an analysis decodes (the default checks'
frame plan), and the fingerprint decides (``detector.fingerprint``: pHash per region,
``MATCH_BITS``, ``is_match``). Printed: per kind of copy, the share matched; then, over every
ordered pair of different clips (originals, and each copy against the other originals), how
many matched, with the one-sided 84 % Poisson bound of that rate.

``--pairs`` looks every shared clip (and every staged one, ``--sources``) up among all the
others instead, as the memory would, and lists the pairs of distinct clips that match.

With ``pdqhash`` installed (``pip install pdqhash``: it builds from source), Meta's PDQ is
measured the same way beside pHash, on the same regions, at its customary 31 bits.

Run: .venv/bin/python benchmarks/fingerprint_robustness.py [--clips 32] [--seconds 20]
     .venv/bin/python benchmarks/fingerprint_robustness.py --pairs [--sources STAGED/manifest.jsonl]
"""

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import av
import cv2
import numpy as np
from clips import SHARED
from PIL import Image, ImageDraw

from detector import fingerprint as fp
from detector.decode import decode_plan
from detector.frames import plan_frames
from detector.pipeline import frame_spec
from detector.probe import probe
from detector.registry import create_checks
from detector.settings import get_settings
from service.lifecycle import run
from training.crossval import poisson_upper

try:
    import pdqhash
except ImportError:
    pdqhash = None


def pdq_codes(frames) -> list[fp.FrameCode]:
    codes = []
    for f in frames:
        for region, part in fp.regions(fp._without_black_bars(fp._shrunk_grey(f.rgb))):
            rgb = cv2.cvtColor(np.ascontiguousarray(part), cv2.COLOR_GRAY2RGB)
            bits, quality = pdqhash.compute(rgb)
            if quality >= 50:
                packed = np.packbits(bits.astype(np.uint8)).tobytes()
                codes.append(fp.FrameCode(f.time_s, region, packed))
    return fp.distinct(codes)


METHODS = {"pHash 16x16 (Verity)": (None, fp.MATCH_BITS)}
if pdqhash is not None:
    METHODS["PDQ (pdqhash)"] = (pdq_codes, 31)


def decoded_frames(path: Path, settings, spec):
    """The frames the fingerprint check sees in an analysis of ``path``."""
    probed = probe(path, settings, with_hash=False)
    frames = decode_plan(probed, plan_frames(probed, spec, settings.max_frames_decoded), settings)
    chosen = list(frames.stills) + [f for w in frames.windows for f in w[:: fp.WINDOW_STEP]]
    return fp._in_time_order(chosen)


def codes_of(frames) -> dict[str, list[fp.FrameCode]]:
    out = {}
    for name, (method, _) in METHODS.items():
        if method is None:
            out[name] = fp.distinct(c for f in frames for c in fp.frame_codes(f.rgb, f.time_s))
        else:
            out[name] = method(frames)
    return out


def matched(query: list[fp.FrameCode], reference: list[fp.FrameCode], bits: int) -> bool:
    """The memory's rule (service.memory.StoreMemory.recall) on two fingerprints."""
    if not query or not reference:
        return False
    near = fp.distances([c.code for c in query], [c.code for c in reference]).min(axis=1) <= bits
    times = {c.time_s for c, hit in zip(query, near, strict=True) if hit}
    return fp.is_match(len(times), len({c.time_s for c in query}))


# ---- the copies ----------------------------------------------------------------------------


def read(path: Path, seconds: float) -> tuple[list[np.ndarray], float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 25)
        frames = []
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) >= fps * seconds:
                break
    return frames, fps


def mp4(path: Path, frames, fps: float, height: int | None = None, crf: int = 23) -> Path:
    h0, w0 = frames[0].shape[:2]
    h = (height or h0) // 2 * 2
    w = round(w0 * h / h0) // 2 * 2
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=max(1, round(fps)))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast"}
        for rgb in frames:
            if (w, h) != (rgb.shape[1], rgb.shape[0]):
                rgb = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def animation(path: Path, frames, fps: float, kind: str) -> Path:
    images = []
    for rgb in frames[::2]:
        image = Image.fromarray(rgb)
        image = image.resize((320, max(2, round(320 * image.height / image.width))))
        images.append(image.quantize(64).convert("RGB") if kind == "GIF" else image)
    images[0].save(
        path, format=kind, save_all=True, append_images=images[1:], duration=int(2000 / fps)
    )
    return path


def crop(frames, left, top, right, bottom):
    h, w = frames[0].shape[:2]
    rows = slice(int(h * top), h - int(h * bottom))
    columns = slice(int(w * left), w - int(w * right))
    return [f[rows, columns] for f in frames]


def overlay(frames):
    out = []
    for rgb in frames:
        image = Image.fromarray(rgb.copy())
        draw = ImageDraw.Draw(image)
        h, w = rgb.shape[:2]
        draw.rectangle([w * 0.85, h * 0.04, w * 0.96, h * 0.12], fill=(230, 30, 30))
        draw.rectangle([0, h * 0.88, w, h], fill=(0, 0, 0))
        draw.text((w * 0.04, h * 0.9), "BREAKING: caption over the clip", fill=(255, 255, 255))
        out.append(np.asarray(image))
    return out


def boxed(frames):
    """Into a square with black bars, as a feed that shows everything square does."""
    h, w = frames[0].shape[:2]
    side = max(h, w)
    out = []
    for rgb in frames:
        square = np.zeros((side, side, 3), np.uint8)
        top, left = (side - h) // 2, (side - w) // 2
        square[top : top + h, left : left + w] = rgb
        out.append(square)
    return out


def copies(path: Path, folder: Path, seconds: float) -> dict[str, Path]:
    frames, fps = read(path, seconds)
    middle, three = len(frames) // 2, int(3 * fps)
    excerpt = frames[max(0, middle - three // 2) : middle + three // 2]
    return {
        "H.264 CRF 18, 1080 lines": mp4(folder / "crf18.mp4", frames, fps, 1080, 18),
        "H.264 CRF 28, 720 lines": mp4(folder / "crf28.mp4", frames, fps, 720, 28),
        "H.264 CRF 35, 360 lines": mp4(folder / "crf35.mp4", frames, fps, 360, 35),
        "GIF, 320 px, 64 colours, half rate": animation(folder / "c.gif", frames, fps, "GIF"),
        "WebP, 320 px, half rate": animation(folder / "c.webp", frames, fps, "WEBP"),
        "crop 10 % every side": mp4(folder / "c10.mp4", crop(frames, 0.1, 0.1, 0.1, 0.1), fps),
        "crop 5 % every side": mp4(folder / "c5.mp4", crop(frames, 0.05, 0.05, 0.05, 0.05), fps),
        "crop 10 % top and left": mp4(folder / "ctl.mp4", crop(frames, 0.1, 0.1, 0, 0), fps),
        "crop 10 % left": mp4(folder / "cl.mp4", crop(frames, 0.1, 0, 0, 0), fps),
        "crop 8/2/3/6 % (l/t/r/b)": mp4(
            folder / "cm.mp4", crop(frames, 0.08, 0.02, 0.03, 0.06), fps
        ),
        "logo and caption strip": mp4(folder / "ov.mp4", overlay(frames), fps),
        "boxed square in black bars": mp4(folder / "box.mp4", boxed(frames), fps),
        "3 s excerpt": mp4(folder / "ex.mp4", excerpt, fps),
        "2x speed (frames dropped)": mp4(folder / "fast.mp4", frames[::2], fps),
    }


def clips(count: int) -> list[Path]:
    manifest = SHARED / "manifest.jsonl"
    if not manifest.exists():
        return []
    rows = [json.loads(line) for line in manifest.open()]
    real = [r for r in rows if r["label"] == "real" and (r.get("duration_s") or 0) >= 8]
    ai = [r for r in rows if r["label"] == "ai" and (r.get("duration_s") or 0) >= 4]
    return [SHARED / r["path"] for r in (real + ai)[:count]]


def drawn(folder: Path, count: int) -> list[Path]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.scenes import scene, write

    return [write(folder / f"scene{i}.mp4", scene(100 + i, seconds=12)) for i in range(count)]


def every_clip(sources: Path | None) -> list[Path]:
    """Every shared clip, and every staged one when a staged manifest is given."""
    paths = []
    for manifest in (SHARED / "manifest.jsonl", sources):
        if manifest and manifest.exists():
            paths += [manifest.parent / json.loads(line)["path"] for line in manifest.open()]
    return paths


def false_matches(paths: list[Path], settings, spec) -> None:
    """Every clip looked up among all the others, as the memory does (service.memory's index
    and rule): the pairs of distinct clips that match, listed by name."""
    from service.memory import CodeIndex

    index, owner, fingerprints = CodeIndex(), [], []
    for i, path in enumerate(paths):
        try:
            frames = decoded_frames(path, settings, spec)
            codes = fp.distinct(c for f in frames for c in fp.frame_codes(f.rgb, f.time_s))
        except Exception as e:  # an unreadable clip is left out, and said so
            print(f"  left out {path.name}: {type(e).__name__}", file=sys.stderr)
            codes = []
        fingerprints.append(codes)
        index.add(list(range(len(owner) + 1, len(owner) + len(codes) + 1)), [c.code for c in codes])
        owner += [i] * len(codes)
        if i % 100 == 0:
            print(f"  fingerprinted {i + 1}/{len(paths)}", file=sys.stderr, flush=True)
    pairs = set()
    for i, codes in enumerate(fingerprints):
        frames: dict[int, set[float]] = {}
        for q, row, _ in index.within([c.code for c in codes], fp.MATCH_BITS):
            frames.setdefault(owner[row - 1], set()).add(codes[q].time_s)
        times = len({c.time_s for c in codes})
        pairs |= {(i, j) for j, hit in frames.items() if j != i and fp.is_match(len(hit), times)}
    total = len(paths) * (len(paths) - 1)
    print(f"\nall ordered pairs of {len(paths)} distinct clips: {len(pairs)} of {total:,} match")
    for i, j in sorted(pairs):
        print(f"  {paths[i].name}  ->  {paths[j].name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20, help="of each clip, at most")
    parser.add_argument(
        "--pairs", action="store_true", help="only the false matches among every clip's pairs"
    )
    parser.add_argument("--sources", type=Path, help="with --pairs: a staged manifest too")
    args = parser.parse_args()
    settings = get_settings()
    spec = frame_spec(create_checks(settings), settings)
    if args.pairs:
        false_matches(every_clip(args.sources), settings, spec)
        return 0
    work = Path(tempfile.mkdtemp(prefix="verity-fp-"))
    paths = clips(args.clips) or drawn(work, min(args.clips, 8))
    print(f"{len(paths)} clips ({'shared' if SHARED.exists() else 'drawn'}), work in {work}")
    originals, hits = {}, defaultdict(lambda: defaultdict(list))
    false, pairs = defaultdict(int), defaultdict(int)
    for i, path in enumerate(paths):
        folder = work / f"{i:02d}"
        folder.mkdir()
        try:
            made = copies(path, folder, args.seconds)
            originals[i] = codes_of(decoded_frames(path, settings, spec))
            copied = {kind: codes_of(decoded_frames(p, settings, spec)) for kind, p in made.items()}
        except Exception as e:  # a clip PyAV cannot re-encode is left out, and said so
            print(f"  left out {path.name}: {type(e).__name__}: {e}", file=sys.stderr)
            continue
        for name, (_, bits) in METHODS.items():
            for kind, codes in copied.items():
                hits[name][kind].append(matched(codes[name], originals[i][name], bits))
            others = [j for j in originals if j != i]
            for j in others:
                queries = [originals[i][name], *(c[name] for c in copied.values())]
                for query in queries:
                    false[name] += matched(query, originals[j][name], bits)
                    pairs[name] += 1
                false[name] += matched(originals[j][name], originals[i][name], bits)
                pairs[name] += 1
        print(f"  {i + 1}/{len(paths)} {path.name}", file=sys.stderr, flush=True)
    for name, (_, bits) in METHODS.items():
        print(f"\n{name}, a frame within {bits} bits, a match at {fp.MIN_FRAMES_MATCHED} frames")
        print("| copy | clips | matched |\n|---|---|---|")
        for kind, found in hits[name].items():
            print(f"| {kind} | {len(found)} | {np.mean(found):.2f} |")
        bound = poisson_upper(false[name], 0.84) / max(pairs[name], 1)
        print(
            f"| different clips (ordered pairs) | {pairs[name]} | {false[name]} matched "
            f"(rate below {bound:.1e}, 84 % one-sided) |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
