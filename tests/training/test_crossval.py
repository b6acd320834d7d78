"""Calibration from out-of-fold scores: Platt scaling, thresholds, and the weight the model
earns in fusion."""

import math
from pathlib import Path

import numpy as np
import pytest

from training.crossval import (
    FPR_CONFIDENCE,
    MAX_LIKELIHOOD_RATIO,
    _calibrate,
    _platt,
    log_lr_knots,
    poisson_upper,
)
from training.data import Clip
from training.evaluate import auc


def _clips_and_logits(ai: list[float], real: list[float]):
    clips = [Clip(Path(f"a{i}"), "ai", "gen", "g") for i in range(len(ai))]
    clips += [Clip(Path(f"r{i}"), "real", "real", "r") for i in range(len(real))]
    values = dict(zip([c.path for c in clips], ai + real, strict=True))
    return clips, {"delivered": values, "normalised": values}


def test_platt_scaling_recovers_a_known_slope_and_offset():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 20000)
    y = (rng.random(20000) < 1 / (1 + np.exp(-(0.5 * z - 1)))).astype(float)
    a, b = _platt(z, y)
    assert a == pytest.approx(0.5, abs=0.03) and b == pytest.approx(-1, abs=0.05)


def test_separable_scores_keep_a_finite_calibration_and_the_ceiling_weight():
    clips, logits = _clips_and_logits([5.0 + i for i in range(50)], [-5.0 - i for i in range(50)])
    calibration = _calibrate(clips, logits)
    assert np.isfinite(calibration.temperature) and calibration.temperature > 0
    assert calibration.max_log_lr == pytest.approx(math.log(MAX_LIKELIHOOD_RATIO))


def test_a_model_that_cannot_tell_earns_no_weight():
    rng = np.random.default_rng(1)
    clips, logits = _clips_and_logits(list(rng.normal(size=300)), list(rng.normal(size=300)))
    assert math.exp(_calibrate(clips, logits).max_log_lr) < 3


def test_the_weight_is_tpr_over_fpr_at_the_one_percent_threshold_counted_at_its_upper_bound():
    # 199 real clips: the 1 % threshold lets the highest real score through, one false alarm,
    # counted at its 84 % Poisson upper bound, 3.29 / 199. With 60 of 100 AI clips above every
    # real clip: 36:1, held to the ceiling of 20:1; with 10 of 100: 6.0:1.
    real = [float(i) / 100 for i in range(199)]
    for above, expected in ((60, MAX_LIKELIHOOD_RATIO), (10, 0.10 * 199 / 3.2894)):
        ai = [10.0] * above + [0.0] * (100 - above)
        calibration = _calibrate(*_clips_and_logits(ai, real))
        assert math.exp(calibration.max_log_lr) == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize(("count", "bound"), [(0, 1.8326), (1, 3.2894), (2, 4.6253), (3, 5.9044)])
def test_poisson_upper_bound_at_one_standard_deviation(count, bound):
    assert poisson_upper(count, FPR_CONFIDENCE) == pytest.approx(bound, abs=1e-3)
    # what it means: seeing at most `count` events at that rate has probability 16 %
    cdf = sum(math.exp(-bound) * bound**i / math.factorial(i) for i in range(count + 1))
    assert cdf == pytest.approx(1 - FPR_CONFIDENCE, abs=1e-3)


def test_the_weight_rises_with_the_logit_and_keeps_the_classifiers_ranking():
    """Overlapping scores: every clip below the top gets a weight of its own, so the fused
    likelihoods rank clips as the logits do (issue 20: the capped Platt ratio tied them)."""
    rng = np.random.default_rng(2)
    ai, real = list(rng.normal(1.5, 1, 300)), list(rng.normal(0, 1, 300))
    calibration = _calibrate(*_clips_and_logits(ai, real))
    values = np.array([calibration.log_lr(z) for z in ai + real])
    cap = calibration.max_log_lr
    assert np.all(np.diff([v for _, v in calibration.log_lr_knots]) > 0)
    labels = np.array([1] * 300 + [0] * 300)
    assert auc(labels, values) == pytest.approx(auc(labels, np.array(ai + real)), abs=0.005)
    at_cap = np.isclose(values, cap)  # above almost every real clip: the cap's own 1 % FPR
    assert at_cap[300:].mean() <= 0.02 < at_cap[:300].mean()


def test_the_weight_reaches_the_cap_only_above_every_real_clip():
    real = [float(i) / 100 for i in range(200)]  # 0 .. 1.99
    ai = [float(i) / 50 for i in range(200)]  # 0 .. 3.98: the upper half above every real clip
    knots = log_lr_knots(np.array(ai + real), np.array([1.0] * 200 + [0.0] * 200))
    top_z, top = knots[-1]
    assert top_z > max(real) and top == max(v for _, v in knots)
    below = [v for z, v in knots if z < max(real)]
    assert max(below) < top / 2


def test_each_collection_and_the_commercial_families_get_their_own_rows():
    """The same out-of-fold scores read on the shared clips alone (comparable with earlier
    models), on the staged sources alone, and on the generators a desk meets most."""
    from training.crossval import CrossVal

    rng = np.random.default_rng(1)
    clips = [Clip(Path(f"k{i}"), "ai", "kling", "k", collection="clips") for i in range(20)]
    clips += [Clip(Path(f"l{i}"), "ai", "lumiere", "l", collection="sources") for i in range(20)]
    clips += [
        Clip(Path(f"r{i}"), "real", "real", f"r{i % 4}", collection="clips") for i in range(20)
    ]
    clips += [
        Clip(Path(f"s{i}"), "real", "real", f"s{i % 4}", collection="sources") for i in range(20)
    ]
    # Kling scores above every real clip, Lumiere among them
    z = np.concatenate([rng.normal(5, 0.1, 20), rng.normal(0, 1, 20), rng.normal(0, 1, 40)])
    values = dict(zip([c.path for c in clips], z.tolist(), strict=True))
    logits = {"delivered": values, "normalised": values}
    result = CrossVal(2, clips, logits, [], {}, {})
    result.calibration = _calibrate(clips, logits)
    sections = result.sections()
    shared = sections["cross-validated classifier, clips manifest only, as delivered"]
    staged = sections["cross-validated classifier, sources manifest only, as delivered"]
    commercial = sections[
        "cross-validated classifier, commercial families and every real clip, as delivered"
    ]
    assert (shared["ai"], shared["real"], staged["ai"], staged["real"]) == (20, 20, 20, 20)
    assert shared["auc"] == 1.0 and staged["auc"] < 0.8
    assert commercial["ai"] == 20 and commercial["real"] == 40 and commercial["auc"] == 1.0
