"""Result tables built only from ``metrics.json`` files, our numbers beside the paper's.

Every evaluation job writes one ``metrics.json`` per (model, task)::

    {"model": "at_AC", "task": "audiocaps_retrieval",
     "metrics": {"t2a_R@1": 9.1, ...}, "chance": {"t2a_R@1": 0.1, ...}, "n": 975,
     "p_vs_chance": {"t2a_R@1": 0.005, ...}}   # optional: permutation p-values (evaluate --permutations)

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
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from vipant.atomic import write_csv, write_json
from vipant.paper_values import (ROW_NAMES, TABLE3, TABLE4, TEMPORAL_ROW_NAMES, TEMPORAL_TABLE3, TEMPORAL_TABLE4,
                                 paper_value)
from vipant.registry import at_key, parse_temporal_key, student_key

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
    p: dict[str, float] = field(default_factory=dict)  # permutation p-value against chance per score, if computed


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
        p=_check_numbers(p, "p_vs_chance", obj.get("p_vs_chance", {})),
    )


def write_metrics(
    path: PathLike, model: str, task: str, metrics: Mapping[str, float], chance: Mapping[str, float], n: Any,
    p: Mapping[str, float] | None = None,
) -> None:
    """Write a metrics.json in the format the tables read (atomically; numpy scalars become plain numbers).
    ``p``: each score's permutation p-value against chance (:mod:`vipant.evaluate.significance`), if computed."""

    def plain(d: Mapping[str, float]) -> dict[str, float | int]:
        return {str(k): (int(v) if isinstance(v, numbers.Integral) else float(v)) for k, v in d.items()}

    record = {"model": model, "task": task, "metrics": plain(metrics), "chance": plain(chance), "n": n}
    if p is not None:
        record["p_vs_chance"] = plain(p)
    write_json(path, record)


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
    names: Mapping[str, str] = ROW_NAMES,
) -> pd.DataFrame:
    """Rows = models with at least one file for this table's tasks, in the paper's order (``names``: display names)."""
    tasks = {c.task for c in columns}
    relevant = {k: r for k, r in records.items() if r.task in tasks}
    for model, task in sorted(relevant):
        if model not in rows:
            logger.warning("%s: model %r (%s) is not a row of this table; ignored",
                           name, model, relevant[model, task].path)
    present = [m for m in rows if any((m, t) in relevant for t in tasks)]
    if not present:
        raise MetricsFileError(f"{name}: no metrics file for tasks {sorted(tasks)} among {len(records)} given")
    # a "(p)" column beside each score some file has a permutation p-value for (none when evaluation ran
    # without shuffles, as in the paper preset)
    with_p = {(c.task, c.metric) for c in columns
              if any(r.task == c.task and c.metric in r.p for r in relevant.values())}
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


# ---- follow-up A (temporal agreement): one row per frame-matching variant, mean ± std over seeds ----------
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


def temporal_table3(metrics_paths: Iterable[PathLike]) -> pd.DataFrame:
    """Follow-up A Table III: audio–image retrieval (A→I, I→A × R@1, R@5) of the VA models per variant."""
    columns = [(f"{d}_R@{k}", f"{arrow} R@{k}") for d, arrow in (("a2i", "A→I"), ("i2a", "I→A")) for k in (1, 5)]
    return _seeded("temporal_table3", load_records(metrics_paths), "audioset_a2i", columns, TEMPORAL_TABLE3, False)


def temporal_table4(metrics_paths: Iterable[PathLike]) -> pd.DataFrame:
    """Follow-up A Table IV: AudioCaps audio–text retrieval after AT fine-tuning on gold captions."""
    columns = [(f"{d}_R@{k}", f"{arrow} R@{k}") for d, arrow in (("t2a", "T→A"), ("a2t", "A→T")) for k in (1, 10)]
    return _seeded("temporal_table4", load_records(metrics_paths), "audiocaps_retrieval", columns, TEMPORAL_TABLE4, True)


TABLES = {"table3": table3, "table4": table4, "temporal_table3": temporal_table3, "temporal_table4": temporal_table4}


# ---- vip-AnT Table 8 (appendix D): Clotho retrieval with 10 s and with 18 s of audio -----------------------
TABLE8_ROWS: tuple[str, ...] = tuple(m for m in ROW_NAMES if m != "oracle_av_clip")


def table8_columns() -> list[Column]:
    """10 s then 18 s × T→A / A→T × R@1 / R@10, in the paper's column order."""
    cols = []
    for task, length in (("clotho_10s_retrieval", "10 s"), ("clotho_retrieval", "18 s")):
        for direction, arrow in (("t2a", "T→A"), ("a2t", "A→T")):
            for k in ("R@1", "R@10"):
                key = f"{direction}_{k}"
                cols.append(Column(f"Clotho {length} {arrow} {k}", task, key, chance_key=key))
    return cols


def table8(metrics_paths: Iterable[PathLike]) -> pd.DataFrame:
    """vip-AnT Table 8 from metrics.json files of tasks clotho_10s_retrieval and clotho_retrieval."""
    from vipant.paper_values import TABLE8

    return _build("table8", load_records(metrics_paths), TABLE8_ROWS, table8_columns(), TABLE8)


TABLES["table8"] = table8


# ---- follow-up B (unsupervised curation, soft labels): zero-shot accuracy of teachers and students --------
# Row key (paper_values), display name, model key. ``{task}`` stands for the target task (esc50, us8k,
# tut17): DS/ADS students are trained per target task, so a row takes each column from another model. The
# model keys come from vipant.registry, as the workflow's: student_<teacher>_<set>_<hard|sl>.
CURATION_TASKS: tuple[tuple[str, str], ...] = (("ESC-50", "esc50_zs"), ("US8K", "us8k_zs"), ("TUT17", "tut17_zs"))
CURATION_TABLE2_ROWS: tuple[tuple[str, str, str], ...] = (
    ("teacher", "Teacher (vip-AnT + AT w/ GC)", at_key("GC")),
    ("SL", "SL", student_key("full", "own", "sl")),
    ("DU", "DU", student_key("full", "DU", "hard")),
    ("DU+SL", "DU+SL", student_key("full", "DU", "sl")),
    ("DS", "DS", student_key("full", "DS_{task}", "hard")),
    ("DS+SL", "DS+SL", student_key("full", "DS_{task}", "sl")),
    ("ADS", "ADS", student_key("full", "ADS_{task}", "hard")),
    ("ADS+SL", "ADS+SL", student_key("full", "ADS_{task}", "sl")),
)
CURATION_TABLE3_ROWS: tuple[tuple[str, str, str], ...] = (
    ("teacher_full", "Teacher (full GC)", at_key("GC")),
    ("teacher_sub", "Teacher (10 % of GC)", "teacher_sub"),
    ("DU+SL", "DU + SL", student_key("sub", "DU", "sl")),
    ("ADS+SL", "ADS + SL", student_key("sub", "ADS_{task}", "sl")),
)


def _curation(name: str, records: Mapping[tuple[str, str], MetricsRecord], rows: tuple[tuple[str, str, str], ...],
              paper: Mapping[str, Mapping[str, Mapping[str, float]]]) -> pd.DataFrame:
    """Zero-shot accuracy with the prompt per (row, task); the paper's mean and std and chance beside ours."""
    wanted = {(template.format(task=task.removesuffix("_zs")), task) for _, _, template in rows for _, task in CURATION_TASKS}
    for model, task in sorted(set(records) - wanted):
        logger.warning("%s: model %r (%s) is not a cell of this table; ignored", name, model, records[model, task].path)
    table: list[dict[str, Any]] = []
    for key, label, template in rows:
        found = {task: records.get((template.format(task=task.removesuffix("_zs")), task)) for _, task in CURATION_TASKS}
        if not any(found.values()):
            continue
        row: dict[str, Any] = {"Model": label}
        for column, task in CURATION_TASKS:
            rec = found[task]
            if rec is not None and "acc_prompt" not in rec.metrics:
                raise MetricsFileError(f"{rec.path}: metrics lack 'acc_prompt' needed for {name}")
            row[column] = _round(rec.metrics["acc_prompt"]) if rec else math.nan
            row[f"{column} (paper)"] = _round(paper_value(paper, key, task, "acc_prompt"))
            row[f"{column} ± (paper)"] = _round(paper_value(paper, key, task, "acc_prompt_std"))
            row[f"{column} (chance)"] = _round(rec.chance.get("acc")) if rec else math.nan
        table.append(row)
    if not table:
        raise MetricsFileError(f"{name}: none of the {len(records)} metrics files is a cell of this table")
    return pd.DataFrame(table)


def curation_table2(metrics_paths: Iterable[PathLike]) -> pd.DataFrame:
    """Follow-up B Table 2: the full teacher and its students (SL, DU, DS, ADS, each ± SL)."""
    from vipant.paper_values import CURATION_TABLE2

    return _curation("curation_table2", load_records(metrics_paths), CURATION_TABLE2_ROWS, CURATION_TABLE2)


def curation_table3(metrics_paths: Iterable[PathLike]) -> pd.DataFrame:
    """Follow-up B Table 3: a teacher trained on 10 % of the pairs and its DU+SL / ADS+SL students."""
    from vipant.paper_values import CURATION_TABLE3

    return _curation("curation_table3", load_records(metrics_paths), CURATION_TABLE3_ROWS, CURATION_TABLE3)


TABLES["curation_table2"] = curation_table2
TABLES["curation_table3"] = curation_table3


# ---- vip-AnT appendices: Table 7 (supervised linear probe, C) and VAT vs. AT fine-tuning (E) ---------------
TABLE7_ROWS: tuple[str, ...] = ("init_random", "va_rand", "init_clip", "vipant")  # va_rand: optional extra row
TABLE_VAT_CURATIONS: tuple[str, ...] = ("AC", "FC", "VC", "RC", "GL", "GC")
TABLE_VAT_ROWS: tuple[str, ...] = ("vipant", *(f"{kind}_{c}" for c in TABLE_VAT_CURATIONS for kind in ("at", "vat")))


def table7_columns() -> list[Column]:
    """Balanced-AudioSet mAP, then US8K and ESC-50 accuracy (mean over folds) and its std, the paper's order."""
    return [Column("AS balanced mAP", "audioset_probe", "mAP", chance_key="mAP"),
            Column("US8K acc", "us8k_probe", "acc", chance_key="acc"), Column("US8K acc std", "us8k_probe", "acc_std"),
            Column("ESC50 acc", "esc50_probe", "acc", chance_key="acc"), Column("ESC50 acc std", "esc50_probe", "acc_std")]


def table7(metrics_paths: Iterable[PathLike]) -> pd.DataFrame:
    """vip-AnT Table 7: linear-probe classification per initialisation (random / CLIP / vip-AnT)."""
    from vipant.paper_values import APPENDIX_ROW_NAMES, TABLE7

    return _build("table7", load_records(metrics_paths), TABLE7_ROWS, table7_columns(), TABLE7, APPENDIX_ROW_NAMES)


def table_vat(metrics_paths: Iterable[PathLike]) -> pd.DataFrame:
    """vip-AnT appendix E: AT vs. VAT fine-tuning per curation on zero-shot ESC-50 and AudioCaps T→A R@1."""
    from vipant.paper_values import APPENDIX_ROW_NAMES, TABLE_VAT

    columns = [Column("ESC50 zero-shot acc", "esc50_zs", "acc_prompt", chance_key="acc"),
               Column("AudioCaps T→A R@1", "audiocaps_retrieval", "t2a_R@1", chance_key="t2a_R@1")]
    return _build("table_vat", load_records(metrics_paths), TABLE_VAT_ROWS, columns, TABLE_VAT, APPENDIX_ROW_NAMES)


TABLES["table7"] = table7
TABLES["table_vat"] = table_vat


def build_table(name: str, metrics_paths: Iterable[PathLike]) -> pd.DataFrame:
    """Build a table by name (``table3`` or ``table4``)."""
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; known: {sorted(TABLES)}")
    return TABLES[name](list(metrics_paths))


def write_table(path: PathLike, df: pd.DataFrame) -> None:
    """Write a table as CSV atomically; NaN cells (no value) become empty fields."""
    write_csv(path, df)
    logger.info("wrote %s (%d rows)", path, len(df))
