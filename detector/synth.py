"""Synthetic clips for the demo, the tests and the benchmarks: moving shapes over a gradient,
encoded with PyAV (GIF and animated WebP through Pillow). No data file is needed anywhere."""

from fractions import Fraction
from functools import cache
from pathlib import Path

import av
import numpy as np
from PIL import Image

# container format and codec by file extension
_FORMATS = {
    ".mp4": ("mp4", "libx264", "yuv420p"),
    ".mov": ("mov", "libx264", "yuv420p"),
    ".mkv": ("matroska", "libx264", "yuv420p"),
    ".webm": ("webm", "libvpx-vp9", "yuv420p"),
    ".avi": ("avi", "mjpeg", "yuvj420p"),
    ".264": ("h264", "libx264", "yuv420p"),
    ".h264": ("h264", "libx264", "yuv420p"),
}


def frame_at(i: int, width: int, height: int, seed: int = 0) -> np.ndarray:
    """Frame ``i`` of the synthetic scene: a drifting gradient, a moving square, mild noise."""
    gradient_x, gradient_y = _gradients(width, height)
    image = np.empty((height, width, 3), np.uint8)
    image[..., 0] = gradient_x + np.uint8(i * 3 % 256)  # uint8 arithmetic wraps, as intended
    image[..., 1] = gradient_y + np.uint8(i * 2 % 256)
    image[..., 2] = (80 + seed * 37) % 256
    side = max(min(width, height) // 5, 2)
    cx = int((width - side) * (0.5 + 0.45 * np.sin(i / 10)))
    cy = int((height - side) * (0.5 + 0.45 * np.cos(i / 13)))
    image[cy : cy + side, cx : cx + side] = (250, 250, 40)
    # Mild noise keeps encoders honest; a few precomputed fields, rolled per frame, are cheap.
    noise = _noise(width, height, seed)[i % 4]
    return np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)


@cache
def _gradients(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    x = (np.arange(width) / max(width - 1, 1) * 200).astype(np.uint8)
    y = (np.arange(height) / max(height - 1, 1) * 200).astype(np.uint8)
    return np.broadcast_to(x, (height, width)), np.broadcast_to(y[:, None], (height, width))


@cache
def _noise(width: int, height: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(-6, 7, size=(4, height, width, 3), dtype=np.int16)


def make_clip(
    path: str | Path,
    *,
    seconds: float = 2.0,
    fps: int = 25,
    size: tuple[int, int] = (160, 120),
    gop: int | None = None,
    crf: int = 23,
    metadata: dict[str, str] | None = None,
    rotation: int | None = None,
    audio: bool = False,
    seed: int = 0,
    pts_ms: list[int] | None = None,
) -> Path:
    """Write a clip whose container and codec follow the extension of ``path``.

    ``metadata`` goes into the container (MP4/MOV keys via ``use_metadata_tags``, so Apple and
    TC260 keys land in ``moov/udta/meta``); ``rotation`` sets a display matrix; ``pts_ms`` gives
    each frame its own timestamp (variable frame rate, or a huge gap for a "ten-hour" file).
    """
    path = Path(path)
    width, height = size
    frames = len(pts_ms) if pts_ms else max(round(seconds * fps), 1)
    time_base = Fraction(1, 1000) if pts_ms else Fraction(1, fps)
    suffix = path.suffix.lower()
    if suffix in (".gif", ".webp"):
        images = [Image.fromarray(frame_at(i, width, height, seed)) for i in range(frames)]
        images[0].save(
            path, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0
        )
        return path
    fmt, codec, pix_fmt = _FORMATS[suffix]
    options = {"movflags": "use_metadata_tags"} if fmt in ("mp4", "mov") and metadata else {}
    with av.open(str(path), "w", format=fmt, options=options) as out:
        out.metadata.update(metadata or {})
        stream = out.add_stream(codec, rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.codec_context.time_base = time_base
        codec_options = {}
        if codec == "libx264":
            codec_options = {"crf": str(crf), "preset": "veryfast"}
            if gop:
                codec_options["x264-params"] = f"keyint={gop}:min-keyint={gop}:scenecut=0"
        elif codec == "libvpx-vp9":
            codec_options = {"crf": "40", "b": "0", "deadline": "realtime", "cpu-used": "8"}
        stream.codec_context.options = codec_options
        if rotation is not None:
            stream.set_display_rotation(rotation)
        sound = out.add_stream("aac", rate=44100) if audio else None
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(frame_at(i, width, height, seed), format="rgb24")
            frame.pts = pts_ms[i] if pts_ms else i
            frame.time_base = time_base
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if sound is not None:
            _write_silence(out, sound, seconds)
    return path


def make_audio_only(path: str | Path, seconds: float = 1.0) -> Path:
    """An M4A/MP4 file with an AAC track and no video."""
    with av.open(str(path), "w", format="mp4") as out:
        sound = out.add_stream("aac", rate=44100)
        _write_silence(out, sound, seconds)
    return Path(path)


def _write_silence(out, stream, seconds: float) -> None:
    samples = int(44100 * seconds)
    for start in range(0, samples, 1024):
        chunk = np.zeros((1, 1024), dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
        frame.sample_rate = 44100
        frame.pts = start
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))
