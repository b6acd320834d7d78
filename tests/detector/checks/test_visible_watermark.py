"""The visible-mark check on marks the tests draw, and on the shared clips."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from detector import Settings, analyze
from detector.marks import matches, tokens
from detector.probe import probe
from detector.synth import frame_at
from tests.h264 import write_h264

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
needs_font = pytest.mark.skipif(
    not FONT.exists(), reason="Debian's fonts-noto-cjk draws the marks (.ci/run installs it)"
)
ONLY_VISIBLE = Settings(disabled_checks=["c2pa", "invisible_watermark"])


def _draw(rgb: np.ndarray, text: str, where: str, size: int, opacity: float, shift=(0, 0)):
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
    position = (x[horizontal] + shift[0], y[vertical] + shift[1])
    draw.text(position, text, font=font, fill=(255, 255, 255, round(255 * opacity)))
    return np.asarray(Image.alpha_composite(image, layer).convert("RGB"))


def _marked_clip(path, frames, text, where, size, opacity, moving=False):
    """The frames with ``text`` drawn at ``where`` (wandering over the frame when ``moving``)."""
    return _lettered_clip(path, frames, [(text, where, size, opacity)], "wander" if moving else "")


def _lettered_clip(path, frames, lines, motion=""):
    """The frames with each (text, where, size, opacity) of ``lines`` drawn on them: still, or
    wandering over the frame ("wander"), or scrolling from right to left ("scroll")."""
    lettered = []
    for i, rgb in enumerate(frames):
        shift = {"wander": ((i * 37) % 200, (i * 37) % 200 // 2), "scroll": (-12 * i, 0)}
        for text, where, size, opacity in lines:
            rgb = _draw(rgb, text, where, size, opacity, shift.get(motion, (0, 0)))
        lettered.append(rgb)
    return write_h264(path, lettered, fps=10, crf=20)


def _emblem(rgb: np.ndarray, i: int, radius: int) -> np.ndarray:
    """Three discs of pure red, green and blue, mixed where they overlap, turning around a point
    near the bottom-right corner: an animated logo without text."""
    height, width = rgb.shape[:2]
    cx, cy = width - 3 * radius, height - 3 * radius
    yy, xx = np.mgrid[:height, :width]
    colours = np.zeros_like(rgb)
    for channel in range(3):
        angle = i * 0.4 + channel * 2 * np.pi / 3
        dx, dy = 0.6 * radius * np.cos(angle), 0.6 * radius * np.sin(angle)
        colours[..., channel][(xx - cx - dx) ** 2 + (yy - cy - dy) ** 2 <= radius**2] = 255
    out = rgb.copy()
    drawn = colours.any(axis=-1)
    out[drawn] = colours[drawn]
    return out


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
def test_a_moving_sora_mark_with_its_creator_name_is_found(tmp_path):
    """Sora 2's mark wanders over the frame with the creator's @name under it."""
    frames = [frame_at(i, 960, 540) for i in range(20)]
    lines = [("Sora", "middle left", 40, 0.9), ("@maker_01", "middle left", 22, 0.9)]
    lettered = []
    for i, rgb in enumerate(frames):
        shift = ((i * 37) % 200, (i * 37) % 200 // 2)
        rgb = _draw(rgb, *lines[0], shift=shift)
        lettered.append(_draw(rgb, *lines[1], shift=(shift[0], shift[1] + 50)))
    e = _evidence(write_h264(tmp_path / "sora2.mp4", lettered, fps=10, crf=20))
    assert e.finding == "watermark_found", e.details
    assert "sora" in e.generators


@needs_font
def test_the_word_sora_alone_in_the_middle_is_not_a_mark(tmp_path):
    frames = [frame_at(i, 960, 540) for i in range(20)]
    path = _marked_clip(tmp_path / "sora.mp4", frames, "Sora", "middle left", 40, 0.9, moving=True)
    e = _evidence(path)
    assert e.finding != "watermark_found" and not e.generators, e.details


# Real footage carries these every day: sponsor boards, airport tickers, names, shop signs.
LOOK_ALIKES = [
    ("VEOLIA", "top left", 60, ""),  # the tennis broadcast's board
    ("Veoh", "bottom right", 22, ""),
    ("RUNWAY 27L CLOSED", "bottom centre", 30, "scroll"),
    ("Pikachu", "bottom right", 26, ""),
    ("Klingon", "top right", 34, ""),
    ("LUMAX", "bottom left", 48, ""),
    ("SORANO", "bottom right", 20, ""),
    ("Vidushi", "top centre", 28, "scroll"),
    ("海螺湾", "bottom right", 30, ""),
    ("即梦想", "top left", 36, ""),
]


@needs_font
@pytest.mark.parametrize(
    ("text", "where", "size", "motion"), LOOK_ALIKES, ids=[w[0] for w in LOOK_ALIKES]
)
def test_words_that_contain_a_generator_name_are_not_its_mark(tmp_path, text, where, size, motion):
    """Each word twice: at its place, and along the opposite edge as a caption."""
    frames = [frame_at(i, 960, 540) for i in range(20)]
    vertical, horizontal = where.split()
    opposite = {"top": "bottom", "bottom": "top"}[vertical] + f" {horizontal}"
    lines = [(text, where, size, 1.0), (text, opposite, 24, 0.8)]
    e = _evidence(_lettered_clip(tmp_path / "look-alike.mp4", frames, lines, motion))
    assert e.finding != "watermark_found" and not e.generators, e.details
    assert e.log_lr == 0.0


@needs_font
@pytest.mark.parametrize(
    ("text", "where", "size"),
    [("Veo", "top left", 60), ("RUNWAY", "bottom right", 30), ("Luma", "bottom left", 40)],
    ids=["veo-board", "runway-corner", "luma-caption"],
)
def test_an_ordinary_word_away_from_its_mark_place_is_only_an_overlay(tmp_path, text, where, size):
    frames = [frame_at(i, 960, 540) for i in range(20)]
    e = _evidence(_marked_clip(tmp_path / "word.mp4", frames, text, where, size, 1.0))
    assert (e.finding, e.log_lr) == ("unidentified_overlay", 0.0), e.details
    (overlay,) = e.details["overlays"]
    assert overlay["resembles"] == text.lower() and overlay["not_named_because"]


@needs_font
def test_an_ordinary_word_at_its_place_in_one_shot_only_is_not_a_mark(tmp_path):
    """A "Veo" board at the bottom right of the first shot, gone after the cut: of the three
    frames read (first, middle, last), one shows it."""
    frames = [frame_at(i, 960, 540) for i in range(20)]
    shown = [_draw(f, "Veo", "bottom right", 26, 0.9) for f in frames[:4]]
    clip = write_h264(tmp_path / "cut.mp4", shown + frames[4:], fps=10, crf=20)
    e = _evidence(clip)
    assert e.finding != "watermark_found" and not e.generators, e.details


def test_plain_clip_has_no_mark(clip):
    e = _evidence(clip("plain.mp4", size=(640, 360), seconds=2, fps=10))
    assert (e.finding, e.log_lr) == ("absent", 0.0)


def test_animated_colour_emblem_is_an_unidentified_overlay(tmp_path):
    frames = [_emblem(frame_at(i, 640, 360), i, radius=14) for i in range(30)]
    e = _evidence(write_h264(tmp_path / "emblem.mp4", frames, fps=10, crf=20))
    assert (e.finding, e.log_lr) == ("unidentified_overlay", 0.0), e.details
    (overlay,) = e.details["overlays"]
    assert overlay["where"] == "bottom right" and overlay["text"] == ""
    x, y, w, h = overlay["box"]
    assert x <= 640 - 42 <= x + w and y <= 360 - 42 <= y + h  # the emblem's centre
    assert len(overlay["seen_at_s"]) >= 6
    assert "counts for nothing" in e.summary


def test_colour_patch_in_a_motionless_scene_is_not_an_overlay(tmp_path):
    still = frame_at(0, 640, 360)
    still[300:330, 590:620] = (20, 40, 230)  # a pure blue sign that never moves
    e = _evidence(write_h264(tmp_path / "still.mp4", [still] * 30, fps=10, crf=20))
    assert e.finding == "absent", e.details


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
    assert matches(read)[0].brand == brand


def test_short_marks_must_match_exactly():
    assert matches("Vea") == [] and matches("SORA")[0].brand == "sora"
    assert tokens("ＳＯＲＡ ") == ["SORA"]


@pytest.mark.parametrize(
    "read",
    ["VEOLIA", "Veoh", "Pikachu", "Klingon", "LUMAX", "SORANO", "Vidushi", "海螺湾", "即梦想"],
)
def test_a_mark_is_never_read_inside_a_longer_word(read):
    assert matches(read) == []


@pytest.mark.parametrize(
    ("read", "brand"),
    [
        ("KLINGAI1.6PRO", "kling"),
        ("Veo 3", "veo"),
        ("KLING AI 2.0", "kling"),
        ("海螺AI生成", "hailuo"),
    ],
)
def test_a_mark_stands_as_whole_tokens_beside_version_numbers(read, brand):
    assert matches(read)[0].brand == brand


def test_the_one_character_tolerance_never_crosses_a_word_boundary():
    assert matches("KLINGAIR") == [] and matches("XKLING AI") == []
    assert matches("KLlNG AI")[0].brand == "kling"  # one wrong character, long mark
    assert matches("KLlNG AI", fuzzy=False) == []


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


@pytest.mark.shared_data
def test_logos_without_text_are_unidentified_overlays(shared_clips, shared_reports):
    logos = [r for r in shared_clips if r.get("visible_logo")]
    assert {r["visible_logo"] for r in logos} == {"pika", "runway"}
    for row in logos:
        e = _evidence(shared_reports[row["path"]])
        if e.finding == "watermark_found":  # OCR reads "PIKA" on some Pika clips
            assert e.generators == {row["visible_logo"]: 0.8}, row["path"]
            continue
        assert e.finding == "unidentified_overlay", row["path"]
        top = max(e.details["overlays"], key=lambda o: len(o["seen_at_s"]))
        assert top["where"] == "bottom right" and len(top["seen_at_s"]) >= 3, row["path"]


@pytest.mark.shared_data
def test_no_colour_emblem_on_any_real_shared_clip(shared_clips, shared_reports, capsys):
    real = [r for r in shared_clips if r["label"] == "real"]
    overlays = {
        r["path"]: _evidence(shared_reports[r["path"]]).details.get("overlays", []) for r in real
    }
    emblems = [path for path, found in overlays.items() if any(not o["text"] for o in found)]
    with capsys.disabled():
        print(
            f"\nunidentified overlays: {sum(map(bool, overlays.values()))} of {len(real)} real "
            f"clips, colour emblems among them: {len(emblems)}"
        )
    assert not emblems


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
