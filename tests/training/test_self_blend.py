"""Self-blended faces: the change stays inside a soft mask around the face, and varies."""

import numpy as np

from detector.faces import Face
from tests.scenes import scene
from training.self_blend import self_blended

FRAME = scene(3, seconds=0.04, size=(320, 240))[0]
FACE = Face(box=(110.0, 60.0, 210.0, 180.0), score=0.9)


def test_the_face_is_blended_from_a_changed_copy_and_nothing_else_moves():
    blended = self_blended(FRAME, FACE, np.random.default_rng(0))
    assert blended.image.shape == FRAME.shape and blended.image.dtype == np.uint8
    changed = np.abs(blended.image.astype(int) - FRAME.astype(int)).max(axis=2) > 2
    assert changed[70:170, 130:190].mean() > 0.5  # the middle of the face took the copy
    untouched = blended.mask < 1e-3
    assert not changed[untouched].any()  # outside the mask: the frame itself
    assert blended.mask.min() >= 0.0 and blended.mask.max() <= 1.0
    x0, y0, x1, y1 = (int(v) for v in FACE.box)
    outside = np.ones_like(blended.mask, bool)
    outside[y0 - 20 : y1 + 20, x0 - 20 : x1 + 20] = False
    assert blended.mask[outside].max() < 0.05  # the mask keeps to the face


def test_each_draw_blends_differently_and_a_seed_repeats_it():
    first = self_blended(FRAME, FACE, np.random.default_rng(1))
    again = self_blended(FRAME, FACE, np.random.default_rng(1))
    other = self_blended(FRAME, FACE, np.random.default_rng(2))
    assert np.array_equal(first.image, again.image)
    assert not np.array_equal(first.image, other.image)
    soft = (first.mask > 0.05) & (first.mask < 0.95)
    assert soft.sum() > 100  # a soft boundary, not a hard cut
