"""Decode the frames a FramePlan names, each at most once, within the configured bounds."""

import time
from collections.abc import Iterator

import av
import numpy as np
from PIL import Image, ImageSequence

from .errors import CorruptMedia, DecodeTimeout, MediaUnreadable
from .frames import Frame, FramePlan, Frames, Progress, Role, Run
from .probe import RAW_STREAM_FORMATS, Probe
from .settings import Settings


def decode_plan(
    probe: Probe, plan: FramePlan, settings: Settings, progress: Progress | None = None
) -> Frames:
    """Decode the planned frames; stop early (and say why) at the frame or time limit."""
    frames = Frames()
    pending = list(plan.runs)
    active: list[tuple[Run, list[Frame]]] = []
    wanted = plan.planned_frames or 1
    taken = 0
    half_frame = 0.5 / (probe.info.fps or 25.0)
    started = time.monotonic()
    source = _Source(probe, settings.threads)
    sought: Run | None = None
    last: Frame | None = None
    try:
        stream = source.frames(None)
        while pending or active:
            ahead = pending[0].start_s > source.last_time_s + half_frame if pending else False
            if not active and plan.seek and ahead and sought is not pending[0]:
                sought = pending[0]  # seek once per run; if it lands early, decode forward
                stream = source.frames(sought.start_s + half_frame)
            try:
                decoded = next(stream)
            except StopIteration:
                break
            if last is not None and decoded.time_s <= last.time_s:
                frames.repeats += 1
            last = decoded
            frames.decoded += 1
            frames.rotation = decoded.rotation
            while pending and pending[0].start_s <= decoded.time_s + half_frame:
                active.append((pending.pop(0), []))
            if active:
                for _, taken_frames in active:
                    taken_frames.append(decoded)
                taken += len(active)
                active = _finish(active, frames)
                if progress:
                    progress("decode", min(taken / wanted, 1.0))
            if frames.decoded >= settings.max_frames_decoded:
                frames.stopped_early = "frame_limit"
                break
            if time.monotonic() - started > settings.decode_timeout_s:
                frames.stopped_early = "timeout"
                break
    except av.FFmpegError as e:
        frames.stopped_early = f"damaged: {e}"
    except OSError as e:
        if not frames.decoded:
            raise MediaUnreadable(f"read failed while decoding: {e}") from e
        frames.stopped_early = f"read failed: {e}"
    finally:
        source.close()
    for run, taken_frames in active:  # runs cut short by the end of the file keep what they got
        _store(run, taken_frames, frames)
    if pending and last is not None and frames.stopped_early is None:
        _close_at_end(pending, last, frames, probe.info.fps or 25.0)
    if not frames.decoded:
        raise CorruptMedia("the video stream decodes to no frames")
    if frames.stopped_early == "timeout" and not (frames.stills or frames.windows):
        raise DecodeTimeout(f"decoding took over {settings.decode_timeout_s} s")
    return frames


# A container's stated duration often runs a frame or two past its last frame (start offsets,
# rounding). Stills planned that close to the end take the last frame instead of reporting a gap.
END_SLACK_FRAMES = 3


def _close_at_end(pending: list[Run], last: Frame, frames: Frames, fps: float) -> None:
    if pending[0].start_s > last.time_s + END_SLACK_FRAMES / fps:
        frames.stopped_early = "end_of_stream"
        return
    for run in pending:
        if run.role is Role.STILL and run.start_s <= last.time_s + END_SLACK_FRAMES / fps:
            _store(run, [last], frames)


def _finish(active: list[tuple[Run, list[Frame]]], frames: Frames) -> list[tuple[Run, list[Frame]]]:
    still_open = []
    for run, taken_frames in active:
        if len(taken_frames) >= run.length:
            _store(run, taken_frames, frames)
        else:
            still_open.append((run, taken_frames))
    return still_open


def _store(run: Run, taken_frames: list[Frame], frames: Frames) -> None:
    if not taken_frames:
        return
    if run.role is Role.STILL:
        # On variable frame rate, two planned times can fall on one frame: keep it once.
        if not frames.stills or frames.stills[-1] is not taken_frames[0]:
            frames.stills.append(taken_frames[0])
    else:
        frames.windows.append(taken_frames)


class _Source:
    """Frames of one file in presentation order, from PyAV or (animated WebP) Pillow."""

    def __init__(self, probe: Probe, threads: int = 0):
        self.probe = probe
        self.last_time_s = float("-inf")
        self._container = None
        self._image = None
        try:
            if probe.backend == "pillow":
                self._image = Image.open(probe.path)
            else:
                self._container = av.open(str(probe.path), metadata_errors="ignore")
                stream = self._container.streams.video[0]
                stream.thread_type = "AUTO"
                stream.codec_context.thread_count = threads  # 0: FFmpeg picks
        except (av.FFmpegError, OSError) as e:
            raise MediaUnreadable(f"cannot be reopened: {e}") from e

    def frames(self, seek_to_s: float | None) -> Iterator[Frame]:
        if self._image is not None:
            return self._pillow_frames()
        return self._av_frames(seek_to_s)

    def _av_frames(self, seek_to_s: float | None) -> Iterator[Frame]:
        container = self._container
        stream = container.streams.video[0]
        start = stream.start_time or 0
        if seek_to_s is not None and stream.time_base:
            offset = start + round(seek_to_s / stream.time_base)
            container.seek(offset, backward=True, any_frame=False, stream=stream)
        raw = container.format.name in RAW_STREAM_FORMATS
        fps = self.probe.info.fps or 25.0
        for index, frame in enumerate(container.decode(stream)):
            if raw or frame.pts is None or frame.time_base is None:
                t = index / fps
            else:
                t = float((frame.pts - start) * frame.time_base)
            self.last_time_s = t
            yield Frame(t, frame.key_frame, _av_array(frame), frame.rotation)

    def _pillow_frames(self) -> Iterator[Frame]:
        t_ms = 0
        for image in ImageSequence.Iterator(self._image):
            to_array = _pil_array(image)  # loading the frame also reads its duration
            t = t_ms / 1000
            t_ms += image.info.get("duration") or 40
            self.last_time_s = t
            yield Frame(t, True, to_array)

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
        if self._image is not None:
            self._image.close()


def _av_array(frame: av.VideoFrame):
    return lambda: frame.to_ndarray(format="rgb24")


def _pil_array(image: Image.Image):
    rgb = image.convert("RGB")  # Pillow reuses the frame buffer: convert before moving on
    return lambda: np.asarray(rgb)


def decode_stills(probe: Probe, times_s: list[float]) -> list[Frame]:
    """Single frames near the given times, for pictures in reports (keyframes decode cheaply)."""
    source = _Source(probe)
    out: list[Frame] = []
    try:
        stream = source.frames(None)
        for t in sorted(times_s):
            if probe.seekable:
                stream = source.frames(t)
            for decoded in stream:
                if decoded.time_s + 0.5 / (probe.info.fps or 25.0) >= t:
                    out.append(decoded)
                    break
    except (av.FFmpegError, OSError):
        pass  # pictures are a courtesy: a damaged file yields fewer of them
    finally:
        source.close()
    return out
