"""UrbanSound8K: ``metadata/UrbanSound8K.csv`` and ``audio/fold{1..10}/``.

Header ``slice_file_name,fsID,start,end,salience,fold,classID,class``::

    slice_file_name,fsID,start,end,salience,fold,classID,class
    100032-3-0-0.wav,100032,0.0,0.317551,1,5,3,dog_bark

An UrbanSound8K clip's id is its slice file name without ``.wav``.
"""

from __future__ import annotations

import logging

import pandas as pd

from vipant.datasets.columns import (
    NON_NEGATIVE,
    NONEMPTY,
    PATH,
    Check,
    Column,
    OneToOne,
    Unique,
    in_range,
    read_checked_csv,
    time_span,
)
from vipant.datasets.common import OnError, PathLike, file_clip_id, list_files

logger = logging.getLogger(__name__)

FOLDS = range(1, 11)
# list_audio puts each slice under audio/fold{fold}/ itself, so a folder in the name is an error
_NO_FOLDER = Check(lambda name, _row: "/" not in name, "{name} {value!r} must not contain a folder")
META_FIELDS = (
    Column("slice_file_name", PATH, check=_NO_FOLDER),
    Column("fsID", int),
    Column("start", float),
    Column("end", float, check=time_span("slice")),
    Column("salience", int),
    Column("fold", int, check=in_range(FOLDS[0], FOLDS[-1])),
    Column("classID", int, check=NON_NEGATIVE),
    Column("class", check=NONEMPTY),
)
COLUMNS = tuple(c.name for c in META_FIELDS)
_RULES = (OneToOne("classID", "class"), Unique("slice_file_name"))


def read_meta(path: PathLike, *, on_error: OnError = "raise") -> pd.DataFrame:
    """Read ``UrbanSound8K.csv``.

    Returns ``DataFrame[slice_file_name:str, fsID:int, start:float, end:float, salience:int, fold:int,
    classID:int, class:str, clip_id:str, line:int]``; fold in 1..10, ``0 <= start < end``, classID and
    class one-to-one across rows, file names plain (no folder) and unique.
    """
    df = read_checked_csv(
        path,
        META_FIELDS,
        rules=_RULES,
        derive={"clip_id": lambda r: file_clip_id(r["slice_file_name"])},
        on_error=on_error,
    )
    logger.info("%s: %d slices, %d classes", df.attrs["source"], len(df), df["classID"].nunique())
    return df


def list_audio(
    meta: pd.DataFrame, audio_root: PathLike, *, on_error: OnError = "raise", source: PathLike | None = None
) -> pd.DataFrame:
    """``DataFrame[clip_id, path]`` for ``audio_root/audio/fold{fold}/{slice_file_name}``.

    ``audio_root`` is the UrbanSound8K folder (the one holding ``audio/`` and ``metadata/``).
    """
    names = [f"audio/fold{f}/{n}" for f, n in zip(meta["fold"].tolist(), meta["slice_file_name"].tolist())]
    return list_files(meta, names, audio_root, on_error=on_error, source=source)


__all__ = ["COLUMNS", "META_FIELDS", "read_meta", "list_audio"]
