"""detector.analyze end to end, on clips the tests make."""

import pytest

from detector import CorruptMedia, Settings, analyze
from detector.phrase import phrase
from detector.registry import _CHECKS, Check, Needs, check_names, register_check


def test_report_states_file_versions_and_time(clip):
    report = analyze(clip("c.mp4", seconds=2))
    assert len(report.media.sha256) == 64
    assert report.schema_version and report.verity_version
    assert report.analysed_at.tzinfo is not None
    assert report.verdict == "inconclusive"
    assert {"probe", "decode", "metadata", "embedded_labels"} <= set(report.timings_ms)


def test_sampling_states_the_span_analysed(clip):
    report = analyze(clip("c.mp4", seconds=3, fps=10))
    assert report.sampling.span_start_s == 0
    assert report.sampling.span_end_s == pytest.approx(2.9)
    assert len(report.sampling.key_frames_s) >= Settings().key_frames


def test_rotation_is_reported_with_display_size(clip):
    report = analyze(clip("phone.mp4", size=(64, 48), rotation=-90))
    assert (report.media.width, report.media.height, report.media.rotation) == (48, 64, 270)


def test_disabled_check_is_listed_as_a_limitation(clip):
    report = analyze(clip("c.mp4"), Settings(disabled_checks=["metadata"]))
    assert [e.check for e in report.evidence] == [n for n in check_names() if n != "metadata"]
    assert any(lim.code == "check_disabled" for lim in report.limitations)


def test_a_failing_check_becomes_an_error_evidence_not_a_crash(clip):
    @register_check("always_fails")
    class AlwaysFails(Check):
        needs = Needs()

        def run(self, media):
            raise ZeroDivisionError("boom")

    path = clip("c.mp4")
    try:
        report = analyze(path)
    finally:
        del _CHECKS["always_fails"]
    failed = next(e for e in report.evidence if e.check == "always_fails")
    assert failed.status == "error" and "boom" in failed.summary
    assert report.fabrication_likelihood == analyze(path).fabrication_likelihood  # counts nothing
    assert any(lim.code == "check_failed" for lim in report.limitations)


def test_raw_stream_report_says_the_frame_rate_is_assumed(clip):
    report = analyze(clip("c.264", seconds=1))
    assert any(lim.code == "frame_rate_assumed" for lim in report.limitations)


def test_stream_that_decodes_to_nothing_is_corrupt(clip):
    path = clip("zeroed.mp4", seconds=1)
    data = bytearray(path.read_bytes())
    start = data.index(b"mdat") + 4
    end = data.index(b"moov") - 4
    data[start:end] = bytes(end - start)  # the frames are gone, the index still describes them
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptMedia, match="decodes to no frames"):
        analyze(path)


def test_file_truncated_during_analysis_gives_a_partial_report(clip):
    path = clip("shrinking.mkv", seconds=6, fps=25, size=(320, 240), crf=10)

    def cut_the_file(stage: str, fraction: float) -> None:
        if path.stat().st_size > 4096:
            with open(path, "r+b") as f:
                f.truncate(4096)

    report = analyze(path, progress=cut_the_file)
    assert any(lim.code == "partial_decode" for lim in report.limitations)
    assert report.sampling.span_end_s < 5.0


def test_decoding_is_bounded_in_time(clip):
    report = analyze(clip("c.mp4", seconds=2), Settings(decode_timeout_s=1e-9))
    partial = [lim for lim in report.limitations if lim.code == "partial_decode"]
    assert partial and "longer than" in partial[0].message


def test_a_single_frame_clip_is_analysed_and_the_report_says_what_could_not_run(clip):
    report = analyze(clip("poster.mp4", size=(320, 240), seconds=1, fps=1))
    assert report.sampling.frames_decoded == 1
    classifier = next(e for e in report.evidence if e.check == "classifier")
    assert (classifier.status, classifier.finding) == ("not_applicable", "single_frame")
    assert any("single frame" in lim.message for lim in report.limitations)
    assert report.verdict == "inconclusive"


def test_an_analysis_holds_opencv_and_blas_to_its_threads(clip):
    """Settings.threads bounds every library's thread pool while the checks run (two scan
    workers on two cores must not each start a pool per core), and leaves them as they were."""
    import cv2
    from threadpoolctl import threadpool_info

    seen = {}

    def blas_threads() -> set[int]:
        return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    @register_check("counts_threads")
    class CountsThreads(Check):
        needs = Needs()

        def run(self, media):
            seen.update(opencv=cv2.getNumThreads(), blas=blas_threads())
            return self.evidence("no_signal", phrase("counted"))

    opencv_before, blas_before = cv2.getNumThreads(), blas_threads()
    try:
        report = analyze(clip("c.mp4"), Settings(threads=1, disabled_checks=["classifier"]))
    finally:
        del _CHECKS["counts_threads"]
    assert {e.check: e.status for e in report.evidence}["counts_threads"] == "ok"
    assert seen == {"opencv": 1, "blas": {1}}
    assert (cv2.getNumThreads(), blas_threads()) == (opencv_before, blas_before)


def test_processes_side_by_side_share_the_cores_unless_told_otherwise(monkeypatch):
    monkeypatch.setattr("detector.settings.usable_cores", lambda: list(range(8)))
    assert Settings().shared_by(1).threads == 0  # alone: every library uses every core
    assert Settings().shared_by(2).threads == 4
    assert Settings().shared_by(16).threads == 1
    assert Settings(threads=3).shared_by(2).threads == 3  # set by hand: kept
