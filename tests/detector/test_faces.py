"""Faces: the BlazeFace detector's geometry, its card, and face tracks over time."""

import json
import shutil

import numpy as np
import pytest

from detector.errors import ModelError
from detector.faces import (
    DEFAULT_FACE_DETECTOR,
    FACE_MARGIN,
    MIN_FACE,
    Face,
    FaceDetector,
    _eye_angle,
    anchor_centres,
    decode,
    face_tubes,
    letterboxed,
    tracks,
)
from tests.scenes import scene, talking_face


def test_anchors_come_in_the_networks_order():
    full = anchor_centres(192, [4], [1])
    assert full.shape == (2304, 2) and tuple(full[0]) == (0.5 / 48, 0.5 / 48)
    short = anchor_centres(128, [8, 16], [2, 6])
    assert short.shape == (896, 2)
    assert tuple(short[0]) == tuple(short[1]) == (0.5 / 16, 0.5 / 16)
    assert len({tuple(c) for c in short[512:518]}) == 1  # six anchors share a 16-pixel cell


def test_a_box_comes_back_in_the_frames_own_pixels():
    frame = np.zeros((360, 640, 3), np.uint8)
    square, scale, (left, top) = letterboxed(frame, 192)
    assert square.shape == (192, 192, 3) and scale == pytest.approx(640 / 192)
    assert (left, top) == (0, 42)
    anchors = np.array([[0.5, 0.5], [0.1, 0.1]], np.float32)
    regressors = np.zeros((2, 16), np.float32)
    regressors[0, 2:4] = 48  # a 48-pixel face at the centre of the square
    regressors[0, 4:6] = (-10, -10)  # its first keypoint up and left
    scores = np.array([5.0, -5.0], np.float32)  # one confident face, one nothing
    (face,) = decode(regressors, scores, anchors, (192, scale, left, top), 0.5)
    assert face.box == pytest.approx((240, 100, 400, 260), abs=1)  # 48 * 640/192 = 160 px
    assert face.keypoints[0] == pytest.approx((320 - 10 * scale, 180 - 10 * scale), abs=1)
    assert face.score == pytest.approx(1 / (1 + np.exp(-5.0)), abs=1e-3)


def test_the_detector_refuses_a_file_its_card_does_not_describe(tmp_path):
    onnx = tmp_path / DEFAULT_FACE_DETECTOR.name
    shutil.copyfile(DEFAULT_FACE_DETECTOR, onnx)
    card = json.loads(DEFAULT_FACE_DETECTOR.with_suffix(".json").read_text())
    onnx.with_suffix(".json").write_text(json.dumps({**card, "onnx_sha256": "0" * 64}))
    with pytest.raises(ModelError, match="card"):
        FaceDetector(onnx)
    with pytest.raises(ModelError, match="cannot be loaded"):
        FaceDetector(tmp_path / "missing.onnx")


def test_a_landscape_has_no_face():
    detector = FaceDetector(threads=1)
    assert all(detector(f) == [] for f in scene(7, seconds=0.4, size=(640, 360))[::5])


def face(x: float, y: float, side: float = 50) -> Face:
    return Face(box=(x, y, x + side, y + side), score=0.9)


def test_faces_are_linked_over_time_by_overlap():
    found = [
        (0.0, [face(0, 0), face(300, 0)]),
        (0.5, [face(8, 4), face(305, 2)]),
        (1.0, [face(16, 8)]),  # the second face has left
        (1.5, [face(20, 10), face(600, 300)]),  # a third comes in
    ]
    linked = tracks(found)
    assert [(t.start_s, t.end_s, len(t.seen)) for t in linked] == [
        (0.0, 1.5, 4),
        (0.0, 0.5, 2),
        (1.5, 1.5, 1),
    ]


def test_a_speakers_face_is_found_and_followed(shared_clips):
    import av

    (row,) = [r for r in shared_clips if r["path"].endswith("dfl_sample_Obama_speaking.mp4")]
    detector = FaceDetector(threads=1)
    with av.open(str(row["file"])) as container:
        frames = [
            (f.time, f.to_ndarray(format="rgb24"))
            for i, f in enumerate(container.decode(video=0))
            if i % 25 == 0
        ][:8]
    found = [(t, detector(rgb)) for t, rgb in frames]
    assert sum(bool(faces) for _, faces in found) >= 7
    longest = max(tracks(found), key=lambda t: len(t.seen))
    assert len(longest.seen) >= 6
    nose, mouth = longest.seen[0][1].keypoints[2], longest.seen[0][1].keypoints[3]
    x0, y0, x1, y1 = longest.seen[0][1].box
    assert x0 < nose[0] < x1 and y0 < nose[1] < mouth[1] < y1  # the mouth below the nose


def test_a_drawn_face_is_found_in_every_frame_and_followed_as_one_track():
    detector = FaceDetector(threads=1)
    frames = talking_face(seconds=1.0, face=90)[::3]
    found = [(i / 25, detector(f)) for i, f in enumerate(frames)]
    assert all(len(faces) == 1 for _, faces in found)
    (track,) = tracks(found)
    x0, y0, x1, y1 = track.seen[0][1].box
    assert x0 < 320 < x1 and y0 < 180 < y1 and 60 < x1 - x0 < 140  # centred, about 90 pixels


def test_face_tubes_turn_the_face_upright_and_give_it_one_size():
    detector = FaceDetector(threads=1)
    frames = talking_face(seconds=0.64, face=90, tilt=15)[::2]
    tilted = abs(_eye_angle(detector(frames[0])[0]))
    (tube,) = face_tubes(frames, [detector(f) for f in frames], 224)
    assert tube.pixels.shape == (8, 224, 224, 3)
    upright = [detector(crop)[0] for crop in tube.pixels]
    assert tilted > 10 and max(abs(_eye_angle(f)) for f in upright) < tilted - 5
    # the face fills the same share of every crop, the share FACE_MARGIN leaves it
    assert all(abs(f.size - 224 / FACE_MARGIN) < 0.25 * 224 / FACE_MARGIN for f in upright)
    x, y, w, h = tube.box  # where the face lay in the frame, over the window
    assert x < 320 < x + w and y < 180 < y + h


def test_a_face_too_small_to_judge_gives_no_tube():
    detector = FaceDetector(threads=1)
    frames = talking_face(seconds=0.64, face=MIN_FACE * 0.7, size=(320, 180))[::2]
    assert detector(frames[0])  # found, but too small
    assert face_tubes(frames, [detector(f) for f in frames], 224) == []


def test_a_faces_model_that_earned_no_weight_is_said_to_count_for_nothing():
    from detector.checks.faces import _weight

    assert "counts for nothing" in _weight(0.0, 0.0).render()
    said = _weight(-0.5, np.log(3)).render()
    assert "1.6:1 against fabrication" in said and "3.0:1" in said
