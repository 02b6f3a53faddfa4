"""Image-text pairs in open_clip's CSV format (what ``open_clip_train --csv-separator '\\t'`` reads).

Tab-separated with the header ``filepath<TAB>title``; quoting follows the csv module (as pandas'
``read_csv(sep="\\t")`` does in open_clip). File paths are relative to the CSV's folder.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from vipant.datasets.columns import NONEMPTY, PATH, TEXT, Column, read_checked_csv
from vipant.datasets.common import OnError, PathLike

logger = logging.getLogger(__name__)

PAIRS_FIELDS = (Column("filepath", PATH), Column("title", TEXT, check=NONEMPTY))
COLUMNS = tuple(c.name for c in PAIRS_FIELDS)


def read_pairs(path: PathLike, *, on_error: OnError = "raise") -> pd.DataFrame:
    """Read an open_clip image-text CSV.

    Returns ``DataFrame[filepath:str, title:str, line:int]``: ``filepath`` is the member name checked by
    :func:`safe_member_path` and joined to the CSV's folder (an absolute-or-relative path as ``path``
    was given); titles are whitespace-normalised and non-empty. Files are not required to exist.
    """
    df = read_checked_csv(path, PAIRS_FIELDS, delimiter="\t", on_error=on_error)
    base = Path(path).parent
    df["filepath"] = pd.Series([str(base / name) for name in df["filepath"]], index=df.index, dtype="object")
    logger.info("%s: %d image-text pairs", df.attrs["source"], len(df))
    return df


__all__ = ["COLUMNS", "PAIRS_FIELDS", "read_pairs"]
