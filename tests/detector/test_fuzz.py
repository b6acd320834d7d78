"""Fuzzing the media path: real containers the test makes (MP4, MOV, MKV, GIF, WebP, raw H.264),
mutated the ways hostile and broken files lie (tests/mutate.py), fed to ``detector.analyze``
under the normal limits. Every outcome must be a Report or a typed MediaError; nothing else may
escape, no analysis may run past its time limit, and memory stays bounded.

CI runs a short derandomised pass, and replays every file in tests/fuzz-corpus: mutants that
once broke the analysis, kept after the fix. The long run is

    VERITY_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest tests/detector/test_fuzz.py -s

It keeps Hypothesis's example database in .hypothesis/ (failures are replayed first on the next
long run) and writes every failing mutant to $TMPDIR/verity-fuzz-failures, Hypothesis having
shrunk it: the smallest goes to tests/fuzz-corpus with its fix.

The frame checks (classifier, OCR, invisible watermark) are off: they read decoded pixels, whose
size the limits already bound, and would make each example a hundred times slower; the checks
that parse the container's bytes (C2PA, labels, metadata) stay on.
"""

import hashlib
import os
import resource
import tempfile
import time
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from detector import MediaError, Settings, analyze
from detector.synth import frame_at, make_clip
from tests import mutate

EXAMPLES = int(os.environ.get("VERITY_FUZZ_EXAMPLES", "120"))
LONG_RUN = "VERITY_FUZZ_EXAMPLES" in os.environ
CORPUS = Path(__file__).parents[1] / "fuzz-corpus"
FAILURES = Path(tempfile.gettempdir()) / "verity-fuzz-failures"
FUZZ_SETTINGS = Settings(
    disabled_checks=["classifier", "visible_watermark", "invisible_watermark"],
    decode_timeout_s=10.0,
)
# slower than this means a limit did not hold (the decode bound is 10 s)
MAX_SECONDS = 30.0
MAX_RSS_GROWTH_MB = 1500
MUTATIONS = {
    ".mp4": mutate.MP4_MUTATIONS,
    ".mov": mutate.MP4_MUTATIONS,
    ".mkv": (mutate.bit_flips,),
    ".gif": (mutate.gif_broken_frames, mutate.bit_flips),
    ".webp": (mutate.webp_broken_frames, mutate.bit_flips),
    ".264": (mutate.h264_garbage_nal_units, mutate.bit_flips),
}


@cache
def seeds() -> dict[str, bytes]:
    """One small real file per container, made once."""
    folder = Path(tempfile.mkdtemp(prefix="verity-fuzz-seeds-"))
    out = {}
    for suffix in (".mp4", ".mov", ".mkv", ".264"):
        path = make_clip(folder / f"seed{suffix}", seconds=1.0, fps=12, size=(96, 64), gop=6)
        out[suffix] = path.read_bytes()
    images = [Image.fromarray(frame_at(i, 96, 64)) for i in range(8)]
    for suffix, fmt in ((".gif", "GIF"), (".webp", "WEBP")):
        path = folder / f"seed{suffix}"
        images[0].save(path, format=fmt, save_all=True, append_images=images[1:], duration=80)
        out[suffix] = path.read_bytes()
    return out


@cache
def _scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="verity-fuzz-"))


@st.composite
def mutants(draw) -> tuple[str, bytes]:
    suffix = draw(st.sampled_from(sorted(MUTATIONS)))
    data = seeds()[suffix]
    for _ in range(draw(st.integers(1, 2))):  # one lie, or two on top of each other
        data = draw(st.sampled_from(MUTATIONS[suffix]))(data, draw)
    return suffix, data


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    derandomize=not LONG_RUN,  # the long run keeps the default database in .hypothesis/
    deadline=None,  # timing is asserted below, against the analysis's own limits
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutants())
def test_a_mutated_container_gives_a_report_or_a_media_error(mutant):
    suffix, data = mutant
    path = _scratch() / f"mutant{suffix}"
    path.write_bytes(data)
    try:
        event(f"{suffix}: {analyse_safely(path)}")  # tallied by --hypothesis-show-statistics
    except BaseException:
        FAILURES.mkdir(exist_ok=True)
        (FAILURES / f"{hashlib.sha256(data).hexdigest()[:16]}-{len(data)}{suffix}").write_bytes(
            data
        )
        raise


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*")), ids=lambda p: p.name)
def test_mutants_that_once_broke_the_analysis_no_longer_do(path):
    analyse_safely(path)


def analyse_safely(path: Path) -> str:
    """A Report or a MediaError, within the time limit, with bounded memory; says which."""
    rss_before_mb, peak_before_mb = _rss_mb(), _peak_rss_mb()
    started = time.monotonic()
    try:
        report = analyze(path, FUZZ_SETTINGS)
        assert report.media.sha256  # a whole Report
        outcome = "report"
    except MediaError as e:
        outcome = type(e).__name__  # a clear, typed refusal: what a bad file should get
    assert time.monotonic() - started < MAX_SECONDS
    # the process's peak may stand high from earlier tests: the analysis must not have raised
    # it beyond what it started from plus the bound
    assert _peak_rss_mb() <= max(peak_before_mb, rss_before_mb + MAX_RSS_GROWTH_MB)
    return outcome


def _rss_mb() -> float:
    """This process's resident memory now."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_the_mutations_change_the_files():
    """Each mutation, drawn a few times, produces bytes unlike its seed (so the fuzz test is not
    analysing the seeds over and over)."""
    from hypothesis import find

    for suffix, mutations in MUTATIONS.items():
        for mutation in mutations:
            found = find(
                st.data(),
                lambda data, m=mutation, s=suffix: m(seeds()[s], data.draw) != seeds()[s],
                settings=settings(max_examples=50, database=None, derandomize=True),
            )
            assert found is not None, (suffix, mutation.__name__)
