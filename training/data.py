"""Labelled clips: a JSONL manifest (path, label, generator, source_group, optional prompt_id),
readers for the shared clips and for the folder layouts of GenVideo and GenVidBench, and the
split by source group that keeps near-duplicates on one side."""

import hashlib
import json
import random
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from detector.sniff import HEAD_BYTES, sniff

REAL = "real"


@dataclass(frozen=True)
class Clip:
    path: Path
    label: str  # "real" | "ai"
    generator: str  # the generator family ("kling", "sora", ...); "real" for real footage
    source_group: str  # clips of one group share scenes, prompts or cameras
    prompt_id: str = ""
    licence: str = ""

    @property
    def fabricated(self) -> bool:
        return self.label != REAL

    @property
    def group(self) -> str:
        """What a split keeps together: the source group, and the prompt where known."""
        return self.prompt_id or self.source_group


def read_manifest(path: Path) -> list[Clip]:
    """A Verity manifest, or the shared data's (``generator_family`` names the generator)."""
    clips = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        label = row["label"]
        generator = REAL if label == REAL else row.get("generator_family") or row["generator"]
        clips.append(
            Clip(
                path=(path.parent / row["path"]).resolve(),
                label=label,
                generator=_family(generator),
                source_group=row.get("source_group") or row["path"].split("/")[0],
                prompt_id=row.get("prompt_id", ""),
                licence=row.get("license", row.get("licence", "")),
            )
        )
    return clips


def write_manifest(clips: Iterable[Clip], path: Path) -> None:
    with open(path, "w") as f:
        for clip in clips:
            row = asdict(clip)
            row["path"] = str(clip.path)
            f.write(json.dumps(row) + "\n")


def _family(generator: str) -> str:
    return generator.lower().replace(" ", "-")


def import_genvideo(root: Path) -> list[Clip]:
    """GenVideo (DeMamba): ``<split>/real/<source>/...`` and ``<split>/fake/<generator>/...``."""
    clips = []
    for video in _videos(root):
        parts = video.relative_to(root).parts
        if "real" in parts:
            source = (
                parts[parts.index("real") + 1] if len(parts) > parts.index("real") + 2 else "real"
            )
            clips.append(Clip(video, REAL, REAL, f"genvideo-real-{source}"))
        elif "fake" in parts:
            generator = parts[parts.index("fake") + 1]
            clips.append(Clip(video, "ai", _family(generator), f"genvideo-{_family(generator)}"))
    return clips


def import_genvidbench(root: Path) -> list[Clip]:
    """GenVidBench: ``<generator>/<prompt or class>/<clip>``, real footage under a ``real``
    (or ``MSR-VTT``) folder; the prompt folder becomes the prompt id, so one prompt's clips
    from every generator stay on one side of the split."""
    clips = []
    for video in _videos(root):
        parts = video.relative_to(root).parts
        top = parts[0].lower()
        prompt = parts[1] if len(parts) > 2 else ""
        if top in ("real", "msr-vtt", "msrvtt"):
            clips.append(Clip(video, REAL, REAL, "genvidbench-real", prompt_id=prompt))
        else:
            clips.append(
                Clip(
                    video,
                    "ai",
                    _family(parts[0]),
                    f"genvidbench-{_family(parts[0])}",
                    prompt_id=prompt,
                )
            )
    return clips


def _videos(root: Path) -> Iterable[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            with open(path, "rb") as f:
                if sniff(f.read(HEAD_BYTES)).is_known_video:
                    yield path


def split(clips: list[Clip], val_share: float, seed: int) -> tuple[list[Clip], list[Clip]]:
    """Train and validation clips, whole groups on one side. Real and AI groups are drawn
    separately so both sides hold both labels."""
    val_groups = set()
    for fabricated in (False, True):
        groups = sorted({c.group for c in clips if c.fabricated == fabricated})
        rng = random.Random(f"{seed}-{fabricated}")
        rng.shuffle(groups)
        sizes = {g: sum(1 for c in clips if c.group == g) for g in groups}
        total, taken = sum(sizes.values()), 0
        for group in groups:
            if taken >= val_share * total:
                break
            val_groups.add(group)
            taken += sizes[group]
    train = [c for c in clips if c.group not in val_groups]
    val = [c for c in clips if c.group in val_groups]
    return train, val


def groups_digest(clips: list[Clip]) -> str:
    return hashlib.sha256("\n".join(sorted({c.group for c in clips})).encode()).hexdigest()[:12]
