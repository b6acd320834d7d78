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
# What the classifier learns to tell apart. Other labels (the sources' "deepfake": real footage
# with a manipulated face) are for the face check, not for a whole-frame classifier.
CLASSIFIER_LABELS = ("ai", REAL)
FACE_LABELS = ("ai", "deepfake", REAL)


@dataclass(frozen=True)
class Clip:
    path: Path
    label: str  # "real" | "ai"
    generator: str  # the generator family ("kling", "sora", ...); "real" for real footage
    source_group: str  # clips of one group share scenes, prompts or cameras
    prompt_id: str = ""
    licence: str = ""
    source_repo: str = ""  # where the clip was published; one repository's clips may share
    short_side: int = 0  # the frame's shorter side in pixels as listed (0: not listed)
    collection: str = ""  # the folder of the manifest it came from ("clips", "sources", ...)
    # a face row's: "face_swap", "lip_sync" (label "deepfake"), "reenactment", "talking_head"
    manipulation: str = ""

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
                source_repo=row.get("source_repo", ""),
                short_side=min(row.get("width") or 0, row.get("height") or 0),
                collection=path.parent.name,
                manipulation=row.get("manipulation") or "",
            )
        )
    return clips


def read_manifests(paths: Iterable[Path], labels: Iterable[str] = CLASSIFIER_LABELS) -> list[Clip]:
    """The clips of several manifests (the shared clips and the staged sources, say), those
    with one of ``labels`` only."""
    wanted = set(labels)
    return [clip for path in paths for clip in read_manifest(path) if clip.label in wanted]


def face_clips(clips: Iterable[Clip], generated: bool = False) -> list[Clip]:
    """What the faces model learns from: manipulated faces (face rows) and real footage, and
    with ``generated`` every other AI clip too (a generated scene's faces are generated). Only
    the clips in which a face is found are kept (features.compute)."""
    return [clip for clip in clips if generated or clip.manipulation or not clip.fabricated]


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


def units(clips: list[Clip]) -> list[str]:
    """What a split must keep together, one name per clip: a generator family's clips, and the
    clips linked to them by a source group, prompt or repository that holds no other family
    (one page's re-encodes, an editing method's outputs beside the real footage it edited).
    A group or repository holding several families (a comparison gallery, one prompt across
    generators) links nothing, or every family would be chained into one unit: its clips are
    kept out of training instead while any of them is held out (``apart``)."""
    families: dict[str, set[str]] = {}
    for clip in clips:
        for link in _links(clip):
            families.setdefault(link, set()).update([clip.generator] if clip.fabricated else [])
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for i, clip in enumerate(clips):
        links = [f"family:{clip.generator}"] if clip.fabricated else []
        links += [link for link in _links(clip) if len(families[link]) <= 1]
        for link in links:
            parent[find(f"clip:{i}")] = find(link)
    roots = [find(f"clip:{i}") for i in range(len(clips))]
    # name each unit by its first group, so that names read well and stay stable
    names = {}
    for clip, root in zip(clips, roots, strict=True):
        names.setdefault(root, clip.group)
    return [names[root] for root in roots]


def apart(train: list[Clip], held_out: list[Clip]) -> list[Clip]:
    """The training clips that share no source group, prompt or repository with a held-out
    clip: what may be trained on while ``held_out`` is scored."""
    held = {link for clip in held_out for link in _links(clip)}
    return [clip for clip in train if held.isdisjoint(_links(clip))]


def _links(clip: Clip) -> list[str]:
    return [f"group:{clip.group}"] + ([f"repo:{clip.source_repo}"] if clip.source_repo else [])


def split(clips: list[Clip], val_share: float, seed: int) -> tuple[list[Clip], list[Clip]]:
    """Train and validation clips, whole units (see ``units``) on one side, and nothing in
    training that shares a group or repository with a validation clip (``apart``). Units are
    drawn in a seeded order until each label has about ``val_share`` of its clips held out; a
    unit that would hold out far more than that is passed over, and so is one that would keep
    more clips than its own out of training (a family from a gallery of many)."""
    unit_of = units(clips)
    members: dict[str, list[Clip]] = {}
    for clip, unit in zip(clips, unit_of, strict=True):
        members.setdefault(unit, []).append(clip)
    carrying: dict[str, set[int]] = {}  # link -> the clips (indices) carrying it
    for i, clip in enumerate(clips):
        for link in _links(clip):
            carrying.setdefault(link, set()).add(i)
    totals = {f: sum(c.fabricated == f for c in clips) for f in (False, True)}
    taken = {False: 0, True: 0}
    val_units = set()
    for fabricated in (False, True):
        names = sorted(u for u, m in members.items() if _majority(m) == fabricated)
        random.Random(f"{seed}-{fabricated}").shuffle(names)
        for name in names:
            target = val_share * totals[fabricated]
            if taken[fabricated] >= target:
                break
            counts = {f: sum(c.fabricated == f for c in members[name]) for f in (False, True)}
            if taken[fabricated] + counts[fabricated] > 1.25 * target + 1:
                continue
            linked = set().union(*(carrying[link] for c in members[name] for link in _links(c)))
            if len(linked) > 2 * len(members[name]):
                continue  # it would keep more clips than its own out of training
            val_units.add(name)
            for f in (False, True):
                taken[f] += counts[f]
    val = [c for c, u in zip(clips, unit_of, strict=True) if u in val_units]
    train = apart([c for c, u in zip(clips, unit_of, strict=True) if u not in val_units], val)
    return train, val


def folds(clips: list[Clip], k: int, seed: int) -> list[int]:
    """A fold number in [0, k) for every clip, whole units per fold, for cross-validation
    that holds out whole generator families and whole real sources at once (train each fold on
    ``apart`` of the others). Units go, largest first, to the fold holding the fewest clips of
    their label."""
    unit_of = units(clips)
    members: dict[str, list[Clip]] = {}
    for clip, unit in zip(clips, unit_of, strict=True):
        members.setdefault(unit, []).append(clip)
    order = sorted(
        members,
        key=lambda u: (-len(members[u]), hashlib.sha256(f"{seed}-{u}".encode()).hexdigest()),
    )
    load = [{False: 0, True: 0} for _ in range(k)]
    fold_of_unit = {}
    for name in order:
        label = _majority(members[name])
        fold = min(range(k), key=lambda f: (load[f][label], sum(load[f].values())))
        fold_of_unit[name] = fold
        for clip in members[name]:
            load[fold][clip.fabricated] += 1
    return [fold_of_unit[u] for u in unit_of]


def fold_split(clips: list[Clip], fold_of: list[int], fold: int) -> tuple[list[Clip], list[Clip]]:
    """The training and held-out clips of one fold of ``folds``: training is what stays
    ``apart`` from the held-out clips."""
    test = [c for c, f in zip(clips, fold_of, strict=True) if f == fold]
    return apart([c for c, f in zip(clips, fold_of, strict=True) if f != fold], test), test


def _majority(clips: list[Clip]) -> bool:
    """True when most of the clips are fabricated."""
    return 2 * sum(c.fabricated for c in clips) > len(clips)


def groups_digest(clips: list[Clip]) -> str:
    return hashlib.sha256("\n".join(sorted({c.group for c in clips})).encode()).hexdigest()[:12]
