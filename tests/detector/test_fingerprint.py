"""The fingerprint: what it hashes, and what the check reports for each kind of match."""

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from detector import analyze, fusion
from detector.fingerprint import MATCH_BITS, REGIONS, distances, distinct, frame_codes
from detector.memory import DeskVerdict, Recalled
from tests.scenes import scene, write

NOW = datetime(2026, 12, 6, 9, 12, tzinfo=UTC)
ONLY_FINGERPRINT = {
    "disabled_checks": [
        "c2pa",
        "classifier",
        "embedded_labels",
        "invisible_watermark",
        "metadata",
        "visible_watermark",
    ]
}


def test_a_flat_frame_has_no_code_and_a_detailed_one_a_code_per_region():
    assert frame_codes(np.full((90, 160, 3), 12, np.uint8), 0.0) == []
    codes = frame_codes(scene(1, seconds=0.04)[0], 1.5)
    assert [c.region for c in codes] == list(REGIONS)
    assert all(len(c.code) == 32 and c.time_s == 1.5 for c in codes)


def test_frames_that_barely_differ_are_kept_once():
    frame = scene(2, seconds=0.04)[0]
    noisy = [
        frame + np.random.default_rng(i).integers(0, 3, frame.shape, np.uint8) for i in range(3)
    ]
    codes = [c for i, f in enumerate(noisy) for c in frame_codes(f, i / 25)]
    assert len(distinct(codes)) == len(REGIONS)  # three near-identical frames: one each
    other = scene(6, seconds=0.04)[0]
    assert len(distinct(codes + frame_codes(other, 1.0))) == 2 * len(REGIONS)


def test_a_crop_of_a_tenth_a_side_lands_near_the_originals_centre():
    frame = scene(3, seconds=0.04, size=(640, 360))[0]
    crop = np.ascontiguousarray(frame[36:324, 64:576])
    original = {c.region: c.code for c in frame_codes(frame, 0)}
    copy = {c.region: c.code for c in frame_codes(crop, 0)}
    assert distances([copy["full"]], [original["centre80"]])[0, 0] <= MATCH_BITS
    assert distances([copy["full"]], [original["full"]])[0, 0] > MATCH_BITS
    other = {c.region: c.code for c in frame_codes(scene(4, seconds=0.04)[0], 0)}
    assert distances(list(copy.values()), list(other.values())).min() > MATCH_BITS


class FakeMemory:
    def __init__(self, *recalled: Recalled):
        self.recalled, self.asked = list(recalled), []

    def recall(self, codes, sha256):
        self.asked.append((len(codes), sha256))
        return self.recalled


def recalled(**fields) -> Recalled:
    base = dict(
        sha256="a" * 64,
        analysed_at=NOW,
        verdict="likely_fabricated",
        likelihood=0.99,
        names=["sora-original.mp4"],
        distance=6,
        frames_matched=5,
        frames=6,
    )
    return Recalled(**{**base, **fields})


SIGNED = {
    "check": "c2pa",
    "finding": "ai_declared",
    "log_lr": math.log(1000),
    "summary": "A valid C2PA manifest signed by OpenAI declares AI generation.",
}


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write(tmp_path_factory.mktemp("fp") / "scene.mp4", scene(5))


def fingerprint_of(clip, memory=None):
    from detector.settings import Settings

    report = analyze(clip, Settings(**ONLY_FINGERPRINT), memory=memory)
    return report, next(e for e in report.evidence if e.check == "fingerprint")


def test_without_a_memory_the_fingerprint_is_kept_and_nothing_is_looked_up(clip):
    _, found = fingerprint_of(clip)
    assert found.finding == "not_looked_up" and found.log_lr == 0
    codes = found.details["fingerprint"]["codes"]
    assert len(codes) >= len(REGIONS) and all(len(c["hash"]) == 64 for c in codes)


def test_no_match_and_seen_before_weigh_nothing(clip):
    memory = FakeMemory()
    _, found = fingerprint_of(clip, memory)
    assert found.finding == "no_match" and found.log_lr == 0
    assert memory.asked and memory.asked[0][0] > 0
    _, found = fingerprint_of(clip, FakeMemory(recalled()))
    assert found.finding == "seen_before" and found.log_lr == 0
    assert "sora-original.mp4" in found.summary and "5 of 6 frames" in found.summary
    assert found.details["matches"][0]["sha256"] == "a" * 64


def test_recovered_provenance_is_named_and_capped_by_the_matchers_rate(clip):
    report, found = fingerprint_of(clip, FakeMemory(recalled(provenance=[SIGNED])))
    assert found.finding == "recovered_provenance"
    assert found.log_lr == pytest.approx(fusion.RECOVERED_CAP)
    assert math.log(1000) > fusion.RECOVERED_CAP
    assert "recovered" in found.summary and "OpenAI" in found.summary
    assert report.fabrication_likelihood == pytest.approx(100 / 101, abs=1e-3)


def test_recovered_provenance_is_not_counted_again_when_this_copy_kept_it():
    own = fusion.Evidence(
        check="c2pa", status="ok", finding="ai_declared", log_lr=math.log(20), summary="x"
    )
    recovered = fusion.Evidence(
        check="fingerprint",
        status="ok",
        finding="recovered_provenance",
        log_lr=fusion.RECOVERED_CAP,
        summary="y",
        details={"recovered": {"check": "c2pa", "log_lr": fusion.RECOVERED_CAP}},
    )
    alone = fusion.fuse([own]).likelihood
    assert fusion.fuse([own, recovered]).likelihood == pytest.approx(alone)
    lost = own.model_copy(update={"log_lr": 0.0, "finding": "absent"})
    assert fusion.fuse([lost, recovered]).likelihood == pytest.approx(100 / 101, abs=1e-3)


def test_a_desk_verdict_weighs_as_a_strong_human_statement(clip):
    said = DeskVerdict(verdict="authentic", note="filmed by our stringer", by="desk", at=NOW)
    report, found = fingerprint_of(clip, FakeMemory(recalled(desk_verdicts=[said])))
    assert found.finding == "desk_verdict"
    assert found.log_lr == pytest.approx(-fusion.DESK_VERDICT_LOG_LR)
    assert "confirmed authentic" in found.summary and "filmed by our stringer" in found.summary
    assert report.verdict == "no_evidence_of_fabrication"


def test_a_desk_verdict_and_recovered_provenance_are_both_said_and_weighed(clip):
    said = DeskVerdict(verdict="fabricated", note="", by="desk", at=NOW)
    _, found = fingerprint_of(clip, FakeMemory(recalled(desk_verdicts=[said], provenance=[SIGNED])))
    assert found.finding == "desk_verdict"
    assert "OpenAI" in found.summary and "confirmed fabricated" in found.summary
    assert found.log_lr == pytest.approx(fusion.DESK_VERDICT_LOG_LR + fusion.RECOVERED_CAP)


def test_desks_that_disagree_count_for_nothing(clip):
    marks = [
        DeskVerdict(verdict="authentic", at=NOW),
        DeskVerdict(verdict="fabricated", at=NOW.replace(hour=10)),
    ]
    _, found = fingerprint_of(clip, FakeMemory(recalled(desk_verdicts=marks)))
    assert found.finding == "desk_verdict" and found.log_lr == 0
    assert "disagree" in found.summary
