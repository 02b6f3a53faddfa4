import json
import math

import numpy as np
import pandas as pd
import pytest

from vipant.analysis.scaling import (
    METRICS,
    extrapolate,
    fit_from_summary,
    fit_log_linear,
    scaling_table,
    summarise,
    trained_pair_counts,
    trained_pairs,
)
from vipant.tables import MetricsFileError, MetricsRecord


def test_fit_recovers_a_known_line_exactly():
    n = 2.0 ** np.arange(2, 8)
    fit = fit_log_linear(n, 10.0 + 3.0 * np.log2(n))
    assert fit.intercept == pytest.approx(10.0) and fit.slope == pytest.approx(3.0)
    assert fit.se_slope == pytest.approx(0.0, abs=1e-9) and fit.r2 == pytest.approx(1.0)
    assert fit.n_points == 6 and fit.dof == 4
    assert fit.predict(21.0) == pytest.approx(73.0)


def test_standard_errors_match_the_textbook_formulas():
    rng = np.random.default_rng(0)
    x = np.arange(1.0, 9.0)
    y = 5.0 + 2.0 * x + rng.normal(0, 1.5, size=x.size)
    fit = fit_log_linear(2.0**x, y)
    b, a = np.polyfit(x, y, 1)
    resid = y - (a + b * x)
    s2 = (resid**2).sum() / (len(x) - 2)
    sxx = ((x - x.mean()) ** 2).sum()
    assert fit.slope == pytest.approx(b) and fit.intercept == pytest.approx(a)
    assert fit.se_slope == pytest.approx(math.sqrt(s2 / sxx))
    assert fit.se_intercept == pytest.approx(math.sqrt(s2 * (1 / len(x) + x.mean() ** 2 / sxx)))
    assert fit.cov == pytest.approx(-x.mean() * s2 / sxx)


def test_extrapolation_finds_the_crossing_and_a_delta_method_interval():
    rng = np.random.default_rng(1)
    x = np.arange(4.0, 12.0)
    y = 20.0 + 3.0 * x + rng.normal(0, 0.5, size=x.size)
    fit = fit_log_linear(2.0**x, y)
    ext = extrapolate(fit, 81.0)
    assert ext.log2_n == pytest.approx((81.0 - fit.intercept) / fit.slope)
    assert ext.log2_n == pytest.approx(61.0 / 3.0, abs=0.5)  # the true line crosses 81 at 20.33
    assert ext.ci_low < ext.log2_n < ext.ci_high and ext.se_log2_n > 0
    assert ext.slope_significant and ext.n == pytest.approx(2.0**ext.log2_n)
    # delta method checked against a direct numerical gradient
    eps = 1e-6
    g_a = ((81 - (fit.intercept + eps)) / fit.slope - ext.log2_n) / eps
    g_b = ((81 - fit.intercept) / (fit.slope + eps) - ext.log2_n) / eps
    var = g_a**2 * fit.se_intercept**2 + g_b**2 * fit.se_slope**2 + 2 * g_a * g_b * fit.cov
    assert ext.se_log2_n == pytest.approx(math.sqrt(var), rel=1e-4)


def test_non_positive_slope_is_not_extrapolated():
    n = [4, 8, 16, 32]
    ext = extrapolate(fit_log_linear(n, [30.0, 29.0, 28.5, 27.0]), 81.0)
    assert ext.log2_n is None and ext.ci_low is None and ext.n is None
    assert "no extrapolation" in ext.note and "not positive" in ext.note
    flat = extrapolate(fit_log_linear(n, [30.0, 30.0, 30.0, 30.0]), 81.0)
    assert flat.log2_n is None


def test_an_insignificant_slope_says_its_interval_means_little():
    ext = extrapolate(fit_log_linear([4, 8, 16, 32], [20.0, 30.0, 18.0, 31.0]), 81.0)
    assert ext.log2_n is not None and not ext.slope_significant
    assert "not meaningful" in ext.note


@pytest.mark.parametrize(
    "n, y, message",
    [
        ([4, 8], [1.0, 2.0], ">= 3 distinct"),
        ([4, 4, 8], [1.0, 2.0, 3.0], ">= 3 distinct"),
        ([0, 4, 8], [1.0, 2.0, 3.0], "positive"),
        ([2, 4, 8], [1.0, float("nan"), 3.0], "finite"),
        ([2, 4, 8], [1.0, 2.0], "equal length"),
    ],
)
def test_bad_fit_inputs_are_refused(n, y, message):
    with pytest.raises(ValueError, match=message):
        fit_log_linear(n, y)


def _records(values: dict[str, tuple[float, float, float, float]]) -> dict:
    out = {}
    for model, (t2a, a2t, esc, us8k) in values.items():
        out[model, "audiocaps_retrieval"] = MetricsRecord(
            path=f"{model}/ac",
            model=model,
            task="audiocaps_retrieval",
            metrics={"t2a_R@1": t2a, "a2t_R@1": a2t},
            chance={"t2a_R@1": 2.0, "a2t_R@1": 2.0},
        )
        out[model, "esc50_zs"] = MetricsRecord(
            path=f"{model}/esc", model=model, task="esc50_zs", metrics={"acc_prompt": esc}, chance={"acc": 2.0}
        )
        out[model, "us8k_zs"] = MetricsRecord(
            path=f"{model}/us8k", model=model, task="us8k_zs", metrics={"acc_prompt": us8k}, chance={"acc": 10.0}
        )
    return out


def test_scaling_table_and_summary_from_metrics_records():
    values = {f"at_GC@{2**k}": (k, 2 * k, 40 + 2 * k, 30 + k) for k in range(2, 6)}
    values["vipant"] = (1.0, 1.0, 35.0, 25.0)
    table = scaling_table(_records(values), {**{m: int(m.split("@")[1]) for m in values if "@" in m}, "vipant": 0})
    assert table["model"].tolist() == ["vipant", "at_GC@4", "at_GC@8", "at_GC@16", "at_GC@32"]
    assert math.isnan(table["log2_N"].iloc[0]) and table["log2_N"].iloc[1:].tolist() == [2, 3, 4, 5]
    assert table["esc50_acc"].tolist() == [35, 44, 46, 48, 50] and (table["us8k_acc_chance"] == 10).all()
    assert {m.column for m in METRICS} <= set(table.columns)
    summary = summarise(table, target=81.0, paper_log2_n=21.0)
    json.dumps(summary, allow_nan=False)  # standard JSON, no NaN
    assert summary["points"] == 4  # the N = 0 reference row is not fitted
    assert summary["fits"]["esc50_acc"]["slope"] == pytest.approx(2.0)
    assert summary["extrapolation"]["log2_n"] == pytest.approx((81 - 40) / 2)
    assert fit_from_summary(summary, "us8k_acc").intercept == pytest.approx(30.0)


def test_scaling_table_names_the_file_lacking_a_metric():
    records = _records({"at_GC@4": (1, 1, 1, 1)})
    del records["at_GC@4", "us8k_zs"]
    with pytest.raises(MetricsFileError, match="us8k_zs"):
        scaling_table(records, {"at_GC@4": 4})
    records = _records({"at_GC@4": (1, 1, 1, 1)})
    records["at_GC@4", "esc50_zs"] = MetricsRecord(path="x/esc.json", model="at_GC@4", task="esc50_zs", metrics={})
    with pytest.raises(MetricsFileError, match="x/esc.json.*acc_prompt"):
        scaling_table(records, {"at_GC@4": 4})
    assert isinstance(scaling_table(_records({"a": (1, 1, 1, 1)}), {"a": 1}), pd.DataFrame)


def test_a_nearly_flat_line_lands_far_away_without_overflow():
    ext = extrapolate(fit_log_linear([2, 4, 8, 16], [10.0, 10.0001, 10.0, 10.0002]), 81.0)
    assert ext.log2_n > 1000 and ext.n == math.inf and "2^" in ext.note
    json.dumps(
        summarise(
            pd.DataFrame(
                {
                    "model": list("abcd"),
                    "N": [2, 4, 8, 16],
                    "log2_N": [1.0, 2, 3, 4],
                    **{m.column: [10.0, 10.0001, 10.0, 10.0002] for m in METRICS},
                    **{f"{m.column}_chance": [1.0] * 4 for m in METRICS},
                }
            ),
            81.0,
            21.0,
        )
    )


def test_a_constant_series_has_exactly_zero_slope_and_no_extrapolation():
    fit = fit_log_linear([2, 4, 8, 11], [10.0, 10.0, 10.0, 10.0])
    assert fit.slope == 0.0 and math.isnan(fit.r2)
    assert extrapolate(fit, 81.0).log2_n is None


def test_a_slope_of_rounding_noise_is_not_extrapolated():
    # the same metric computed for different models can differ in its last bits
    fit = fit_log_linear([2, 4, 8, 11], [16.666666666666664, 16.66666666666666, 16.666666666666664, 16.66666666666667])
    assert extrapolate(fit, 81.0).log2_n is None


def test_n_counts_only_pairs_with_features_and_a_gc_at_n_list_must_hold_n(tmp_path):
    """Defects caught: counting pairs whose clip has no FBANK features (a failed download inflating N), and a
    stale GC@N list (other than N trainable pairs) passing silently."""
    have = {"a", "b", "c"}
    pd.DataFrame({"clip_id": ["a", "b", "gone", "c", "a"], "text_row": range(5)}).to_csv(
        tmp_path / "GC.csv", index=False
    )
    pd.DataFrame({"clip_id": ["a", "b"], "text_row": [0, 1]}).to_csv(tmp_path / "GC@2.csv", index=False)
    pd.DataFrame({"clip_id": ["a", "gone"], "text_row": [0, 1]}).to_csv(tmp_path / "stale.csv", index=False)
    assert trained_pairs(str(tmp_path / "GC.csv"), have) == 4
    counts = trained_pair_counts({"at_GC": str(tmp_path / "GC.csv"), "at_GC@2": str(tmp_path / "GC@2.csv")}, have)
    assert counts == {"at_GC": 4, "at_GC@2": 2}
    with pytest.raises(ValueError, match="stale.csv: at_GC@2 should hold 2 pairs with features, holds 1"):
        trained_pair_counts({"at_GC@2": str(tmp_path / "stale.csv")}, have)
    pd.DataFrame({"text_row": [0]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match="bad.csv: not a pair list"):
        trained_pairs(str(tmp_path / "bad.csv"), have)
