"""Training tests need PyTorch and timm (the train extra): skipped without them, except in CI."""

import json
import os
from pathlib import Path

import pytest


def require_torch():
    try:
        import timm  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("PyTorch and timm are missing (make test installs the train extra)")
        pytest.skip("PyTorch and timm are not installed (pip install '.[train]')")


def toy_manifest(folder: Path, clips: int, seconds: float) -> Path:
    """``clips`` synthetic 96x80 clips, real and AI by turns, in groups of four (so two AI
    families when there are sixteen), and their manifest."""
    from detector.synth import make_clip

    rows = []
    for i in range(clips):
        label = "ai" if i % 2 else "real"
        path = make_clip(folder / f"{label}{i}.mp4", seconds=seconds, fps=12, size=(96, 80), seed=i)
        family = f"toygen{i // (clips // 2)}" if label == "ai" else None
        rows.append(
            {"path": path.name, "label": label, "source_group": f"{label}-group{i // 4}",
             "generator_family": family, "license": "CC0"}
        )  # fmt: skip
    manifest = folder / "manifest.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return manifest
