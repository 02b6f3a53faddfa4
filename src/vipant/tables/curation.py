"""Follow-up B (unsupervised curation, soft labels) Tables 2 and 3: zero-shot accuracy with the prompt of
the teachers and their students on ESC-50, US8K and TUT17, the paper's mean and std and chance beside
ours; DS/ADS students are trained per target task, so a row takes each column from another model."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from vipant.paper_values import paper_value
from vipant.registry import at_key, student_key
from vipant.tables.build import _round
from vipant.tables.metrics import MetricsFileError, MetricsRecord, PathLike, load_records

logger = logging.getLogger(__name__)

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


def _curation(
    name: str,
    records: Mapping[tuple[str, str], MetricsRecord],
    rows: tuple[tuple[str, str, str], ...],
    paper: Mapping[str, Mapping[str, Mapping[str, float]]],
) -> pd.DataFrame:
    """Zero-shot accuracy with the prompt per (row, task); the paper's mean and std and chance beside ours."""
    wanted = {
        (template.format(task=task.removesuffix("_zs")), task) for _, _, template in rows for _, task in CURATION_TASKS
    }
    for model, task in sorted(set(records) - wanted):
        logger.warning("%s: model %r (%s) is not a cell of this table; ignored", name, model, records[model, task].path)
    table: list[dict[str, Any]] = []
    for key, label, template in rows:
        found = {
            task: records.get((template.format(task=task.removesuffix("_zs")), task)) for _, task in CURATION_TASKS
        }
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
