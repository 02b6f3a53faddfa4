"""ESC-50: ``meta/esc50.csv`` and the ``audio/`` folder.

Header ``filename,fold,target,category,esc10,src_file,take``::

    filename,fold,target,category,esc10,src_file,take
    1-100032-A-0.wav,1,0,dog,True,100032,A

An ESC-50 clip's id is its file name without ``.wav``.
"""

from __future__ import annotations

import logging

import pandas as pd

from vipant.datasets.columns import (
    NON_NEGATIVE,
    NONEMPTY,
    PATH,
    Column,
    OneToOne,
    Unique,
    in_range,
    read_checked_csv,
)
from vipant.datasets.common import OnError, PathLike, file_clip_id, list_files

logger = logging.getLogger(__name__)

FOLDS = range(1, 6)
META_FIELDS = (
    Column("filename", PATH),
    Column("fold", int, check=in_range(FOLDS[0], FOLDS[-1])),
    Column("target", int, check=NON_NEGATIVE),
    Column("category", check=NONEMPTY),
    Column("esc10", bool),
    Column("src_file"),
    Column("take"),
)
COLUMNS = tuple(c.name for c in META_FIELDS)
_RULES = (OneToOne("target", "category"), Unique("filename"))


def read_meta(path: PathLike, *, on_error: OnError = "raise") -> pd.DataFrame:
    """Read ``esc50.csv``.

    Returns ``DataFrame[filename:str, fold:int, target:int, category:str, esc10:bool, src_file:str,
    take:str, clip_id:str, line:int]``; fold in 1..5, ``esc10`` from ``True``/``False``, target and
    category one-to-one across rows, filenames safe and unique. Skipped rows: ``df.attrs["skipped"]``.
    """
    df = read_checked_csv(
        path, META_FIELDS, rules=_RULES, derive={"clip_id": lambda r: file_clip_id(r["filename"])}, on_error=on_error
    )
    logger.info("%s: %d clips, %d classes", df.attrs["source"], len(df), df["target"].nunique())
    return df


def list_audio(
    meta: pd.DataFrame, audio_dir: PathLike, *, on_error: OnError = "raise", source: PathLike | None = None
) -> pd.DataFrame:
    """``DataFrame[clip_id, path]`` for ``audio_dir/<filename>`` (ESC-50's ``audio/`` folder)."""
    return list_files(meta, meta["filename"].tolist(), audio_dir, on_error=on_error, source=source)


__all__ = ["COLUMNS", "META_FIELDS", "read_meta", "list_audio"]
