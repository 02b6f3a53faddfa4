"""The ``metrics.json`` files every table is built from: one per (model, task), with ``model``, ``task`` and
``metrics`` required and ``chance``, ``n``, ``p_vs_chance`` and ``commit`` (of the code that wrote it)
optional. Reading validates every value (a missing file, a missing key or a value that is not a number is a
:class:`MetricsFileError` naming the file), writing is atomic, and :func:`load_records` keys a set of files
by (model, task)."""

from __future__ import annotations

import json
import numbers
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vipant.atomic import write_json

PathLike = str | os.PathLike[str]


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
    p: dict[str, float] = field(default_factory=dict)  # permutation p-value against chance per score, if computed
    commit: str | None = None  # the code that computed the scores (vipant.tracking.git_commit), if recorded


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
    if not isinstance(obj.get("commit", ""), str):
        raise MetricsFileError(f"{p}: 'commit' must be a string")
    return MetricsRecord(
        path=p,
        model=obj["model"],
        task=obj["task"],
        metrics=_check_numbers(p, "metrics", obj["metrics"]),
        chance=_check_numbers(p, "chance", obj.get("chance", {})),
        n=obj.get("n"),
        p=_check_numbers(p, "p_vs_chance", obj.get("p_vs_chance", {})),
        commit=obj.get("commit"),
    )


def write_metrics(
    path: PathLike,
    model: str,
    task: str,
    metrics: Mapping[str, float],
    chance: Mapping[str, float],
    n: Any,
    p: Mapping[str, float] | None = None,
    commit: str | None = None,
) -> None:
    """Write a metrics.json in the format the tables read (atomically; numpy scalars become plain numbers).
    ``p``: each score's permutation p-value against chance (:mod:`vipant.evaluate.significance`), if computed;
    ``commit``: the code computing the scores, so that a summary can tell scores cached from other code."""

    def plain(d: Mapping[str, float]) -> dict[str, float | int]:
        return {str(k): (int(v) if isinstance(v, numbers.Integral) else float(v)) for k, v in d.items()}

    record = {"model": model, "task": task, "metrics": plain(metrics), "chance": plain(chance), "n": n}
    if p is not None:
        record["p_vs_chance"] = plain(p)
    if commit is not None:
        record["commit"] = commit
    write_json(path, record)


def load_records(
    paths: Iterable[PathLike], aliases: Mapping[str, str] | None = None
) -> dict[tuple[str, str], MetricsRecord]:
    """Read every file, keyed by (model, task); two files for the same pair are ambiguous and an error.

    ``aliases`` (key -> model) files the scores of ``model`` under ``key`` instead: a follow-up run that
    was not trained twice because a model of the main tables is the same run (:mod:`vipant.registry`)."""
    keys_of: dict[str, list[str]] = {}
    for key, model in (aliases or {}).items():
        keys_of.setdefault(model, []).append(key)
    records: dict[tuple[str, str], MetricsRecord] = {}
    for path in paths:
        found = read_metrics(path)
        for rec in [replace(found, model=k) for k in keys_of.get(found.model, [found.model])]:
            key = (rec.model, rec.task)
            if key in records:
                raise MetricsFileError(
                    f"{rec.path}: duplicate metrics for model {rec.model!r}, task {rec.task!r} "
                    f"(also in {records[key].path})"
                )
            records[key] = rec
    return records
