"""Result tables built only from ``metrics.json`` files, our numbers beside the paper's.

Every evaluation job writes one ``metrics.json`` per (model, task)::

    {"model": "at_AC", "task": "audiocaps_retrieval",
     "metrics": {"t2a_R@1": 9.1, ...}, "chance": {"t2a_R@1": 0.1, ...}, "n": 975}

Tables never read checkpoints or embeddings, so a table is exactly as fresh as the files it is given,
and a missing or incomplete file is an error that names it rather than a silently empty cell. Cells are
empty (NaN, written as an empty CSV field) only where a model has no file for that task or the paper
reports no number. Values are rounded to one decimal like the paper.
"""

from __future__ import annotations

import json
import logging
import math
import numbers
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from vipant.atomic import write_csv, write_json
from vipant.paper_values import ROW_NAMES, TABLE3, TABLE4, paper_value

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

TABLE3_ROWS: tuple[str, ...] = tuple(ROW_NAMES)
TABLE4_ROWS: tuple[str, ...] = tuple(TABLE4)


class MetricsFileError(ValueError):
    """A metrics.json file is missing, unreadable, or lacks a value a table needs."""


@dataclass(frozen=True)
class MetricsRecord:
    """One parsed metrics.json."""

    path: Path
    model: str
    task: str
    metrics: dict[str, float]
    chance: dict[str, float] = field(default_factory=dict)
    n: Any = None


@dataclass(frozen=True)
class Column:
    """A table column: our value ``task.metrics[metric]`` beside the paper's, optionally with chance."""

    label: str
    task: str
    metric: str
    chance_key: str | None = None


def _check_numbers(path: Path, name: str, values: Any) -> dict[str, float]:
    if not isinstance(values, Mapping):
        raise MetricsFileError(f"{path}: '{name}' must be an object, got {type(values).__name__}")
    for k, v in values.items():
        if not isinstance(v, numbers.Real) or isinstance(v, bool):
            raise MetricsFileError(f"{path}: {name}[{k!r}] is not a number: {v!r}")
    return {str(k): float(v) for k, v in values.items()}


def read_metrics(path: PathLike) -> MetricsRecord:
    """Parse and validate one metrics.json (``model``, ``task``, ``metrics`` required; ``chance``, ``n`` optional)."""
    p = Path(path)
    if not p.is_file():
        raise MetricsFileError(f"metrics file not found: {p}")
    try:
        obj = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise MetricsFileError(f"{p}: cannot read metrics JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise MetricsFileError(f"{p}: top level must be an object")
    for key in ("model", "task", "metrics"):
        if key not in obj:
            raise MetricsFileError(f"{p}: missing key '{key}'")
    for key in ("model", "task"):
        if not isinstance(obj[key], str) or not obj[key]:
            raise MetricsFileError(f"{p}: '{key}' must be a non-empty string")
    return MetricsRecord(
        path=p,
        model=obj["model"],
        task=obj["task"],
        metrics=_check_numbers(p, "metrics", obj["metrics"]),
        chance=_check_numbers(p, "chance", obj.get("chance", {})),
        n=obj.get("n"),
    )


def write_metrics(
    path: PathLike, model: str, task: str, metrics: Mapping[str, float], chance: Mapping[str, float], n: Any
) -> None:
    """Write a metrics.json in the format the tables read (atomically; numpy scalars become plain numbers)."""

    def plain(d: Mapping[str, float]) -> dict[str, float | int]:
        return {str(k): (int(v) if isinstance(v, numbers.Integral) else float(v)) for k, v in d.items()}

    write_json(path, {"model": model, "task": task, "metrics": plain(metrics), "chance": plain(chance), "n": n})


def load_records(paths: Iterable[PathLike]) -> dict[tuple[str, str], MetricsRecord]:
    """Read every file, keyed by (model, task); two files for the same pair are ambiguous and an error."""
    records: dict[tuple[str, str], MetricsRecord] = {}
    for path in paths:
        rec = read_metrics(path)
        key = (rec.model, rec.task)
        if key in records:
            raise MetricsFileError(f"{rec.path}: duplicate metrics for model {rec.model!r}, task {rec.task!r} "
                                   f"(also in {records[key].path})")
        records[key] = rec
    return records


def _round(x: float | None) -> float:
    return math.nan if x is None else round(float(x), 1)


def _build(
    name: str,
    records: Mapping[tuple[str, str], MetricsRecord],
    rows: tuple[str, ...],
    columns: list[Column],
    paper: dict[str, dict[str, dict[str, float]]],
) -> pd.DataFrame:
    """Rows = models with at least one file for this table's tasks, in the paper's order."""
    tasks = {c.task for c in columns}
    relevant = {k: r for k, r in records.items() if r.task in tasks}
    for model, task in sorted(relevant):
        if model not in rows:
            logger.warning("%s: model %r (%s) is not a row of this table; ignored",
                           name, model, relevant[model, task].path)
    present = [m for m in rows if any((m, t) in relevant for t in tasks)]
    if not present:
        raise MetricsFileError(f"{name}: no metrics file for tasks {sorted(tasks)} among {len(records)} given")
    table: list[dict[str, Any]] = []
    for model in present:
        row: dict[str, Any] = {"Model": ROW_NAMES[model]}
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
        table.append(row)
    return pd.DataFrame(table)


def table3_columns() -> list[Column]:
    """AudioCaps and Clotho × T→A / A→T × R@1 / R@10, in the paper's column order."""
    cols = []
    for task, dataset in (("audiocaps_retrieval", "AudioCaps"), ("clotho_retrieval", "Clotho")):
        for direction, arrow in (("t2a", "T→A"), ("a2t", "A→T")):
            for k in ("R@1", "R@10"):
                key = f"{direction}_{k}"
                cols.append(Column(f"{dataset} {arrow} {k}", task, key, chance_key=key))
    return cols


def table4_columns() -> list[Column]:
    """ESC50 / US8K accuracy and AudioSet mAP with the prompt, then without it (the paper's parentheses)."""
    datasets = (("ESC50", "esc50_zs", "acc"), ("US8K", "us8k_zs", "acc"), ("AS", "audioset_zs", "mAP"))
    cols = [Column(label, task, f"{m}_prompt", chance_key=m) for label, task, m in datasets]
    cols += [Column(f"{label} no prompt", task, f"{m}_noprompt") for label, task, m in datasets]
    return cols


def table3(metrics_paths: Iterable[PathLike]) -> pd.DataFrame:
    """vip-AnT Table 3 (audio–text retrieval) from metrics.json files of tasks audiocaps/clotho_retrieval."""
    return _build("table3", load_records(metrics_paths), TABLE3_ROWS, table3_columns(), TABLE3)


def table4(metrics_paths: Iterable[PathLike]) -> pd.DataFrame:
    """vip-AnT Table 4 (zero-shot classification) from metrics.json files of tasks esc50/us8k/audioset_zs."""
    return _build("table4", load_records(metrics_paths), TABLE4_ROWS, table4_columns(), TABLE4)


TABLES = {"table3": table3, "table4": table4}


def build_table(name: str, metrics_paths: Iterable[PathLike]) -> pd.DataFrame:
    """Build a table by name (``table3`` or ``table4``)."""
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; known: {sorted(TABLES)}")
    return TABLES[name](list(metrics_paths))


def write_table(path: PathLike, df: pd.DataFrame) -> None:
    """Write a table as CSV atomically; NaN cells (no value) become empty fields."""
    write_csv(path, df)
    logger.info("wrote %s (%d rows)", path, len(df))
