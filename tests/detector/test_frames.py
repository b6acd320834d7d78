"""The frame plan and its decoding: spread over the whole video, keyframe-anchored, once each."""

import itertools

import pytest

from detector.decode import decode_plan
from detector.frames import FrameSpec, plan_frames
from detector.probe import probe
from detector.settings import Settings


def _decode(path, spec, settings=None):
    settings = settings or Settings()
    probed = probe(path, settings)
    plan = plan_frames(probed, spec, settings.max_frames_decoded)
    return plan, decode_plan(probed, plan, settings)


def test_stills_cover_the_whole_video_not_just_its_start(clip):
    _, frames = _decode(clip("c.mp4", seconds=4, fps=25), FrameSpec(stills=5))
    times = [f.time_s for f in frames.stills]
    assert times[0] == 0.0
    assert times[-1] >= 3.8
    assert times == sorted(times)


def test_windows_are_spread_and_hold_consecutive_frames(clip):
    _, frames = _decode(clip("c.mp4", seconds=4, fps=25), FrameSpec(windows=3, length=8))
    assert len(frames.windows) == 3
    for window in frames.windows:
        gaps = [b.time_s - a.time_s for a, b in itertools.pairwise(window)]
        assert len(window) == 8 and all(g == pytest.approx(0.04) for g in gaps)
    assert frames.windows[-1][-1].time_s >= 3.9


def test_long_seekable_video_is_planned_at_keyframes_and_seeks(clip):
    path = clip("long.mp4", seconds=20, fps=25, gop=50, size=(64, 48))
    plan, frames = _decode(path, FrameSpec(stills=4, windows=2, length=4))
    assert plan.seek
    assert all(run.at_keyframe for run in plan.runs)
    assert [round(f.time_s, 2) for f in frames.stills] == [0.0, 6.0, 14.0, 18.0]
    assert all(w[0].key for w in frames.windows)
    # only the planned runs are decoded: 4 stills (one shared with a window) and 2 windows of 4
    assert frames.decoded < 12
    assert frames.repeats == 0


def test_no_frame_is_decoded_twice(clip):
    path = clip("gop.mp4", seconds=10, fps=25, gop=25, size=(64, 48))
    _, frames = _decode(path, FrameSpec(stills=10, windows=6, length=16))
    assert frames.repeats == 0
    seen = [f.time_s for f in frames.stills] + [f.time_s for w in frames.windows for f in w]
    assert frames.decoded <= 10 * 25
    assert len(set(seen)) <= frames.decoded


def test_short_file_is_decoded_in_one_pass(clip):
    plan, frames = _decode(clip("short.mp4", seconds=1, fps=10), FrameSpec(stills=6))
    assert not plan.seek
    assert frames.decoded == 10
    assert frames.repeats == 0


def test_rotated_frames_are_turned_for_display(clip):
    path = clip("phone.mp4", size=(64, 48), rotation=-90)  # stored landscape, shown portrait
    _, frames = _decode(path, FrameSpec(stills=1))
    assert frames.rotation == -90
    assert frames.stills[0].rgb.shape == (64, 48, 3)


def test_frame_limit_stops_decoding_and_says_so(clip):
    path = clip("c.gif", seconds=3, fps=10, size=(48, 32))
    _, frames = _decode(path, FrameSpec(stills=4), Settings(max_frames_decoded=12))
    assert frames.decoded == 12
    assert frames.stopped_early == "frame_limit"


def test_decode_time_bound_stops_decoding(clip):
    path = clip("c.mp4", seconds=2, fps=25)
    _, frames = _decode(path, FrameSpec(stills=6), Settings(decode_timeout_s=1e-9))
    assert frames.stopped_early == "timeout"
    assert frames.decoded == 1


def test_animated_webp_frames_carry_their_own_times(clip):
    _, frames = _decode(clip("c.webp", seconds=2, fps=10, size=(48, 32)), FrameSpec(stills=3))
    assert [round(f.time_s, 2) for f in frames.stills] == [0.0, 0.9, 1.9]
