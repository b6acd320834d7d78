"""Manifests, importers and the grouped split."""

import json

from detector.synth import make_clip
from training.data import (
    Clip,
    apart,
    fold_split,
    folds,
    import_genvidbench,
    import_genvideo,
    read_manifest,
    split,
    units,
)


def test_the_shared_manifest_format_is_read_with_generator_families(tmp_path):
    rows = [
        {"path": "ai/k/a.mp4", "label": "ai", "generator": "kling-1.6", "generator_family": "kling",
         "source_group": "kling", "license": "NOASSERTION"},
        {"path": "real/x/b.mp4", "label": "real", "source_group": "x", "license": "MIT"},
    ]  # fmt: skip
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    clips = read_manifest(manifest)
    assert [(c.label, c.generator, c.source_group) for c in clips] == [
        ("ai", "kling", "kling"),
        ("real", "real", "x"),
    ]
    assert clips[0].path == tmp_path / "ai/k/a.mp4"


def test_no_group_straddles_the_split():
    clips = [
        Clip(f"{label}{g}-{i}.mp4", label, f"gen{g}" if label == "ai" else "real", f"{label}{g}")
        for label in ("ai", "real")
        for g in range(6)
        for i in range(3)
    ]
    train, val = split(clips, 0.3, seed=1)
    assert {c.group for c in train}.isdisjoint({c.group for c in val})
    assert {c.label for c in val} == {"ai", "real"} and {c.label for c in train} == {"ai", "real"}
    assert split(clips, 0.3, seed=1) == (train, val)  # the same split every time


def test_prompts_keep_one_prompts_clips_together():
    clips = [
        Clip(f"{g}-{p}.mp4", "ai", g, g, prompt_id=f"prompt{p}") for g in "ab" for p in range(4)
    ]
    clips += [Clip(f"r{i}.mp4", "real", "real", f"r{i}") for i in range(4)]
    train, val = split(clips, 0.5, seed=0)
    for prompt in {c.prompt_id for c in val if c.prompt_id}:
        assert all(c.prompt_id != prompt for c in train)


def _archive() -> list[Clip]:
    """Families spread over groups and repositories, an editing method beside its inputs."""
    clips = [
        Clip(f"k{i}.mp4", "ai", "kling", "kling-gallery", source_repo="a/prompts") for i in range(3)
    ]
    clips += [
        Clip(f"s{i}.mp4", "ai", "sora", "sora-gallery", source_repo="a/prompts") for i in range(3)
    ]
    clips += [
        Clip(f"k2{i}.mp4", "ai", "kling", "robot-page", source_repo="b/page") for i in range(2)
    ]
    clips += [
        Clip(f"e{i}.mp4", "ai", "editor", "editor-out", source_repo="c/editor") for i in range(3)
    ]
    clips += [
        Clip(f"i{i}.mp4", "real", "real", "editor-in", source_repo="c/editor") for i in range(3)
    ]
    clips += [Clip(f"x{i}.mp4", "ai", f"gen{i}", f"gen{i}") for i in range(4)]
    clips += [Clip(f"r{i}.mp4", "real", "real", f"cam{i % 5}") for i in range(10)]
    return clips  # fmt: skip


def test_a_unit_holds_a_family_its_near_duplicates_and_the_inputs_it_was_made_from():
    clips = _archive()
    unit = dict(zip([c.path for c in clips], units(clips), strict=True))
    assert unit["k0.mp4"] == unit["k20.mp4"]  # one family over two galleries
    assert unit["e0.mp4"] == unit["i0.mp4"]  # outputs beside the real footage they edited
    assert unit["x0.mp4"] != unit["x1.mp4"] and unit["r0.mp4"] != unit["r1.mp4"]


def test_a_gallery_of_several_families_links_none_of_them():
    """A repository holding Kling and Sora clips would chain every family of a benchmark into
    one unit: it leaves them apart, and keeps the gallery out of training instead."""
    clips = _archive()
    unit = dict(zip([c.path for c in clips], units(clips), strict=True))
    assert unit["k0.mp4"] != unit["s0.mp4"]
    trained = apart(clips, [c for c in clips if c.generator == "kling"])
    assert not any(c.source_repo in ("a/prompts", "b/page") for c in trained)
    assert {c.path for c in clips} - {c.path for c in trained} == {
        c.path for c in clips if c.source_repo in ("a/prompts", "b/page")
    }


def test_no_unit_and_no_family_straddles_the_folds():
    clips = _archive()
    fold = folds(clips, 3, seed=0)
    for key in (lambda c: c.generator if c.fabricated else c.path, lambda c: c.source_group):
        seen: dict = {}
        for clip, f in zip(clips, fold, strict=True):
            assert seen.setdefault(key(clip), f) == f
    assert sorted(set(fold)) == [0, 1, 2] and folds(clips, 3, seed=0) == fold
    for k in range(3):  # nothing trained on shares a group or repository with a held-out clip
        train, test = fold_split(clips, fold, k)
        assert {c.path for c in train}.isdisjoint({c.path for c in test})
        for linked in (lambda c: c.group, lambda c: c.source_repo):
            held = {linked(c) for c in test} - {""}
            assert not any(linked(c) in held for c in train)


def test_the_split_never_straddles_a_unit():
    clips = _archive()
    train, val = split(clips, 0.3, seed=2)
    unit = dict(zip([c.path for c in clips], units(clips), strict=True))
    assert {unit[c.path] for c in train}.isdisjoint({unit[c.path] for c in val})
    assert {c.source_repo for c in train}.isdisjoint({c.source_repo for c in val} - {""})
    assert {c.label for c in val} == {"ai", "real"}


def test_genvideo_and_genvidbench_folder_layouts(tmp_path):
    clip = make_clip(tmp_path / "c.mp4", seconds=0.3, fps=10, size=(32, 32))
    layout = {
        "genvideo/train/real/kinetics/a.mp4": "real",
        "genvideo/train/fake/Sora/b.mp4": "sora",
        "genvidbench/Pika/cat/c.mp4": "pika",
        "genvidbench/MSR-VTT/cat/d.mp4": "real",
    }
    for relative in layout:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(clip.read_bytes())
    (tmp_path / "genvideo/train/fake/Sora/readme.txt").write_text("not a video")
    genvideo = import_genvideo(tmp_path / "genvideo")
    assert sorted(c.generator for c in genvideo) == ["real", "sora"]
    bench = import_genvidbench(tmp_path / "genvidbench")
    assert sorted((c.generator, c.prompt_id) for c in bench) == [("pika", "cat"), ("real", "cat")]


def test_the_split_passes_over_a_family_that_would_keep_a_whole_gallery_out_of_training():
    clips = [
        Clip(f"{g}{i}.mp4", "ai", g, f"{g}-page", source_repo=f"{g}/page")
        for g in "abcdef"
        for i in range(3)
    ]
    clips += [
        Clip(f"h{j}-{i}.mp4", "ai", f"h{j}", f"h{j}-prompts", source_repo="big/gallery")
        for j in range(6)
        for i in range(3)
    ]
    clips += [Clip(f"r{i}.mp4", "real", "real", f"cam{i}") for i in range(10)]
    for seed in range(10):
        train, val = split(clips, 0.3, seed)
        assert not any(c.source_repo == "big/gallery" for c in val)
        assert len(train) + len(val) == len(clips)  # nothing kept apart
