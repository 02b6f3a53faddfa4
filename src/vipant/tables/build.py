"""The generic table builder: a table is a list of :class:`Column` (label, task, metric, chance key) and
the row keys in the paper's order; :func:`_build` makes one row per model with a file for the table's
tasks, each cell our value (rounded to one decimal) beside the paper's, with the chance level and the
permutation p-value where there are any."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from vipant.paper_values import ROW_NAMES, paper_value
from vipant.tables.metrics import MetricsFileError, MetricsRecord

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Column:
    """A table column: our value ``task.metrics[metric]`` beside the paper's, optionally with chance."""

    label: str
    task: str
    metric: str
    chance_key: str | None = None


def _round(x: float | None) -> float:
    return math.nan if x is None else round(float(x), 1)


def _build(
    name: str,
    records: Mapping[tuple[str, str], MetricsRecord],
    rows: tuple[str, ...],
    columns: list[Column],
    paper: dict[str, dict[str, dict[str, float]]],
    names: Mapping[str, str] = ROW_NAMES,
) -> pd.DataFrame:
    """Rows = models with at least one file for this table's tasks, in the paper's order (``names``: display names)."""
    tasks = {c.task for c in columns}
    relevant = {k: r for k, r in records.items() if r.task in tasks}
    for model, task in sorted(relevant):
        if model not in rows:
            logger.warning(
                "%s: model %r (%s) is not a row of this table; ignored", name, model, relevant[model, task].path
            )
    present = [m for m in rows if any((m, t) in relevant for t in tasks)]
    if not present:
        raise MetricsFileError(f"{name}: no metrics file for tasks {sorted(tasks)} among {len(records)} given")
    # a "(p)" column beside each score some file has a permutation p-value for (none when evaluation ran
    # without shuffles, as in the paper preset)
    with_p = {
        (c.task, c.metric) for c in columns if any(r.task == c.task and c.metric in r.p for r in relevant.values())
    }
    table: list[dict[str, Any]] = []
    for model in present:
        row: dict[str, Any] = {"Model": names[model]}
        for col in columns:
            rec = relevant.get((model, col.task))
            if rec is None:
                ours, chance = None, None
            else:
                if col.metric not in rec.metrics:
                    raise MetricsFileError(f"{rec.path}: metrics lack '{col.metric}' needed for {name}")
                ours = rec.metrics[col.metric]
                chance = rec.chance.get(col.chance_key) if col.chance_key else None
                if col.chance_key and chance is None:
                    logger.warning("%s: no chance value '%s' in %s", name, col.chance_key, rec.path)
            row[col.label] = _round(ours)
            row[f"{col.label} (paper)"] = _round(paper_value(paper, model, col.task, col.metric))
            if col.chance_key:
                row[f"{col.label} (chance)"] = _round(chance)
            if (col.task, col.metric) in with_p:
                p = rec.p.get(col.metric) if rec is not None else None
                row[f"{col.label} (p)"] = math.nan if p is None else round(p, 3)
        table.append(row)
    return pd.DataFrame(table)
