"""A tiny training run on clips the test makes: train, export, check parity, and have the
detector load the model and score a video with it; a card that does not match is refused."""

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from detector import ModelError, Settings, analyze
from detector.model import Model, card_path, load_model
from detector.synth import make_clip

from .conftest import require_torch, toy_manifest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A model trained for two epochs on sixteen synthetic clips; returns its ONNX path."""
    require_torch()
    from training.train import TrainConfig, train

    folder = tmp_path_factory.mktemp("train")
    manifest = toy_manifest(folder, 16, seconds=1.2)  # two families, two groups each
    config = TrainConfig(
        manifests=[manifest], out=folder / "run", frames=4, stride=1, size=64, crops=2,
        windows=2, train_windows=1, renditions=1, epochs=2, batch=8, workers=1, val_share=0.3,
        cv=2, command=["verity", "train", "(test)"],
    )  # fmt: skip
    return train(config, log=lambda line: None)


def test_training_writes_a_model_and_a_card_that_describe_each_other(tiny_model):
    card = Model(tiny_model, ("CPUExecutionProvider",), 1).card
    assert (card.frames, card.height, card.width, card.crops) == (4, 64, 64, 2)
    assert card.generators in (["toygen0"], ["toygen1"])  # the other family is held out
    assert card.training["onnx_parity_max_abs"] < 1e-4
    assert card.training["val_groups"] and card.training["command"] == "verity train '(test)'"
    assert card.calibration.temperature > 0 and set(card.calibration.thresholds) == {"0.01", "0.05"}
    for section in (
        "classifier, as delivered",
        "classifier, normalised",
        "container baseline, normalised",
    ):
        assert "auc" in card.metrics[section]
    assert card.metrics["container baseline, normalised"]["auc"] == 0.5  # nothing to tell apart
    assert "format_shift_mean_abs" in card.metrics
    assert "degraded_480p_crf28_shift_mean_abs" in card.metrics
    crossval = card.metrics["cross-validation"]
    assert crossval["folds"] == 2
    assert crossval["cross-validated classifier, as delivered"]["scored"] == 16
    assert 0 <= card.calibration.max_log_lr <= math.log(20)
    assert (tiny_model.parent / "crossval" / "eval.md").exists()
    assert (tiny_model.parent / "eval" / "eval.md").exists()


def test_the_detector_scores_a_video_with_the_trained_model(tiny_model, tmp_path):
    clip = make_clip(tmp_path / "v.mp4", seconds=2, fps=12, size=(96, 80), seed=99)
    report = analyze(clip, Settings(model_path=tiny_model, gpu=False))
    (evidence,) = [e for e in report.evidence if e.check == "classifier"]
    assert evidence.status == "ok" and 0 <= evidence.details["probability"] <= 1
    assert len(evidence.segments) == evidence.details["windows"] >= 1
    assert report.timeline == sorted(evidence.segments, key=lambda s: (s.start_s, s.end_s))
    assert (
        report.model is not None
        and report.model.sha256 == json.loads(card_path(tiny_model).read_text())["onnx_sha256"]
    )


def test_a_card_whose_sha256_does_not_match_the_model_is_refused(tiny_model, tmp_path):
    copy = tmp_path / "m.onnx"
    shutil.copy(tiny_model, copy)
    card = json.loads(card_path(tiny_model).read_text())
    card["onnx_sha256"] = "0" * 64
    card_path(copy).write_text(json.dumps(card))
    with pytest.raises(ModelError, match="does not match its card"):
        load_model(copy, ("CPUExecutionProvider",), 1)


def test_a_card_whose_input_spec_does_not_match_the_model_is_refused(tiny_model, tmp_path):
    copy = tmp_path / "m.onnx"
    shutil.copy(tiny_model, copy)
    card = json.loads(card_path(tiny_model).read_text())
    card["frames"] = 16
    card_path(copy).write_text(json.dumps(card))
    with pytest.raises(ModelError, match=r"card says \[N, 16, 3, 64, 64\]"):
        load_model(copy, ("CPUExecutionProvider",), 1)


def test_a_missing_model_is_a_limitation_not_a_crash(tmp_path):
    clip = make_clip(tmp_path / "v.mp4", seconds=1, fps=10)
    report = analyze(clip, Settings(model_path=tmp_path / "nowhere.onnx"))
    (evidence,) = [e for e in report.evidence if e.check == "classifier"]
    assert evidence.status == "not_applicable" and evidence.log_lr == 0
    assert any("classifier did not run" in lim.message for lim in report.limitations)


def test_onnx_and_pytorch_agree_on_the_trained_model(tiny_model):
    require_torch()
    from training.export import parity
    from training.model import load_checkpoint

    net, _ = load_checkpoint(tiny_model.with_suffix(".pt"))
    assert parity(net, tiny_model, windows=5, seed=3) < 1e-4
    assert np.isfinite(parity(net, tiny_model))


@pytest.mark.parametrize("share", [0.0, 0.25])
def test_training_tubes_give_the_re_encoded_tubes_their_share(share):
    require_torch()
    from training.data import Clip
    from training.train import Sample, training_tubes

    def sample(name: str, label: str, delivered: int, augmented: int) -> Sample:
        rng = np.random.default_rng(len(name))
        views = {
            "delivered": rng.normal(size=(delivered, 4, 6)).astype(np.float16),
            "augmented": rng.normal(size=(augmented, 4, 6)).astype(np.float16),
        }
        return Sample(Clip(name, label, "x" if label == "ai" else "real", name), views)

    samples = [sample("a", "ai", 8, 12), sample("b", "real", 4, 6), sample("c", "real", 8, 0)]
    x, labels, _, weights = training_tubes(samples, ["x"], share)
    tubes = [8 + (12 if share else 0), 4 + (6 if share else 0), 8]
    assert len(x) == len(labels) == len(weights) == sum(tubes)
    a, b = weights[: tubes[0]], weights[tubes[0] : tubes[0] + tubes[1]]
    if share:  # within a clip: the re-encoded tubes carry the share asked for
        assert a[8:].sum() / a.sum() == pytest.approx(share)
        assert b[4:].sum() / b.sum() == pytest.approx(share)
    assert weights[labels == 1].sum() == pytest.approx(weights[labels == 0].sum())


@pytest.mark.parametrize("balance", [0.0, 1.0])
def test_training_tubes_weigh_families_and_real_sources_by_balance(balance):
    require_torch()
    from training.data import Clip
    from training.train import Sample, training_tubes

    def sample(name: str, label: str, family: str, group: str) -> Sample:
        views = {"delivered": np.ones((2, 4, 6), np.float16)}
        return Sample(Clip(name, label, family, group), views)

    samples = [sample(f"big{i}", "ai", "big", f"g{i}") for i in range(4)]
    samples += [sample("small", "ai", "small", "s")]
    samples += [sample(f"cam{i}", "real", "real", "camera") for i in range(3)]
    samples += [sample("phone", "real", "real", "phone")]
    _, labels, _, weights = training_tubes(samples, ["big", "small"], 0.0, balance)
    per_clip = weights.reshape(-1, 2).sum(1)  # two tubes a clip
    big, small, camera, phone = per_clip[:4].sum(), per_clip[4], per_clip[5:8].sum(), per_clip[8]
    assert weights[labels == 1].sum() == pytest.approx(weights[labels == 0].sum())
    if balance:  # every family and every real source the same total
        assert big == pytest.approx(small) and camera == pytest.approx(phone)
    else:  # every clip the same
        assert big == pytest.approx(4 * small) and camera == pytest.approx(3 * phone)


def test_train_flags_not_given_keep_the_configs_defaults():
    require_torch()
    import argparse

    from training.cli import add_commands, train_config
    from training.train import TrainConfig

    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers())
    config = train_config(parser.parse_args(["train", "m.jsonl", "--windows", "3", "--dim", "0"]))
    assert (config.train_windows, config.dim) == (3, 0)
    assert config.augmented_share == TrainConfig.augmented_share
    assert config.cached_windows == TrainConfig.cached_windows and config.evaluate
    assert config.out == Path("runs") / TrainConfig.name
    config = train_config(parser.parse_args(["train", "m.jsonl", "--name", "x", "--no-eval"]))
    assert config.out == Path("runs/x") and not config.evaluate


def test_verity_eval_records_its_numbers_and_command_in_the_card(tiny_model, tmp_path):
    from service.cli import main

    model = tmp_path / "m.onnx"
    shutil.copy(tiny_model, model)
    shutil.copy(card_path(tiny_model), card_path(model))
    manifest = tiny_model.parent.parent / "manifest.jsonl"  # the clips it was trained on
    args = ["eval", str(manifest), "--checks", "classifier", "--model", str(model)]
    code = main([*args, "--out", str(tmp_path / "eval"), "--record", "toy clips"])
    assert code == 0
    card = json.loads(card_path(model).read_text())
    measured = json.loads((tmp_path / "eval" / "eval.json").read_text())["sections"]
    assert card["metrics"]["toy clips, as delivered"]["auc"] == measured["as delivered"]["auc"]
    assert card["metrics"]["recorded_by"]["toy clips"].startswith("verity eval ")
    assert card["onnx_sha256"] == json.loads(card_path(tiny_model).read_text())["onnx_sha256"]
    load_model(model, ("CPUExecutionProvider",), 1)  # the card still matches its model


def test_a_real_clips_self_blended_tubes_count_as_one_fabricated_clip():
    require_torch()
    from training.data import Clip
    from training.train import Sample, training_tubes

    views = {"delivered": np.ones((2, 4, 6), np.float16), "blended": np.ones((6, 4, 6), np.float16)}
    samples = [
        Sample(Clip("swap", "deepfake", "toyswap", "s", manipulation="face_swap"), dict(views)),
        Sample(Clip("studio", "real", "real", "r"), views),
    ]
    samples[0].views.pop("blended")  # only real clips get self-blended copies
    _, labels, generators, weights = training_tubes(samples, ["toyswap"], 0.0)
    assert list(labels) == [1.0] * 2 + [1.0] * 6 + [0.0] * 2  # the swap, the blends, the real
    assert list(generators[2:8]) == [-1] * 6  # the blends name no method
    swap, blends, real = weights[:2].sum(), weights[2:8].sum(), weights[8:].sum()
    assert swap == pytest.approx(blends) and swap + blends == pytest.approx(real)


def test_crop_face_takes_the_faces_defaults_under_the_flags_given():
    require_torch()
    import argparse

    from training.cli import add_commands, train_config
    from training.train import FACE_DEFAULTS

    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers())
    config = train_config(
        parser.parse_args(["train", "m.jsonl", "--crop", "face", "--blends", "2"])
    )
    assert (config.crop, config.name, config.blends) == ("face", FACE_DEFAULTS["name"], 2)
    assert not config.evaluate and config.val_share == 0 and "deepfake" in config.labels
    assert config.out == Path("runs") / FACE_DEFAULTS["name"]
