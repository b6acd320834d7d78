"""The visible-mark check on marks the tests draw, and on the shared clips."""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from detector import Settings, analyze
from detector.checks.visible_watermark import _brand
from detector.ocr import normalise
from detector.probe import probe
from detector.synth import frame_at

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
needs_font = pytest.mark.skipif(
    not FONT.exists(), reason="Debian's fonts-noto-cjk draws the marks (.ci/run installs it)"
)
ONLY_VISIBLE = Settings(disabled_checks=["c2pa", "invisible_watermark"])


def _draw(rgb: np.ndarray, text: str, where: str, size: int, opacity: float, shift=0):
    image = Image.fromarray(rgb).convert("RGBA")
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font = ImageFont.truetype(str(FONT), size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    w, h = right - left, bottom - top
    margin = size // 2
    x = {"left": margin, "right": image.width - w - margin, "centre": (image.width - w) // 2}
    y = {"top": margin, "bottom": image.height - h - margin * 2, "middle": image.height // 2}
    vertical, horizontal = where.split()
    position = (x[horizontal] + shift, y[vertical] + shift // 2)
    draw.text(position, text, font=font, fill=(255, 255, 255, round(255 * opacity)))
    return np.asarray(Image.alpha_composite(image, layer).convert("RGB"))


def _marked_clip(path, frames, text, where, size, opacity, moving=False):
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.options = {"crf": "20", "preset": "veryfast"}
        for i, rgb in enumerate(frames):
            shift = (i * 37) % 200 if moving else 0
            frame = av.VideoFrame.from_ndarray(
                _draw(rgb, text, where, size, opacity, shift), "rgb24"
            )
            frame.pts, frame.time_base = i, Fraction(1, 10)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _evidence(path_or_report):
    report = path_or_report
    if isinstance(path_or_report, Path):
        report = analyze(path_or_report, ONLY_VISIBLE)
    return next(e for e in report.evidence if e.check == "visible_watermark")


DRAWN = [
    ("KLING AI", "bottom right", 30, 1.0, "kling"),
    ("可灵AI", "bottom left", 34, 0.6, "kling"),
    ("Hailuo AI", "top right", 28, 0.8, "hailuo"),
    ("即梦AI", "top left", 30, 1.0, "jimeng"),
    ("AI生成", "bottom centre", 32, 0.7, "ai_label_cn"),
    ("Veo", "bottom right", 26, 0.9, "veo"),
]


@needs_font
@pytest.mark.parametrize(
    ("text", "where", "size", "opacity", "brand"), DRAWN, ids=[d[0] for d in DRAWN]
)
def test_drawn_marks_are_found(tmp_path, text, where, size, opacity, brand):
    frames = [frame_at(i, 960, 540) for i in range(20)]
    e = _evidence(_marked_clip(tmp_path / "marked.mp4", frames, text, where, size, opacity))
    assert e.finding == "watermark_found", e.details
    assert brand in e.generators or brand == "ai_label_cn"
    mark = e.details["marks"][0]
    assert mark["brand"] == brand and mark["where"] == where.replace("centre", "centre")
    assert len(mark["seen_at_s"]) >= 2
    assert "painted onto real footage" in e.summary


@needs_font
def test_moving_mark_in_the_middle_is_found(tmp_path):
    frames = [frame_at(i, 960, 540) for i in range(20)]
    path = _marked_clip(
        tmp_path / "bouncing.mp4", frames, "Sora", "middle left", 40, 0.9, moving=True
    )
    e = _evidence(path)
    assert e.finding == "watermark_found"
    assert "sora" in e.generators


def test_plain_clip_has_no_mark(clip):
    e = _evidence(clip("plain.mp4", size=(640, 360), seconds=2, fps=10))
    assert (e.finding, e.log_lr) == ("absent", 0.0)


@pytest.mark.parametrize(
    ("read", "brand"),
    [
        ("KLING Al 1.6", "kling"),
        ("KIlingAI 2.0", "kling"),
        ("ＫＬＩＮＧ　ＡＩ", "kling"),
        ("可灵Al", "kling"),
        ("海螺AI", "hailuo"),
        ("豆包AI生成", "doubao"),
        ("本内容由人工智能合成", "ai_label_cn"),
        ("Imagined with AI", "meta"),
    ],
)
def test_look_alikes_are_folded_before_matching(read, brand):
    assert _brand(read)[0] == brand


def test_short_marks_must_match_exactly():
    assert _brand("Vea") is None and _brand("SORA")[0] == "sora"
    assert normalise("ＳＯＲＡ ") == "SORA"


# ---- the shared clips (skipped without ../shared/data) ----


@pytest.mark.shared_data
def test_kling_clips_show_their_brand(shared_clips, shared_reports):
    kling = [r for r in shared_clips if r.get("visible_brand") == "kling"]
    assert kling
    for row in kling:
        e = _evidence(shared_reports[row["path"]])
        assert e.finding == "watermark_found", row["path"]
        assert "kling" in e.generators


@pytest.mark.shared_data
def test_no_mark_is_reported_on_any_real_shared_clip(shared_clips, shared_reports, capsys):
    real = [r for r in shared_clips if r["label"] == "real"]
    found = [
        r["path"] for r in real if _evidence(shared_reports[r["path"]]).finding == "watermark_found"
    ]
    with capsys.disabled():
        print(f"\nvisible marks: {len(found)} found on {len(real)} real clips")
    assert not found


@needs_font
@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("text", "where", "size", "opacity", "brand"), DRAWN[:3], ids=[d[0] for d in DRAWN[:3]]
)
def test_marks_drawn_onto_real_clips_are_found(
    shared_clips, tmp_path, text, where, size, opacity, brand
):
    row = next(r for r in shared_clips if r["path"].endswith("cotracker_paragliding.mp4"))
    from detector.decode import decode_plan
    from detector.frames import FrameSpec, plan_frames

    settings = Settings()
    probed = probe(row["file"], settings)
    decoded = decode_plan(
        probed, plan_frames(probed, FrameSpec(windows=1, length=20), 100), settings
    )
    frames = [
        f.rgb[: f.rgb.shape[0] // 2 * 2, : f.rgb.shape[1] // 2 * 2] for f in decoded.windows[0]
    ]
    e = _evidence(_marked_clip(tmp_path / "real-marked.mp4", frames, text, where, size, opacity))
    assert e.finding == "watermark_found"
    assert e.details["marks"][0]["brand"] == brand
