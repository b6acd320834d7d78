"""``analyze``: probe, plan, decode once, run every check, fuse, report."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import cv2
from threadpoolctl import threadpool_limits

from .decode import decode_plan
from .errors import MediaError
from .frames import Frame, Frames, FrameSpec, Progress, plan_frames
from .fusion import fuse
from .memory import Memory
from .phrase import Phrase, phrase
from .probe import Probe, probe
from .registry import Check, Media, check_names, create_checks
from .report import Evidence, Limitation, MediaInfo, Report, Sampling, Window
from .settings import Settings, get_settings


def analyze(
    path: str | Path,
    settings: Settings | None = None,
    progress: Progress | None = None,
    sha256: str | None = None,
    memory: Memory | None = None,
) -> Report:
    """Analyse one video file and return its Report; raise a MediaError if it cannot be read.

    ``sha256``: the file's hash when the caller has just computed it (batch scans), so the file
    is not read a second time for it. ``memory``: earlier analyses, which the ``fingerprint``
    check looks this video up in (``detector.memory``)."""
    return analyze_keeping_stills(path, settings, progress, sha256, memory)[0]


def analyze_keeping_stills(
    path: str | Path,
    settings: Settings | None = None,
    progress: Progress | None = None,
    sha256: str | None = None,
    memory: Memory | None = None,
) -> tuple[Report, list[Frame]]:
    """``analyze``, and the key frames it decoded (the Report's ``sampling.key_frames_s``), for
    pictures beside the Report without decoding the file again."""
    settings = settings or get_settings()
    with _threads_limited(settings.threads):
        return _analyze(Path(path), settings, progress, sha256, memory)


def _analyze(
    path: Path,
    settings: Settings,
    progress: Progress | None,
    sha256: str | None,
    memory: Memory | None,
) -> tuple[Report, list[Frame]]:
    timings: dict[str, float] = {}
    with _timed(timings, "probe"):
        probed = probe(path, settings, with_hash=sha256 is None)
        if sha256 is not None:
            probed.info = probed.info.model_copy(update={"sha256": sha256})
    checks = create_checks(settings)
    with _timed(timings, "decode"):
        plan = plan_frames(probed, frame_spec(checks, settings), settings.max_frames_decoded)
        frames = decode_plan(probed, plan, settings, progress)
    media = Media(probed.path, _displayed(probed.info, frames), frames, memory)

    evidence = []
    for i, check in enumerate(checks):
        with _timed(timings, check.name):
            evidence.append(_run(check, media))
        if progress:
            progress("checks", (i + 1) / len(checks))
    fused = fuse(evidence)
    report = Report(
        analysed_at=datetime.now(UTC),
        media=media.info,
        fabrication_likelihood=round(fused.likelihood, 4),
        verdict=fused.verdict,
        evidence=evidence,
        generators=fused.generators,
        timeline=fused.timeline,
        sampling=_sampling(frames),
        limitations=_limitations(probed, frames, evidence, settings),
        timings_ms=timings,
        model=next((c.model_info for c in checks if getattr(c, "model_info", None)), None),
    )
    return report, frames.stills


@contextmanager
def _threads_limited(threads: int) -> Iterator[None]:
    """OpenCV's and the BLAS libraries' thread pools held to ``threads`` (0: as they are) while
    an analysis runs, as decoding, OCR and the model are: left alone, each starts a thread per
    core in every process, whatever the settings say."""
    if not threads:
        yield
        return
    before = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        cv2.setNumThreads(before)


def frame_spec(checks: list[Check], settings: Settings) -> FrameSpec:
    """The frames an analysis decodes: the key frames of every Report, and what each check asks."""
    spec = FrameSpec(stills=settings.key_frames)
    for check in checks:
        if check.needs.frames:
            spec = spec.merge(check.needs.frames)
    return spec


def _run(check: Check, media: Media) -> Evidence:
    """A check that fails reports an error; it never takes the analysis down."""
    try:
        return check.run(media)
    except MediaError:
        raise
    except Exception as e:  # any bug in one check must not sink the report
        return Evidence.said(
            check.name,
            "check_failed",
            phrase(
                "The {check} check failed ({error}); it counts for nothing.",
                check=check.name,
                error=f"{type(e).__name__}: {e}",
            ),
            status="error",
        )


def _displayed(info: MediaInfo, frames: Frames) -> MediaInfo:
    """Frame size as shown: a stream stored sideways with a rotation flag swaps width and height."""
    if frames.rotation % 180 == 0:
        return info.model_copy(update={"rotation": frames.rotation % 360})
    return info.model_copy(
        update={"rotation": frames.rotation % 360, "width": info.height, "height": info.width}
    )


def _sampling(frames: Frames) -> Sampling:
    start, end = frames.span
    return Sampling(
        span_start_s=round(start, 3),
        span_end_s=round(end, 3),
        frames_decoded=frames.decoded,
        key_frames_s=[round(f.time_s, 3) for f in frames.stills],
        windows=[
            Window(start_s=round(w[0].time_s, 3), end_s=round(w[-1].time_s, 3), frames=len(w))
            for w in frames.windows
        ],
    )


def _limitations(
    probed: Probe, frames: Frames, evidence: list[Evidence], settings: Settings
) -> list[Limitation]:
    out = []
    for name in check_names():
        if name in settings.disabled_checks:
            said = phrase("The {check} check is switched off.", check=name)
            out.append(Limitation.said("check_disabled", said))
    for e in evidence:
        if e.status == "error":
            out.append(_limitation("check_failed", e.summary, e.summary_phrase))
        phrases = e.limitation_phrases or [None] * len(e.limitations)
        out += [
            _limitation(f"{e.check}_limit", text, said)
            for text, said in zip(e.limitations, phrases, strict=True)
        ]
    info = probed.info
    if frames.stopped_early:
        reason = {
            "frame_limit": phrase(
                "the limit of {frames} decoded frames was reached",
                frames=settings.max_frames_decoded,
            ),
            "timeout": phrase(
                "decoding took longer than {seconds:g} s", seconds=settings.decode_timeout_s
            ),
            "end_of_stream": phrase("the stream ended before its stated duration"),
        }.get(frames.stopped_early, frames.stopped_early)
        start, end = frames.span
        said = phrase(
            "Frames were checked from {start:.1f} s to {end:.1f} s only: {reason}.",
            start=start,
            end=end,
            reason=reason,
        )
        out.append(Limitation.said("partial_decode", said))
    if info.fps_assumed:
        said = phrase(
            "The file stores no frame rate (a raw stream); times assume {fps:g} fps.",
            fps=info.fps or 25,
        )
        out.append(Limitation.said("frame_rate_assumed", said))
    if info.duration_s is None:
        out.append(Limitation.said("duration_unknown", phrase("The file states no duration.")))
    return out


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = round((time.perf_counter() - started) * 1000, 2)


def _limitation(code: str, text: str, said: Phrase | None) -> Limitation:
    return Limitation.said(code, said) if said else Limitation(code=code, message=text)
