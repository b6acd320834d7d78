"""The model's input contract: native-resolution crops on a fixed grid, followed through the
window as tubes; the card's calibration turned into a probability."""

import numpy as np
import pytest

from detector.model import Calibration, ModelCard, calibrated, crop_grid, fit_frame, window_tubes


def _card(**calibration) -> ModelCard:
    return ModelCard(
        name="t", version="0", onnx_sha256="", frames=4, height=64, width=64,
        mean=[0, 0, 0], std=[1, 1, 1], generators=[], calibration=Calibration(**calibration),
    )  # fmt: skip


def test_frames_keep_their_native_resolution_between_the_bounds():
    frame = np.zeros((480, 854, 3), np.uint8)
    assert fit_frame(frame, 224, 1080) is frame


def test_frames_too_small_for_one_crop_are_scaled_up_and_huge_ones_down():
    assert fit_frame(np.zeros((144, 176, 3), np.uint8), 224, 1080).shape[:2] == (224, 274)
    assert fit_frame(np.zeros((2160, 3840, 3), np.uint8), 224, 1080).shape[:2] == (1080, 1920)


@pytest.mark.parametrize(
    ("height", "width", "rows", "columns"),
    [(1080, 1920, 2, 2), (1920, 1080, 2, 2), (256, 1024, 1, 4), (1024, 256, 4, 1)],
)
def test_the_grid_fits_the_frame_and_stays_inside_it(height, width, rows, columns):
    corners = crop_grid(height, width, 224, 4)
    assert len(set(corners)) == 4
    assert (len({t for t, _ in corners}), len({x for _, x in corners})) == (rows, columns)
    assert all(0 <= t <= height - 224 and 0 <= x <= width - 224 for t, x in corners)


def test_a_frame_the_size_of_a_crop_gives_that_one_crop_every_time():
    assert crop_grid(224, 224, 224, 4) == [(0, 0)]


@pytest.mark.parametrize(
    ("height", "width", "corners"),
    [(256, 256, [(16, 16)]), (224, 398, [(0, 24), (0, 150)]), (360, 640, [(68, 38), (68, 378)])],
)
def test_crops_that_would_nearly_coincide_are_taken_once(height, width, corners):
    # a 256-pixel GIF has room for one crop: four, two pixels apart, would cost four times as
    # much and see the same pixels
    assert crop_grid(height, width, 224, 4) == corners


def test_the_grid_keeps_off_the_edges_where_logos_and_captions_live():
    corners = crop_grid(1080, 1920, 224, 4)
    assert min(t for t, _ in corners) >= 0.05 * 1080
    assert max(t for t, _ in corners) + 224 <= 0.95 * 1080
    assert min(x for _, x in corners) >= 0.05 * 1920


def test_a_tube_is_the_same_place_in_every_frame_of_the_window():
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (480, 640, 3), dtype=np.uint8) for _ in range(4)]
    tubes, boxes = window_tubes(frames, 64, 4, 1080)
    assert tubes.shape == (4, 4, 64, 64, 3)
    for tube, (x, y, w, h) in zip(tubes, boxes, strict=True):
        assert (w, h) == (64, 64)
        for t, frame in enumerate(frames):
            assert np.array_equal(tube[t], frame[y : y + h, x : x + w])  # native pixels


def test_boxes_are_given_in_the_pixels_of_the_frame_as_delivered():
    frames = [np.zeros((100, 200, 3), np.uint8)] * 3  # scaled up to a short side of 200
    _, boxes = window_tubes(frames, 200, 2, 1080)
    assert all(w == h == 100 for _, _, w, h in boxes)
    assert all(x >= 0 and x + w <= 200 for x, _, w, _ in boxes)


def test_a_frame_size_change_midway_does_not_break_the_window():
    frames = [np.zeros((480, 640, 3), np.uint8), np.zeros((360, 480, 3), np.uint8)]
    tubes, _ = window_tubes(frames, 64, 2, 1080)
    assert tubes.shape == (2, 2, 64, 64, 3)


def test_calibration_applies_temperature_and_bias():
    assert calibrated(0.0, _card()) == pytest.approx(0.5)
    assert calibrated(2.0, _card(temperature=2.0, bias=-1.0)) == pytest.approx(0.5)
    assert calibrated(1.0, _card(temperature=0.5)) == pytest.approx(1 / (1 + np.exp(-2)))


def test_the_likelihood_ratio_follows_the_cards_knots_within_its_cap():
    calibration = Calibration(max_log_lr=2.0, log_lr_knots=[(-1.0, -3.0), (0.0, 0.0), (2.0, 4.0)])
    assert calibration.log_lr(1.0) == pytest.approx(2.0)  # halfway between knots, at the cap
    assert calibration.log_lr(0.5) == pytest.approx(1.0)
    assert calibration.log_lr(-0.5) == pytest.approx(-1.5)
    assert calibration.log_lr(-9.0) == -2.0 and calibration.log_lr(9.0) == 2.0


def test_without_knots_the_likelihood_ratio_is_the_probability_against_the_prior():
    calibration = Calibration(temperature=2.0, train_prior=0.25)
    expected = 1.0 - np.log(0.25 / 0.75)  # logit 2 at temperature 2 -> log-odds 1
    assert calibration.log_lr(2.0) == pytest.approx(expected)


def test_crops_are_square():
    with pytest.raises(ValueError, match="square"):
        ModelCard(
            name="t", version="0", onnx_sha256="", frames=4, height=64, width=96,
            mean=[0, 0, 0], std=[1, 1, 1], generators=[],
        )  # fmt: skip
