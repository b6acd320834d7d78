"""Frames the tests draw, written as an H.264 MP4 with PyAV."""

from fractions import Fraction

import av


def write_h264(
    path, frames, *, fps: int, crf: int, preset: str = "veryfast", tune=None, metadata=None
):
    """Encode RGB ``frames`` (an iterable of height x width x 3 uint8 arrays) to ``path``;
    ``metadata`` goes into the container as make_clip puts it (MP4 keys, use_metadata_tags)."""
    options = {"movflags": "use_metadata_tags"} if metadata else {}
    with av.open(str(path), "w", options=options) as out:
        out.metadata.update(metadata or {})
        stream = None
        for i, rgb in enumerate(frames):
            if stream is None:
                stream = out.add_stream("libx264", rate=fps)
                stream.width, stream.height, stream.pix_fmt = rgb.shape[1], rgb.shape[0], "yuv420p"
                stream.codec_context.options = {
                    "crf": str(crf),
                    "preset": preset,
                    **({"tune": tune} if tune else {}),
                }
            frame = av.VideoFrame.from_ndarray(rgb, "rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path
