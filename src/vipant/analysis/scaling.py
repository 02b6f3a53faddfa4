"""Few-shot scaling (vip-AnT §4.2, figure 7): performance against the number N of gold audio–caption pairs.

The paper observes that zero-shot accuracy grows roughly linearly in log2 N and extrapolates that line to
ESC-50 human parity (81 %), landing near N = 2^21. Here the same line ``y = a + b·log2 N`` is fitted by
ordinary least squares, with standard errors from the residual variance, and the crossing point
``log2 N* = (target − a) / b`` is given with a delta-method interval. Two honest limits are built in:

* a slope that is not positive has no crossing ahead of it, so no N* is reported (and the reason is);
* a slope whose interval includes zero makes the ratio's interval meaningless; the result says so.

Everything here works on plain numbers, pair lists and ``metrics.json`` records, so it is tested on data
with a known line and never touches models.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from vipant.tables import MetricsFileError, MetricsRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScalingMetric:
    """One curve of figure 7: ``task``'s ``metric`` (and its chance level) against log2 N."""

    column: str  # column name in scaling.csv
    label: str  # legend / axis text
    task: str  # evaluation task of the metrics.json
    metric: str  # key in its "metrics"
    chance_key: str  # key in its "chance"


# Figure 7(a): AudioCaps retrieval R@1; figure 7(b): ESC-50 and US8K zero-shot accuracy ("the sound of").
METRICS: tuple[ScalingMetric, ...] = (
    ScalingMetric("audiocaps_t2a_R@1", "AudioCaps T→A R@1", "audiocaps_retrieval", "t2a_R@1", "t2a_R@1"),
    ScalingMetric("audiocaps_a2t_R@1", "AudioCaps A→T R@1", "audiocaps_retrieval", "a2t_R@1", "a2t_R@1"),
    ScalingMetric("esc50_acc", "ESC-50 zero-shot accuracy", "esc50_zs", "acc_prompt", "acc"),
    ScalingMetric("us8k_acc", "US8K zero-shot accuracy", "us8k_zs", "acc_prompt", "acc"),
)
EXTRAPOLATED = "esc50_acc"  # the column whose line is extended to human parity


@dataclass(frozen=True)
class LogLinearFit:
    """Least-squares line ``y = intercept + slope · log2 N`` with its parameter covariance."""

    intercept: float  # a: predicted value at N = 1
    slope: float  # b: change per doubling of N
    se_intercept: float  # standard error of a
    se_slope: float  # standard error of b
    cov: float  # covariance of (a, b)
    residual_std: float  # sqrt(RSS / (n − 2))
    r2: float  # coefficient of determination (nan when y is constant)
    n_points: int  # points fitted

    @property
    def dof(self) -> int:
        return self.n_points - 2

    def predict(self, log2_n: float | np.ndarray) -> float | np.ndarray:
        return self.intercept + self.slope * np.asarray(log2_n, dtype=float)

    def slope_interval(self, level: float = 0.95) -> tuple[float, float]:
        q = t_quantile(level, self.dof)
        return self.slope - q * self.se_slope, self.slope + q * self.se_slope


def t_quantile(level: float, dof: int) -> float:
    """Two-sided Student-t quantile for a ``level`` interval (the fit has few points, so not 1.96)."""
    from scipy import stats

    if not 0 < level < 1:
        raise ValueError(f"confidence level must be in (0, 1), got {level}")
    if dof < 1:
        raise ValueError(f"an interval needs at least one residual degree of freedom, got {dof}")
    return float(stats.t.ppf(0.5 + level / 2, dof))


def fit_log_linear(n_pairs: Sequence[float], values: Sequence[float]) -> LogLinearFit:
    """Fit ``values ≈ a + b·log2(n_pairs)`` by least squares.

    At least 3 points with distinct N are required: two points determine the line exactly and leave
    nothing to estimate its uncertainty from.
    """
    n = np.asarray(n_pairs, dtype=float)
    y = np.asarray(values, dtype=float)
    if n.shape != y.shape or n.ndim != 1:
        raise ValueError(f"n_pairs and values must be 1-D of equal length, got {n.shape} and {y.shape}")
    if not (np.all(np.isfinite(n)) and np.all(np.isfinite(y))):
        raise ValueError("n_pairs and values must be finite numbers")
    if np.any(n <= 0):
        raise ValueError(f"N must be positive for log2 N, got {sorted(n[n <= 0].tolist())}")
    if len(np.unique(n)) < 3:
        raise ValueError(f"a log-linear fit with standard errors needs >= 3 distinct N, got {sorted(set(n.tolist()))}")
    # centred closed form: a constant series gives a slope of exactly 0 (lstsq would leave ~1e-17 of
    # rounding noise, which the extrapolation would read as a positive slope)
    x = np.log2(n)
    dx, dy = x - x.mean(), y - y.mean()
    sxx = float(dx @ dx)
    slope = float(dx @ dy) / sxx
    intercept = float(y.mean()) - slope * float(x.mean())
    resid = y - (intercept + slope * x)
    rss = float(resid @ resid)
    sigma2 = rss / (len(y) - 2)
    total = float(dy @ dy)
    r2 = 1.0 - rss / total if total > 0 else math.nan
    return LogLinearFit(
        intercept=intercept,
        slope=slope,
        se_intercept=math.sqrt(sigma2 * (1 / len(x) + x.mean() ** 2 / sxx)),
        se_slope=math.sqrt(sigma2 / sxx),
        cov=-float(x.mean()) * sigma2 / sxx,
        residual_std=math.sqrt(sigma2),
        r2=r2,
        n_points=len(y),
    )


@dataclass(frozen=True)
class Extrapolation:
    """Where the fitted line reaches ``target``: log2 N* with a delta-method interval, or why not."""

    target: float  # the value to reach (e.g. 81 % for ESC-50 human parity)
    log2_n: float | None  # log2 N*; None when the slope is not positive
    se_log2_n: float | None  # delta-method standard error of log2 N*
    ci_low: float | None  # lower end of the ``level`` interval on log2 N*
    ci_high: float | None  # upper end
    level: float  # confidence level of the interval
    slope_significant: bool  # whether the slope's interval excludes zero (else the N* interval means little)
    note: str  # one sentence for people: the estimate, or why there is none

    @property
    def n(self) -> float | None:
        if self.log2_n is None:
            return None
        return float(2.0**self.log2_n) if self.log2_n < 1000 else math.inf  # a flat line can land far away


def extrapolate(fit: LogLinearFit, target: float, level: float = 0.95) -> Extrapolation:
    """Solve ``a + b·x = target`` for x = log2 N*, with a delta-method interval.

    ``x* = (target − a) / b``; its gradient in (a, b) is ``(−1/b, −(target − a)/b²)``, so
    ``var x* = g Σ gᵀ`` with Σ the fit's covariance. The interval is ``x* ± t·se`` with the fit's residual
    degrees of freedom. A non-positive slope never reaches a higher target, so nothing is extrapolated.
    """
    low, high = fit.slope_interval(level)
    significant = low > 0 or high < 0
    # a slope within rounding noise of zero (metrics equal up to the last bits) counts as zero
    if fit.slope <= 1e-9 * max(1.0, abs(fit.intercept)):
        return Extrapolation(
            target,
            None,
            None,
            None,
            None,
            level,
            significant,
            f"no extrapolation: the fitted slope is not positive (b = {fit.slope:.3g} per doubling "
            f"of N), so the line never reaches {target:g}",
        )
    x = (target - fit.intercept) / fit.slope
    grad = np.array([-1.0 / fit.slope, -(target - fit.intercept) / fit.slope**2])
    sigma = np.array([[fit.se_intercept**2, fit.cov], [fit.cov, fit.se_slope**2]])
    se = float(math.sqrt(max(float(grad @ sigma @ grad), 0.0)))
    q = t_quantile(level, fit.dof)
    note = (
        f"log2 N* = {x:.1f} ± {se:.1f} (N* ≈ {_power_of_two(x)}; {level:.0%} interval "
        f"[{x - q * se:.1f}, {x + q * se:.1f}], delta method)"
    )
    if not significant:
        note += f"; the slope's {level:.0%} interval includes zero, so this interval is not meaningful"
    return Extrapolation(target, float(x), se, float(x - q * se), float(x + q * se), level, significant, note)


def _power_of_two(x: float) -> str:
    if x > 60:
        return f"2^{x:.0f}"
    return f"{2.0**x:.3g}"


def trained_pairs(pairs_csv: str, have_features: set[str]) -> int:
    """Pairs of a curated list whose clip has FBANK features (the fine-tuning drops the others)."""
    pairs = pd.read_csv(pairs_csv, dtype={"clip_id": str}, keep_default_na=False)
    if "clip_id" not in pairs.columns:
        raise ValueError(f"{pairs_csv}: not a pair list (no clip_id column)")
    return int(pairs["clip_id"].isin(have_features).sum())


def trained_pair_counts(pair_lists: Mapping[str, str], have_features: set[str]) -> dict[str, int]:
    """N of each fine-tuned model (``model -> pair-list CSV``): its pairs whose clip has FBANK features, so a
    failed download never inflates N. A ``GC@N`` model (row key ``at_GC@N``) must hold exactly N of them;
    anything else is a stale pair list and is refused."""
    from vipant.curation.curate import gold_subset_size  # imports torch: only when counting

    n_pairs = {}
    for model, path in pair_lists.items():
        n = trained_pairs(path, have_features)
        nominal = gold_subset_size(model.removeprefix("at_"))
        if nominal is not None and n != nominal:
            raise ValueError(
                f"{path}: {model} should hold {nominal} pairs with features, holds {n} "
                "(a stale pair list? rerun its curate job)"
            )
        n_pairs[model] = n
    return n_pairs


def scaling_table(
    records: Mapping[tuple[str, str], MetricsRecord],
    n_pairs: Mapping[str, int],
    metrics: Sequence[ScalingMetric] = METRICS,
) -> pd.DataFrame:
    """One row per model (sorted by N): N, log2 N, each metric and its chance level.

    ``n_pairs`` maps model row keys to the number of gold pairs it was fine-tuned on; N = 0 (vip-AnT
    without any pair) is kept as a reference row with an empty log2 N and is never fitted.
    """
    rows = []
    for model, n in sorted(n_pairs.items(), key=lambda item: (item[1], item[0])):
        if n < 0:
            raise ValueError(f"model {model!r}: negative number of pairs {n}")
        row: dict[str, object] = {"model": model, "N": int(n), "log2_N": math.log2(n) if n > 0 else math.nan}
        for m in metrics:
            rec = records.get((model, m.task))
            if rec is None:
                raise MetricsFileError(f"scaling: no metrics.json for model {model!r}, task {m.task!r}")
            if m.metric not in rec.metrics:
                raise MetricsFileError(f"{rec.path}: metrics lack '{m.metric}' needed for the scaling table")
            row[m.column] = rec.metrics[m.metric]
            row[f"{m.column}_chance"] = rec.chance.get(m.chance_key, math.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def fit_table(table: pd.DataFrame, metrics: Sequence[ScalingMetric] = METRICS) -> dict[str, LogLinearFit]:
    """A log-linear fit per metric column over the rows with N > 0."""
    fitted = table[table["N"] > 0]
    return {m.column: fit_log_linear(fitted["N"].to_numpy(), fitted[m.column].to_numpy()) for m in metrics}


def summarise(
    table: pd.DataFrame,
    target: float,
    paper_log2_n: float,
    level: float = 0.95,
    metrics: Sequence[ScalingMetric] = METRICS,
) -> dict:
    """Fits of every metric plus the ESC-50 extrapolation to ``target``, as JSON-able data."""
    fits = fit_table(table, metrics)
    ext = extrapolate(fits[EXTRAPOLATED], target, level)
    log.info("ESC-50 human parity (%g %%): %s", target, ext.note)
    return _finite_or_none(
        {
            "fits": {column: {**asdict(fit), "dof": fit.dof} for column, fit in fits.items()},
            "extrapolation": {"metric": EXTRAPOLATED, **asdict(ext), "n": ext.n},
            "paper": {"target": target, "log2_n": paper_log2_n},
            "points": int((table["N"] > 0).sum()),
        }
    )


def _finite_or_none(obj):
    """NaN/inf become null so the JSON stays standard (an R² of a constant series is undefined)."""
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def fit_from_summary(summary: Mapping, column: str) -> LogLinearFit:
    """The fit of one column back from :func:`summarise`'s JSON."""
    data = {k: (math.nan if v is None else v) for k, v in summary["fits"][column].items() if k != "dof"}
    return LogLinearFit(**data)
