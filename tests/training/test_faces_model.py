"""The faces model end to end on drawn faces: ``verity train --crop face`` caches face tubes
(and self-blended ones of the real clips), cross-validates over manipulation methods, exports
a model with the classifier's contract, and the ``faces`` check runs it."""

import json
import math

import cv2
import numpy as np
import pytest

from detector import Settings, analyze
from detector.model import Model
from tests.h264 import write_h264
from tests.scenes import scene, talking_face, write

from .conftest import require_torch

pytestmark = pytest.mark.slow
SIZE, FACE = (320, 180), 70


def swapped(frames: list[np.ndarray], seed: int) -> list[np.ndarray]:
    """A crude face swap: the middle of the face pasted in from a recoloured copy."""
    rng = np.random.default_rng(seed)
    out = []
    for rgb in frames:
        other = np.clip(rgb.astype(np.int16) + rng.integers(-30, 30, 3), 0, 255).astype(np.uint8)
        mask = np.zeros(rgb.shape[:2], np.float32)
        cv2.ellipse(mask, (SIZE[0] // 2, SIZE[1] // 2), (20, 26), 0, 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), 2)[..., None]
        out.append((mask * other + (1 - mask) * rgb).astype(np.uint8))
    return out


@pytest.fixture(scope="module")
def tiny_faces_model(tmp_path_factory):
    """Eight real drawn faces and four swapped ones of two methods, two epochs; the ONNX path."""
    require_torch()
    from training.train import FACE_DEFAULTS, TrainConfig, train

    folder = tmp_path_factory.mktemp("faces")
    rows = []
    for i in range(12):
        frames = talking_face(seconds=1.2, fps=12, size=SIZE, face=FACE, seed=i)
        if i < 8:
            row = {"label": "real", "source_group": f"studio{i // 2}"}
        else:
            frames = swapped(frames, i)
            row = {"label": "deepfake", "manipulation": "face_swap",
                   "generator_family": f"toyswap{i % 2}", "source_group": f"swap{i}"}  # fmt: skip
        write(folder / f"clip{i}.mp4", frames, fps=12)
        rows.append({"path": f"clip{i}.mp4", "license": "CC0", **row})
    manifest = folder / "manifest.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    small = dict(
        cached_windows=2, blends=1, crops=1, frames=4, stride=1, size=64, train_windows=1,
        renditions=1, epochs=2, batch=8, workers=1, cv=2, crop="face",
    )  # fmt: skip
    config = TrainConfig(
        **{**FACE_DEFAULTS, **small}, manifests=[manifest], out=folder / "run",
        command=["verity", "train", "--crop", "face", "(test)"],
    )  # fmt: skip
    return train(config, log=lambda line: None)


def test_the_faces_model_is_cross_validated_over_methods_and_says_it_is_one(tiny_faces_model):
    card = Model(tiny_faces_model, ("CPUExecutionProvider",), 1).card
    assert card.crop == "face" and card.name == "verity-faces" and card.crops == 1
    assert card.generators == ["toyswap0", "toyswap1"]
    crossval = card.metrics["cross-validation"]
    assert crossval["cross-validated classifier, as delivered"]["scored"] == 12  # a face in each
    assert 0 <= card.calibration.max_log_lr <= math.log(20)


def test_real_clips_get_self_blended_face_tubes_and_manipulated_ones_none(tiny_faces_model):
    blended = {}
    for path in (tiny_faces_model.parent / "features").glob("*.npz"):
        with np.load(path) as views:
            assert len(views["delivered"]) >= 1  # every clip shows its face
            blended[path.name] = len(views["blended"]) if "blended" in views.files else 0
    assert sorted(n > 0 for n in blended.values()) == [False] * 4 + [True] * 8


def test_the_faces_check_judges_the_face_where_it_is(tiny_faces_model, tmp_path):
    clip = write(
        tmp_path / "face.mp4",
        talking_face(seconds=2, fps=12, size=SIZE, face=FACE, seed=40),
        fps=12,
    )
    report = analyze(clip, Settings(face_model_path=tiny_faces_model, gpu=False))
    (evidence,) = [e for e in report.evidence if e.check == "faces"]
    card = Model(tiny_faces_model, ("CPUExecutionProvider",), 1).card
    assert evidence.finding in ("face_consistent", "face_manipulated")
    assert abs(evidence.log_lr) <= card.calibration.max_log_lr + 1e-9
    assert evidence.details["faces"] == len(evidence.details["regions"]) == len(evidence.segments)
    for region in evidence.details["regions"]:
        x, y, w, h = region["box"]
        assert x < SIZE[0] / 2 < x + w and y < SIZE[1] / 2 < y + h and w < 2 * FACE
    assert all(segment in report.timeline for segment in evidence.segments)


def test_a_clip_without_a_face_costs_the_faces_model_nothing(
    tiny_faces_model, tmp_path, monkeypatch
):
    calls = []
    original = Model.__call__
    monkeypatch.setattr(
        Model, "__call__", lambda self, x: calls.append(self.card.crop) or original(self, x)
    )
    clip = write(tmp_path / "landscape.mp4", scene(3, seconds=2, fps=12, size=SIZE), fps=12)
    report = analyze(clip, Settings(face_model_path=tiny_faces_model, gpu=False))
    (evidence,) = [e for e in report.evidence if e.check == "faces"]
    assert evidence.finding == "no_face" and evidence.log_lr == 0 and evidence.status == "ok"
    assert "face" not in calls and "grid" in calls  # the classifier ran, the faces model did not


def test_a_classifier_is_not_taken_for_a_faces_model(tmp_path):
    from detector.model import DEFAULT_MODEL

    clip = write(
        tmp_path / "face.mp4", talking_face(seconds=1, fps=12, size=SIZE, face=FACE), fps=12
    )
    report = analyze(clip, Settings(face_model_path=DEFAULT_MODEL, gpu=False))
    (evidence,) = [e for e in report.evidence if e.check == "faces"]
    assert evidence.status == "not_applicable" and evidence.finding == "no_model"
    assert "not a faces model" in evidence.summary


@pytest.mark.parametrize("late", [0, 4])
def test_the_faces_check_measures_how_far_the_sound_is_from_the_lips(
    tiny_faces_model, tmp_path, late
):
    """A murmur that swells as the drawn mouth opens, ``late`` frames behind it."""
    fps, rate, seconds = 25, 16_000, 4
    t = np.arange(seconds * rate) / rate - late / fps
    murmur = (0.5 + 0.5 * np.sin(8 * t)) * np.random.default_rng(0).standard_normal(len(t)) * 0.3
    frames = talking_face(seconds=seconds, fps=fps, size=SIZE, face=FACE)
    clip = write_h264(tmp_path / "talk.mp4", frames, fps=fps, crf=23, sound=murmur, rate=rate)
    report = analyze(clip, Settings(face_model_path=tiny_faces_model, gpu=False))
    (evidence,) = [e for e in report.evidence if e.check == "faces"]
    measured = evidence.details["lip_sync"]
    assert abs(measured["offset_frames"] - late) <= 1 and measured["confidence"] > 0.2
    assert measured["offset_s"] == pytest.approx(measured["offset_frames"] / fps)
