"""Frames the tests draw, written as an H.264 MP4 with PyAV."""

from fractions import Fraction

import av
import numpy as np


def write_h264(
    path,
    frames,
    *,
    fps: int,
    crf: int,
    preset: str = "veryfast",
    tune=None,
    metadata=None,
    sound=None,
    rate: int = 16_000,
):
    """Encode RGB ``frames`` (an iterable of height x width x 3 uint8 arrays) to ``path``;
    ``metadata`` goes into the container as make_clip puts it (MP4 keys, use_metadata_tags);
    ``sound``, mono float samples in [-1, 1] at ``rate``, as an AAC track."""
    options = {"movflags": "use_metadata_tags"} if metadata else {}
    with av.open(str(path), "w", options=options) as out:
        out.metadata.update(metadata or {})
        stream = audio = None
        for i, rgb in enumerate(frames):
            if stream is None:
                stream = out.add_stream("libx264", rate=fps)
                stream.width, stream.height, stream.pix_fmt = rgb.shape[1], rgb.shape[0], "yuv420p"
                stream.codec_context.options = {
                    "crf": str(crf),
                    "preset": preset,
                    **({"tune": tune} if tune else {}),
                }
                if sound is not None:  # every stream is added before the first packet
                    audio = out.add_stream("aac", rate=rate, layout="mono")
            frame = av.VideoFrame.from_ndarray(rgb, "rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if sound is not None:
            _write_sound(out, audio, np.asarray(sound, np.float32), rate)
    return path


def _write_sound(out, stream, sound, rate: int) -> None:
    for start in range(0, len(sound), 1024):
        chunk = sound[start : start + 1024]
        frame = av.AudioFrame.from_ndarray(chunk[None], format="fltp", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))
