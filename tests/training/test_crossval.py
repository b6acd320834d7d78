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
    poisson_upper,
)
from training.data import Clip


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
