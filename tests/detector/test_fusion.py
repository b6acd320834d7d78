import math

import pytest

from detector.fusion import CAPS, LIKELY_FABRICATED_AT, NO_EVIDENCE_BELOW, capped, fuse
from detector.report import Evidence, Segment, Verdict


def ev(check: str, log_lr: float, status: str = "ok", **fields) -> Evidence:
    return Evidence(check=check, status=status, finding="x", summary="x", log_lr=log_lr, **fields)


def test_no_evidence_is_fifty_fifty_and_inconclusive():
    fused = fuse([ev("metadata", 0.0), ev("embedded_labels", 0.0)])
    assert fused.likelihood == 0.5
    assert fused.verdict is Verdict.INCONCLUSIVE


def test_each_check_is_capped():
    assert capped(ev("metadata", 10.0)) == pytest.approx(CAPS["metadata"])
    assert capped(ev("metadata", -10.0)) == pytest.approx(-CAPS["metadata"])


def test_packaging_alone_cannot_leave_inconclusive():
    # USERS.md: a real video must never be called fabricated because of how it was packaged.
    fused = fuse([ev("metadata", 50.0)])
    assert NO_EVIDENCE_BELOW <= fused.likelihood < LIKELY_FABRICATED_AT
    fused = fuse([ev("metadata", -50.0)])
    assert fused.verdict is Verdict.INCONCLUSIVE


def test_declared_ai_label_is_enough_for_likely_fabricated():
    fused = fuse([ev("embedded_labels", math.log(30)), ev("metadata", 0.0)])
    assert fused.likelihood == pytest.approx(30 / 31)
    assert fused.verdict is Verdict.LIKELY_FABRICATED


def test_strong_evidence_against_reaches_no_evidence_band():
    fused = fuse([ev("c2pa", -math.log(100))])
    assert fused.verdict is Verdict.NO_EVIDENCE_OF_FABRICATION


def test_errored_checks_count_for_nothing():
    assert fuse([ev("embedded_labels", 5.0, status="error")]).likelihood == 0.5


def test_unknown_check_gets_the_default_weak_cap():
    assert fuse([ev("brand_new_check", 100.0)]).verdict is Verdict.INCONCLUSIVE


def test_attribution_takes_each_generators_best_score_from_positive_evidence():
    fused = fuse(
        [
            ev("metadata", 0.3, generators={"sora": 0.3, "kling": 0.2}),
            ev("embedded_labels", 3.0, generators={"sora": 0.9}),
            ev("x", -1.0, generators={"veo": 0.99}),
        ]
    )
    assert [(g.name, g.probability) for g in fused.generators] == [("sora", 0.9), ("kling", 0.2)]


def test_timeline_is_the_sorted_segments_of_every_check():
    fused = fuse(
        [
            ev(
                "classifier",
                1.0,
                segments=[
                    Segment(start_s=2, end_s=3, score=0.9),
                    Segment(start_s=0, end_s=1, score=0.1),
                ],
            )
        ]
    )
    assert [s.start_s for s in fused.timeline] == [0, 2]


def test_the_learned_models_together_count_no_more_than_one_may_alone():
    both = fuse([ev("classifier", 10.0), ev("faces", 10.0)])
    one = fuse([ev("classifier", 10.0)])
    assert both.likelihood == pytest.approx(one.likelihood)
    assert one.likelihood == pytest.approx(1 / (1 + math.exp(-CAPS["classifier"])))
    # declared provenance still adds to them; and they may cancel each other
    assert fuse([ev("classifier", 10.0), ev("faces", 10.0), ev("c2pa", 1.0)]).likelihood > (
        both.likelihood
    )
    assert fuse([ev("classifier", 2.0), ev("faces", -2.0)]).likelihood == pytest.approx(0.5)
