"""The evaluation metrics against examples worked out by hand."""

import math
from pathlib import Path

import numpy as np
import pytest

from training.data import Clip
from training.evaluate import (
    Scored,
    auc,
    average_precision,
    expected_calibration_error,
    metrics,
    threshold_at_fpr,
    write_report,
)


def test_auc_counts_ordered_pairs_and_half_ties():
    labels = np.array([1, 1, 0, 0])
    # pairs (pos, neg): (0.9,0.3) (0.9,0.5) (0.5,0.3) win, (0.5,0.5) tie -> 3.5 of 4
    assert auc(labels, np.array([0.9, 0.5, 0.3, 0.5])) == pytest.approx(3.5 / 4)


def test_average_precision_by_hand():
    # ranked: 0.9 (ai) 0.8 (real) 0.7 (ai): precision at the hits 1/1 and 2/3 -> (1 + 2/3) / 2
    labels, scores = np.array([1, 0, 1]), np.array([0.9, 0.8, 0.7])
    assert average_precision(labels, scores) == pytest.approx((1 + 2 / 3) / 2)


def test_average_precision_of_a_constant_scorer_is_the_share_of_ai_clips():
    labels = np.array([1, 0, 1, 0, 0])
    assert average_precision(labels, np.full(5, 0.5)) == pytest.approx(0.4)


def test_the_threshold_lets_through_at_most_the_allowed_share_of_real_clips():
    labels = np.array([0] * 20 + [1])
    scores = np.array([i / 20 for i in range(20)] + [0.99])
    cut = threshold_at_fpr(labels, scores, 0.05)  # one of twenty real clips may pass
    assert (scores[labels == 0] >= cut).sum() == 1
    assert threshold_at_fpr(labels, scores, 0.0) > 0.95  # none may pass


def test_expected_calibration_error_by_hand():
    # two bins used: [0.1, 0.2) holds 0.1 and 0.1 (no AI): |0.1 - 0| ; [0.9, 1] holds 0.9 and 0.9
    # (one AI of two): |0.9 - 0.5|. Each bin has half the clips: 0.5 * 0.1 + 0.5 * 0.4 = 0.25
    error, table = expected_calibration_error(
        np.array([0, 0, 1, 0]), np.array([0.1, 0.1, 0.9, 0.9])
    )
    assert error == pytest.approx(0.25)
    assert sum(row["n"] for row in table) == 4


def _clip(name, label, generator):
    return Clip(Path(name), label, generator, name)


def test_metrics_tabulate_recall_per_generator_attribution_and_the_worst_files(tmp_path):
    scored = [
        Scored(_clip("k1", "ai", "kling"), 0.9, "kling"),
        Scored(_clip("k2", "ai", "kling"), 0.2, "sora"),
        Scored(_clip("s1", "ai", "sora"), 0.8, "sora"),
        Scored(_clip("r1", "real", "real"), 0.1),
        Scored(_clip("r2", "real", "real"), 0.7),
        Scored(_clip("bad", "real", "real"), None, error="cannot be read"),
    ]
    result = metrics(scored, {"0.05": 0.75, "0.01": 0.95})
    assert result["scored"] == 5 and result["unreadable"] == 1
    assert result["auc"] == pytest.approx(5 / 6)  # of 6 (ai, real) pairs only (0.2, 0.7) is wrong
    assert result["per_generator"]["kling"]["recall_at_5pct_fpr"] == 0.5
    assert result["per_generator"]["sora"]["recall_at_5pct_fpr"] == 1.0
    assert result["tpr_at_0.01_fpr"] == 0.0
    assert result["attribution"] == {"named": 3, "correct": 2}
    assert result["most_wrong"][0]["path"] == "k2"
    report = write_report({"as delivered": result}, tmp_path / "eval")
    text = report.read_text()
    assert "| AUC | 0.833 |" in text
    assert (tmp_path / "eval" / "reliability-as-delivered.png").exists()
    assert not math.isnan(result["ece"])


def test_scores_are_split_by_resolution_band_so_that_a_size_shortcut_shows(tmp_path):
    scored = [
        Scored(Clip(Path("a256"), "ai", "gen", "g", short_side=256), 0.9),
        Scored(Clip(Path("b256"), "ai", "gen", "g", short_side=256), 0.5),
        Scored(Clip(Path("a1080"), "ai", "gen", "g", short_side=1080), 0.2),
        Scored(Clip(Path("r240"), "real", "real", "r", short_side=240), 0.8),
        Scored(Clip(Path("r720"), "real", "real", "r", short_side=720), 0.1),
        Scored(Clip(Path("unlisted"), "real", "real", "r"), 0.9),
    ]
    bands = metrics(scored, {"0.05": 0.75, "0.01": 0.95})["per_resolution"]
    assert bands["0-300"] == {
        "ai": 2, "recall_at_5pct_fpr": 0.5, "real": 1, "false_alarms_at_5pct_fpr": 1.0
    }  # fmt: skip
    assert bands["500-800"]["real"] == 1 and bands["500-800"]["ai"] == 0
    assert bands["800-"]["recall_at_5pct_fpr"] == 0.0
    assert sum(b["ai"] + b["real"] for b in bands.values()) == 5  # the unlisted clip is left out
    report = write_report({"cv": metrics(scored)}, tmp_path / "eval").read_text()
    assert "| 0-300 | 2 |" in report
