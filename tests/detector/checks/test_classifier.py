"""The classifier check with the model Verity ships (detector/models), and the card's numbers
reproduced by ``verity eval`` on the clips it never saw."""

import json

import pytest

from detector import Settings, analyze
from detector.generators import generators, key_for_family
from detector.model import DEFAULT_MODEL, card_path, load_model
from detector.probe import file_sha256
from detector.synth import make_clip
from service.cli import main

from ...conftest import SHARED_DATA


def test_the_shipped_model_matches_its_card_and_is_small():
    model = load_model(DEFAULT_MODEL, ("CPUExecutionProvider",), 1)
    assert model.card.onnx_sha256 == file_sha256(DEFAULT_MODEL)
    assert DEFAULT_MODEL.stat().st_size < 30 * 2**20
    for section in ("classifier, as delivered", "classifier, normalised"):
        assert 0 <= model.card.metrics[section]["auc"] <= 1
    assert model.card.training["data"]["licences"]  # the card states the data's licences


@pytest.mark.parametrize("suffix", [".mp4", ".gif", ".webm"])
def test_the_classifier_scores_windows_over_the_whole_video(tmp_path, suffix):
    clip = make_clip(tmp_path / f"v{suffix}", seconds=4, fps=12, size=(160, 120), seed=5)
    report = analyze(clip, Settings(gpu=False, model_windows=4))
    (evidence,) = [e for e in report.evidence if e.check == "classifier"]
    assert evidence.status == "ok"
    assert len(evidence.segments) >= 2
    assert evidence.segments[-1].end_s > 2.0  # windows reach the second half of the video
    assert report.model.name == "verity-v4"


@pytest.mark.shared_data
@pytest.mark.slow
@pytest.mark.parametrize(
    ("checks", "section"),
    [
        ("all", "held-out shared clips, whole pipeline, as delivered"),
        ("classifier", "held-out shared clips, classifier, as delivered"),
    ],
)
def test_verity_eval_on_the_validation_split_reproduces_the_card(tmp_path, checks, section):
    """The card's held-out clips include staged sources, which CI does not have; the card also
    records the shared clips among them, which ``verity eval`` must reproduce."""
    manifest = SHARED_DATA / "clips" / "manifest.jsonl"
    if not manifest.exists():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    out = tmp_path / "eval"
    code = main(["eval", str(manifest), "--split", "val", "--checks", checks, "--out", str(out)])
    assert code == 0
    measured = json.loads((out / "eval.json").read_text())["sections"]["as delivered"]
    card = json.loads(card_path(DEFAULT_MODEL).read_text())["metrics"][section]
    for key in ("scored", "auc", "ap", "tpr_at_0.05_fpr"):
        assert measured[key] == pytest.approx(card[key], abs=1e-6), key


def test_the_card_families_map_onto_the_generator_registry():
    """The card names the training data's families; a Report names each generator by its
    registry key, whichever check found it (so fusion adds up one generator, not two)."""
    assert key_for_family("hunyuanvideo") == "hunyuan"  # the registry's family field
    assert key_for_family("kling") == "kling"  # the same name
    assert key_for_family("a-family-nobody-registered") == "a-family-nobody-registered"
    card = load_model(DEFAULT_MODEL, ("CPUExecutionProvider",), 1).card
    keys = {key_for_family(family) for family in card.generators}
    assert {"hunyuan", "runway", "videocrafter", "modelscope"} <= keys
    assert not {"hunyuanvideo", "runway-gen2", "dynamicrafter", "zeroscope"} & keys
    assert keys <= set(generators())  # every family the classifier may name has a name to print
