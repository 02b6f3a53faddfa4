"""Follow-up A (temporal agreement) Tables III and IV: one row per frame-matching variant, the mean and
sample std over seeds of its runs (two decimals, like the follow-up paper), the paper's mean ± std and
chance beside ours."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from vipant.paper_values import TEMPORAL_ROW_NAMES, TEMPORAL_TABLE3, TEMPORAL_TABLE4
from vipant.registry import parse_temporal_key
from vipant.tables.build import _round
from vipant.tables.metrics import MetricsFileError, MetricsRecord, PathLike, load_records

logger = logging.getLogger(__name__)

# Model keys are ``tm_<variant>_s<seed>`` (VA pretraining) and ``tm_<variant>_s<seed>_at`` (its AT fine-tune),
# as vipant.registry names them.


def _seeded(
    name: str,
    records: Mapping[tuple[str, str], MetricsRecord],
    task: str,
    columns: list[tuple[str, str]],
    paper: Mapping[str, Mapping[str, tuple[float, float]]],
    fine_tuned: bool,
) -> pd.DataFrame:
    """Mean and sample std (ddof=1) over seeds of each variant; the paper's mean ± std beside ours.

    Two decimals, like the follow-up paper. A variant with fewer seeds than the others is still shown;
    the ``seeds`` column says how many runs each row averages.
    """
    groups: dict[str, dict[int, MetricsRecord]] = {}
    for (model, t), rec in records.items():
        parsed = parse_temporal_key(model)
        if t != task or parsed is None or parsed[2] != fine_tuned:
            if t == task:
                logger.warning("%s: model %r (%s) is not a row of this table; ignored", name, model, rec.path)
            continue
        variant, seed, _ = parsed
        groups.setdefault(variant, {})[seed] = rec
    if not groups:
        raise MetricsFileError(f"{name}: no metrics file of a tm_<variant>_s<seed> model for task {task!r}")
    order = [v for v in TEMPORAL_ROW_NAMES if v in groups] + sorted(set(groups) - set(TEMPORAL_ROW_NAMES))
    table = []
    for variant in order:
        runs = [groups[variant][seed] for seed in sorted(groups[variant])]
        row: dict[str, Any] = {"Model": TEMPORAL_ROW_NAMES.get(variant, variant), "seeds": len(runs)}
        for key, label in columns:
            for rec in runs:
                if key not in rec.metrics:
                    raise MetricsFileError(f"{rec.path}: metrics lack '{key}' needed for {name}")
            values = pd.Series([rec.metrics[key] for rec in runs], dtype=float)
            row[label] = round(float(values.mean()), 2)
            row[f"{label} ±"] = round(float(values.std(ddof=1)), 2) if len(values) > 1 else math.nan
            mean_std = paper.get(variant, {}).get(key)
            row[f"{label} (paper)"] = mean_std[0] if mean_std else math.nan
            row[f"{label} ± (paper)"] = mean_std[1] if mean_std else math.nan
            row[f"{label} (chance)"] = _round(runs[0].chance.get(key))
        table.append(row)
    return pd.DataFrame(table)


def temporal_table3(metrics_paths: Iterable[PathLike], aliases: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Follow-up A Table III: audio–image retrieval (A→I, I→A × R@1, R@5) of the VA models per variant.
    ``aliases``: ``tm_<variant>_s<seed>`` -> the model whose scores are that run's (:mod:`vipant.registry`)."""
    columns = [(f"{d}_R@{k}", f"{arrow} R@{k}") for d, arrow in (("a2i", "A→I"), ("i2a", "I→A")) for k in (1, 5)]
    records = load_records(metrics_paths, aliases)
    return _seeded("temporal_table3", records, "audioset_a2i", columns, TEMPORAL_TABLE3, False)


def temporal_table4(metrics_paths: Iterable[PathLike], aliases: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Follow-up A Table IV: AudioCaps audio–text retrieval after AT fine-tuning on gold captions (``aliases``
    as in :func:`temporal_table3`)."""
    columns = [(f"{d}_R@{k}", f"{arrow} R@{k}") for d, arrow in (("t2a", "T→A"), ("a2t", "A→T")) for k in (1, 10)]
    records = load_records(metrics_paths, aliases)
    return _seeded("temporal_table4", records, "audiocaps_retrieval", columns, TEMPORAL_TABLE4, True)
