"""False marks and missed marks of the visible-mark check, on real footage.

Every real shared clip, and every real clip of a staged sources manifest when one is given (see
../shared/data/sources/README.md), goes through the visible-mark check alone. Printed: how many
real clips it names a generator on (the target is none: a sponsor board, a ticker or a caption
must never be taken for a generator's mark) and how many carry an unidentified overlay (weight
0: channel logos, captions); then, on the shared AI clips whose manifest row says a mark can be
seen, how many it names the right generator on (recall), and what it names on the other AI
clips. Each clip named on is listed with the text read.

Run: .venv/bin/python benchmarks/visible_marks.py [--sources STAGED/manifest.jsonl] [--workers 2]
"""

import argparse
import json
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from clips import SHARED

from detector import MediaError, Settings, analyze
from detector.registry import check_names
from service.lifecycle import run

CHECK = "visible_watermark"
# the generator a manifest's mark note names (its visible_brand / visible_logo, or the text)
EXPECTED = {"kling": "kling", "pika": "pika", "runway": "runway", "show-1": "modelscope"}


def expected_brand(row: dict) -> str | None:
    """The registry key of the mark the manifest row says can be seen, if any."""
    named = row.get("visible_brand") or row.get("visible_logo")
    if named:
        return EXPECTED.get(named, named)
    note = (row.get("visible_watermark") or "").lower()
    return next(
        (key for word, key in EXPECTED.items() if word in note), "sora" if "sora" in note else None
    )


def read_rows(manifest: Path) -> list[dict]:
    rows = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
    for row in rows:
        row["file"] = str(manifest.parent / row["path"])
    return rows


def check_clip(path: str) -> tuple[str, str, list[str], str]:
    """(finding, the brand named or "", the texts it read as marks, the top overlay's text)."""
    others = [name for name in check_names() if name != CHECK]
    try:
        report = analyze(Path(path), Settings(threads=1, disabled_checks=others))
    except MediaError as e:
        return "unreadable", "", [type(e).__name__], ""
    evidence = next(e for e in report.evidence if e.check == CHECK)
    marks = evidence.details.get("marks", [])
    overlays = evidence.details.get("overlays", [])
    brand = marks[0]["brand"] if marks and evidence.finding == "watermark_found" else ""
    texts = [m["text"] for m in marks]
    return evidence.finding, brand, texts, overlays[0]["text"] if overlays else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=Path, help="a staged sources manifest.jsonl")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sets: dict[str, list[dict]] = {}
    if (SHARED / "manifest.jsonl").exists():
        shared = read_rows(SHARED / "manifest.jsonl")
        sets["shared real"] = [r for r in shared if r["label"] == "real"]
        sets["shared AI"] = [r for r in shared if r["label"] == "ai"]
    if args.sources:
        sets["staged real"] = [r for r in read_rows(args.sources) if r["label"] == "real"]
    if not sets:
        raise SystemExit(f"no shared data at {SHARED} and no --sources manifest")
    spawn = multiprocessing.get_context("spawn")
    results: dict[str, list] = {}
    with ProcessPoolExecutor(args.workers, mp_context=spawn) as pool:
        for name, rows in sets.items():
            results[name] = list(pool.map(check_clip, [r["file"] for r in rows], chunksize=4))

    print(f"\n{'clips':<14} {'n':>5} {'brand named':>12} {'overlay only':>13} {'unreadable':>11}")
    for name, rows in sets.items():
        found = results[name]
        named = sum(bool(brand) for _, brand, _, _ in found)
        overlay = sum(finding == "unidentified_overlay" for finding, *_ in found)
        unreadable = sum(finding == "unreadable" for finding, *_ in found)
        print(f"{name:<14} {len(rows):>5} {named:>12} {overlay:>13} {unreadable:>11}")
    if "shared AI" in sets:
        marked = [
            (row, result)
            for row, result in zip(sets["shared AI"], results["shared AI"], strict=True)
            if expected_brand(row)
        ]
        right = [row for row, (_, brand, _, _) in marked if brand == expected_brand(row)]
        print(f"\nrecall on marked shared AI clips: {len(right)}/{len(marked)}")
        by_brand: dict[str, list[int]] = {}
        for row, (_, brand, _, _) in marked:
            tally = by_brand.setdefault(expected_brand(row), [0, 0])
            tally[0] += 1
            tally[1] += brand == expected_brand(row)
        for key, (n, k) in sorted(by_brand.items()):
            print(f"  {key:<12} {k}/{n}")
    print("\nclips a brand was named on:")
    for name, rows in sets.items():
        for row, (_, brand, texts, _) in zip(rows, results[name], strict=True):
            if brand:
                print(f"  {name:<12} {brand:<10} {texts} {row['path']}")


if __name__ == "__main__":
    sys.exit(run(main))  # Ctrl-C: 130, SIGTERM: 143, and whatever it started is stopped
