"""Result tables built only from ``metrics.json`` files, our numbers beside the paper's.

Every evaluation job writes one ``metrics.json`` per (model, task)::

    {"model": "at_AC", "task": "audiocaps_retrieval",
     "metrics": {"t2a_R@1": 9.1, ...}, "chance": {"t2a_R@1": 0.1, ...}, "n": 975,
     "p_vs_chance": {"t2a_R@1": 0.005, ...}}   # optional: permutation p-values (evaluate --permutations)

Tables never read checkpoints or embeddings, so a table is exactly as fresh as the files it is given,
and a missing or incomplete file is an error that names it rather than a silently empty cell. Cells are
empty (NaN, written as an empty CSV field) only where a model has no file for that task or the paper
reports no number. Values are rounded to one decimal like the paper.

The package, by part:

* :mod:`~vipant.tables.metrics`: reading, validating and writing metrics.json files.
* :mod:`~vipant.tables.build`: :class:`Column` and the generic row builder.
* :mod:`~vipant.tables.vip_ant`: vip-AnT Tables 3, 4, 8, 7 and the VAT vs. AT table.
* :mod:`~vipant.tables.temporal`: follow-up A Tables III and IV (mean ± std over seeds).
* :mod:`~vipant.tables.curation`: follow-up B Tables 2 and 3.

``TABLES`` (here) maps each table's name to the function that builds it; :func:`build_table` looks it up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import pandas as pd

from vipant.atomic import write_csv
from vipant.tables.build import Column
from vipant.tables.curation import (
    CURATION_TABLE2_ROWS,
    CURATION_TABLE3_ROWS,
    CURATION_TASKS,
    curation_table2,
    curation_table3,
)
from vipant.tables.metrics import (
    MetricsFileError,
    MetricsRecord,
    PathLike,
    load_records,
    read_metrics,
    write_metrics,
)
from vipant.tables.temporal import temporal_table3, temporal_table4
from vipant.tables.vip_ant import (
    TABLE3_ROWS,
    TABLE4_ROWS,
    TABLE7_ROWS,
    TABLE8_ROWS,
    TABLE_VAT_CURATIONS,
    TABLE_VAT_ROWS,
    table3,
    table3_columns,
    table4,
    table4_columns,
    table7,
    table7_columns,
    table8,
    table8_columns,
    table_vat,
)

__all__ = [
    "CURATION_TABLE2_ROWS",
    "CURATION_TABLE3_ROWS",
    "CURATION_TASKS",
    "TABLE3_ROWS",
    "TABLE4_ROWS",
    "TABLE7_ROWS",
    "TABLE8_ROWS",
    "TABLES",
    "TABLE_VAT_CURATIONS",
    "TABLE_VAT_ROWS",
    "Column",
    "MetricsFileError",
    "MetricsRecord",
    "PathLike",
    "build_table",
    "curation_table2",
    "curation_table3",
    "load_records",
    "read_metrics",
    "table3",
    "table3_columns",
    "table4",
    "table4_columns",
    "table7",
    "table7_columns",
    "table8",
    "table8_columns",
    "table_vat",
    "temporal_table3",
    "temporal_table4",
    "write_metrics",
    "write_table",
]

logger = logging.getLogger(__name__)

TABLES = {
    "table3": table3,
    "table4": table4,
    "temporal_table3": temporal_table3,
    "temporal_table4": temporal_table4,
    "table8": table8,
    "curation_table2": curation_table2,
    "curation_table3": curation_table3,
    "table7": table7,
    "table_vat": table_vat,
}


#: Tables whose rows may read another model's scores (follow-up A runs identical to vip-AnT, vipant.registry).
ALIASED_TABLES = ("temporal_table3", "temporal_table4")


def build_table(name: str, metrics_paths: Iterable[PathLike], aliases: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Build the results table ``name`` (a key of ``TABLES``: table3, temporal_table4, curation_table2, ...).
    ``aliases`` (key -> model, :func:`~vipant.tables.metrics.load_records`) only for ``ALIASED_TABLES``."""
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; known: {sorted(TABLES)}")
    if aliases and name not in ALIASED_TABLES:
        raise ValueError(f"table {name!r} takes no model aliases (only {', '.join(ALIASED_TABLES)})")
    if aliases:
        return TABLES[name](list(metrics_paths), aliases)
    return TABLES[name](list(metrics_paths))


def write_table(path: PathLike, df: pd.DataFrame) -> None:
    """Write a table as CSV atomically; NaN cells (no value) become empty fields."""
    write_csv(path, df)
    logger.info("wrote %s (%d rows)", path, len(df))
