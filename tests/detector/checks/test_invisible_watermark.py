"""The invisible-watermark check against payloads embedded by imwatermark's own encoder."""

import numpy as np
import pytest

from detector import analyze
from detector.dwtdct import READINGS, block_scores, frame_scores, vote
from detector.generators import generators
from detector.synth import frame_at
from tests.h264 import write_h264
from tests.imwatermark_encoder import decode, embed

SVD_BITS = list(generators()["svd"].watermark)
FLUX_BITS = list(generators()["flux"].watermark)


def _watermarked_clip(
    path, bits, *, crf: int, tune: str | None = None, frames: int = 12, size=(640, 360)
):
    width, height = size
    marked = (embed(frame_at(i, width, height), bits) for i in range(frames))
    return write_h264(path, marked, fps=25, crf=crf, preset="medium", tune=tune)


def _evidence(report):
    return next(e for e in report.evidence if e.check == "invisible_watermark")


@pytest.mark.parametrize("size", [(512, 288), (640, 360), (1024, 576)])
def test_hard_reading_agrees_with_imwatermarks_decoder(size):
    image = embed(frame_at(3, *size), SVD_BITS)
    ours = (vote([np.sign(block_scores(image, READINGS[0]))], 48) > 0).astype(int)
    assert list(ours) == list(decode(image, 48))
    assert sum(int(a == b) for a, b in zip(ours, SVD_BITS, strict=True)) >= 42


def test_svd_payload_survives_h264_crf18_and_is_found(tmp_path):
    path = _watermarked_clip(tmp_path / "svd.mp4", SVD_BITS, crf=18, tune="grain")
    report = analyze(path)
    e = _evidence(report)
    assert e.finding == "watermark_found"
    assert {"svd", "sdxl"} <= set(e.generators)
    assert "Stable Video Diffusion" in e.summary
    top = min(e.details["payloads"], key=lambda p: p["p_chance"])
    assert top["matched"] >= 44 and top["p_chance"] * e.details["tries"] < 1e-6
    assert report.verdict == "likely_fabricated"


def test_payload_length_is_respected_for_flux(tmp_path):
    path = _watermarked_clip(tmp_path / "flux.mp4", FLUX_BITS, crf=0)
    e = _evidence(analyze(path))
    assert e.finding == "watermark_found"
    assert set(e.generators) == {"flux"}


def test_default_x264_crf18_keeps_the_payload_in_the_keyframe(tmp_path):
    # x264's default tuning smooths the payload out of the predicted frames, but the keyframe
    # keeps it: read on its own, before the erased frames dilute the vote, it decides
    e = _evidence(analyze(_watermarked_clip(tmp_path / "kept.mp4", SVD_BITS, crf=18)))
    assert e.finding == "watermark_found"
    assert e.details["frames"] == 1


def test_default_x264_crf20_erases_the_payload_and_the_report_says_so(tmp_path):
    report = analyze(_watermarked_clip(tmp_path / "erased.mp4", SVD_BITS, crf=20))
    e = _evidence(report)
    assert e.finding == "absent"
    # no hint after the first frames: reading stops there rather than at the budget
    assert e.details["frames"] < 12
    assert any("do not survive" in lim.message for lim in report.limitations)


def _reference_scores(rgb, reading):
    """The soft bits of one reading computed the plain way: U with the reading's offset (rounded
    and clipped for uint8 input), its Haar band, each block's strongest coefficient but the
    first."""
    rgb = rgb.astype(np.float64)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    if reading.swapped:
        red, blue = blue, red
    u = 0.492 * (blue - (0.299 * red + 0.587 * green + 0.114 * blue)) + reading.offset
    if reading.rounded:
        u = np.clip(np.rint(u), 0, 255)
    band = (u[0::2, 0::2] + u[0::2, 1::2] + u[1::2, 0::2] + u[1::2, 1::2]) / 2
    rows, cols = band.shape[0] // 4, band.shape[1] // 4
    blocks = band[: rows * 4, : cols * 4].reshape(rows, 4, cols, 4).swapaxes(1, 2)
    strongest = np.abs(blocks.reshape(rows * cols, 16)[:, 1:]).max(axis=1)
    return -np.sin(2 * np.pi * (strongest % 36) / 36)


def test_shared_work_across_readings_gives_each_readings_own_scores():
    image = embed(frame_at(5, 640, 360), SVD_BITS)
    for reading, shared in zip(READINGS, frame_scores(image), strict=True):
        reference = _reference_scores(image, reading)
        # float32 against float64: a rounding at .5 may differ in a handful of pixels
        assert np.mean(np.abs(reference - shared) < 1e-3) > 0.995, reading.name


def test_unmarked_clip_finds_nothing(clip):
    e = _evidence(analyze(clip("plain.mp4", size=(640, 360), seconds=1)))
    assert (e.finding, e.log_lr) == ("absent", 0.0)


def test_small_frames_are_not_applicable(clip):
    e = _evidence(analyze(clip("small.mp4", size=(160, 120))))
    assert e.status == "not_applicable"


@pytest.mark.shared_data
def test_no_watermark_is_reported_on_any_real_shared_clip(shared_clips, shared_reports, capsys):
    real = [r for r in shared_clips if r["label"] == "real"]
    checked = 0
    for row in real:
        e = _evidence(shared_reports[row["path"]])
        assert e.finding != "watermark_found", row["path"]
        checked += e.status == "ok"
    with capsys.disabled():
        print(
            f"\ninvisible watermark: 0 found on {checked} real clips checked "
            f"({len(real) - checked} too small)"
        )
    assert checked > 70
