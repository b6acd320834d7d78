"""Taking the packaging away: every training window, AI or real, is decoded and then passed
through what a platform does to an upload, at random: a crop, a rescale to 256-720 lines, H.264
at a low bitrate (sometimes twice, a re-encode of a re-encode), GIF-style palette quantisation
or lossy WebP; at one of two frame rates. So no container, encoder, frame size or frame rate can
stand in for what the pixels show. Also the fixed copies evaluation uses: format-normalised
clips, one clip presented as MP4, GIF and WebP, and a 480p CRF 28 copy."""

import io
import random
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from detector import Settings
from detector.decode import decode_plan
from detector.frames import FrameSpec, plan_frames
from detector.model import resize_short
from detector.probe import probe

# The fixed form of a format-normalised copy: what a platform's re-encode leaves.
NORMAL_SIZE, NORMAL_FPS, NORMAL_FRAMES, NORMAL_CRF = 384, 12, 24, 23


# The short side a re-encode leaves, and how hard it compresses. From 256 lines, where research
# generators' galleries sit, to a platform's 720p: so real footage is also seen at the AI clips'
# small sizes, and (scaled up, UPSCALE_SHARE of the time) small AI clips at camera sizes, and
# the frame size stops telling the labels apart (issue 20).
PLATFORM_SHORT_SIDES = (256, 720)
UPSCALE_SHARE = 0.3
PLATFORM_CRF = (23, 40)
DEGRADED_SHORT_SIDE, DEGRADED_CRF = 480, 28  # the robustness copy the card reports on


def reencode_window(frames: list[np.ndarray], rng: random.Random) -> list[np.ndarray]:
    """One window's RGB frames, cropped, downscaled and passed through a random lossy codec."""
    height, width = frames[0].shape[:2]
    crop = rng.uniform(0.7, 1.0)
    crop_w, crop_h = max(int(width * crop) // 2 * 2, 16), max(int(height * crop) // 2 * 2, 16)
    left, top = rng.randint(0, width - crop_w), rng.randint(0, height - crop_h)
    # a larger clip comes down to the target; a smaller one goes up to it some of the time
    short = min(crop_w, crop_h)
    target = rng.randint(*PLATFORM_SHORT_SIDES)
    scale = target / short if short > target or rng.random() < UPSCALE_SHARE else 1.0
    out_w, out_h = max(int(crop_w * scale) // 2 * 2, 16), max(int(crop_h * scale) // 2 * 2, 16)
    shaped = [
        np.asarray(
            Image.fromarray(f[top : top + crop_h, left : left + crop_w]).resize(
                (out_w, out_h), Image.BILINEAR
            )
        )
        for f in frames
    ]
    codec = rng.random()
    if codec < 0.7:
        once = h264_roundtrip(shaped, crf=rng.randint(*PLATFORM_CRF))
        return h264_roundtrip(once, crf=rng.randint(*PLATFORM_CRF)) if rng.random() < 0.3 else once
    if codec < 0.85:
        return [palette_roundtrip(f, dither=rng.random() < 0.5) for f in shaped]
    return [webp_roundtrip(f, quality=rng.randint(50, 90)) for f in shaped]


def h264_roundtrip(frames: list[np.ndarray], crf: int, fps: int = 25) -> list[np.ndarray]:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="h264") as container:
        _encode_h264(container, frames, crf, "veryfast", fps)
    buffer.seek(0)
    with av.open(buffer, format="h264") as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return decoded[: len(frames)] or frames


def palette_roundtrip(frame: np.ndarray, dither: bool) -> np.ndarray:
    image = Image.fromarray(frame).quantize(
        256, dither=Image.Dither.FLOYDSTEINBERG if dither else Image.Dither.NONE
    )
    return np.asarray(image.convert("RGB"))


def webp_roundtrip(frame: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="WEBP", quality=quality)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("RGB"))


def sample_windows(path: Path, windows: int, length: int, settings: Settings) -> list[list]:
    """The detector's own frame plan and decoding: ``windows`` runs of ``length`` frames
    spread over the clip, as RGB arrays."""
    probed = probe(path, settings, with_hash=False)
    plan = plan_frames(
        probed, FrameSpec(windows=windows, length=length), settings.max_frames_decoded
    )
    frames = decode_plan(probed, plan, settings)
    return [[f.rgb for f in w] for w in frames.windows if w]


def normalised_frames(path: Path, settings: Settings) -> list[np.ndarray]:
    """NORMAL_FRAMES consecutive frames from the middle of the clip, scaled and centre-cropped
    to NORMAL_SIZE square (short clips repeat their last frame)."""
    (window,) = sample_windows(path, 1, NORMAL_FRAMES, settings)[:1] or [[]]
    if not window:
        raise ValueError(f"{path}: no frames decoded")
    window = window + [window[-1]] * (NORMAL_FRAMES - len(window))
    return [_center_square(resize_short(f, NORMAL_SIZE), NORMAL_SIZE) for f in window]


def _center_square(rgb: np.ndarray, size: int) -> np.ndarray:
    top, left = (rgb.shape[0] - size) // 2, (rgb.shape[1] - size) // 2
    return rgb[top : top + size, left : left + size]


def degraded_copy(path: Path, out: Path, max_frames: int = 300) -> Path:
    """The clip (its first ``max_frames`` frames) at its own frame rate, scaled to a short side
    of 480 and encoded as H.264 CRF 28: what a platform's lower rung leaves of it."""
    with av.open(str(path)) as source, av.open(str(out), "w", format="mp4") as container:
        stream = source.streams.video[0]
        fps = stream.average_rate or stream.guessed_rate or 25
        frames = (
            _even(resize_short(frame.to_ndarray(format="rgb24"), DEGRADED_SHORT_SIDE))
            for frame, _ in zip(source.decode(stream), range(max_frames), strict=False)
        )
        _encode_h264(container, frames, DEGRADED_CRF, "medium", fps)
    return out


def _even(rgb: np.ndarray) -> np.ndarray:
    """H.264 in 4:2:0 wants even sides."""
    return rgb[: rgb.shape[0] // 2 * 2, : rgb.shape[1] // 2 * 2]


def write_clip(frames: list[np.ndarray], path: Path, fmt: str, fps: int = NORMAL_FPS) -> Path:
    """The frames as an MP4 (H.264), an animated GIF or an animated WebP, with no metadata."""
    if fmt == "mp4":
        with av.open(str(path), "w", format="mp4") as container:
            _encode_h264(container, frames, NORMAL_CRF, "medium", fps)
        return path
    images = [Image.fromarray(f) for f in frames]
    options = {"save_all": True, "append_images": images[1:], "duration": 1000 // fps, "loop": 0}
    if fmt == "gif":
        images[0].save(path, format="GIF", **options)
    elif fmt == "webp":
        images[0].save(path, format="WEBP", quality=80, **options)
    else:
        raise ValueError(f"unknown format {fmt}")
    return path


def _encode_h264(container, frames: Iterable[np.ndarray], crf: int, preset: str, fps) -> None:
    stream = None
    for f in frames:
        if stream is None:  # the first frame gives the size
            stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            stream.width, stream.height = f.shape[1], f.shape[0]
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(crf), "preset": preset}
        container.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
    if stream is not None:
        container.mux(stream.encode())
