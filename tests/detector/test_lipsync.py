"""The lip-sync measurement: mouth motion against loudness, and the offset between them."""

import numpy as np
import pytest

from detector.faces import FaceDetector
from detector.lipsync import MAX_OFFSET, loudness_steps, mouth_motion, sync
from tests.h264 import write_h264
from tests.scenes import talking_face

FPS = 25


def test_the_offset_between_mouth_and_sound_is_found():
    rng = np.random.default_rng(0)
    pairs = []
    for _ in range(6):  # six windows of 15 steps, the sound 3 steps behind the mouth
        sound = rng.random(15 + 2 * MAX_OFFSET).astype(np.float32)
        mouth = sound[MAX_OFFSET + 3 : MAX_OFFSET + 3 + 15] + 0.1 * rng.random(15)
        pairs.append((mouth, sound))
    found = sync(pairs, FPS)
    assert found.offset_frames == 3 and found.offset_s == pytest.approx(3 / FPS)
    assert found.confidence > 0.5 and found.steps == 90
    unrelated = [(rng.random(15), rng.random(15 + 2 * MAX_OFFSET)) for _ in range(6)]
    assert sync(unrelated, FPS).confidence < found.confidence / 2


def test_a_still_mouth_or_no_window_measures_nothing():
    assert sync([], FPS) is None
    assert sync([(np.zeros(15), np.ones(15 + 2 * MAX_OFFSET))], FPS) is None


def test_the_drawn_mouth_moves_and_its_loudness_is_read_from_the_file(tmp_path):
    frames = talking_face(seconds=2, fps=FPS, size=(320, 180), face=70)
    detector = FaceDetector(threads=1)
    faces = [detector(f)[0] for f in frames[:16]]
    motion = mouth_motion(frames[:16], faces)
    assert len(motion) == 15 and motion.max() > 3 * max(motion.min(), 0.1)
    # a tone that sounds from 1.0 s on: the loudness jumps at that step and nowhere else
    t = np.arange(2 * 16_000) / 16_000
    tone = np.where(t >= 1.0, 0.5 * np.sin(2 * np.pi * 440 * t), 0.0)
    clip = write_h264(tmp_path / "tone.mp4", frames, fps=FPS, crf=23, sound=tone)
    (steps,) = loudness_steps(clip, [(0.8, 15)], FPS)
    assert len(steps) == 15 + 2 * MAX_OFFSET
    jump = int(np.argmax(steps))  # step k runs from 0.8 - 6/25 + k/25 s
    assert abs((0.8 - MAX_OFFSET / FPS + (jump + 1) / FPS) - 1.0) <= 1.5 / FPS
    mute = write_h264(tmp_path / "mute.mp4", frames, fps=FPS, crf=23)
    assert loudness_steps(mute, [(0.8, 15)], FPS) == [None]
