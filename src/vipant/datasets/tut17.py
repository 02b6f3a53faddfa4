"""TUT Acoustic Scenes 2017, development layout.

``meta.txt`` (no header, tab-separated)::

    audio/b020_90_100.wav<TAB>beach<TAB>b020

``evaluation_setup/fold{k}_train.txt`` and ``fold{k}_evaluate.txt`` hold ``file<TAB>scene``;
``fold{k}_test.txt`` holds the file only. Files are relative to the dataset folder. A clip's id is its
file name without folder and ``.wav`` (``b020_90_100``). Having no header, "wrong header" here means
a first line with the wrong number of fields.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Literal

import pandas as pd

from vipant.datasets.columns import (
    NONEMPTY,
    PATH,
    Column,
    Row,
    Rule,
    Unique,
    read_checked_csv,
)
from vipant.datasets.common import OnError, PathLike, file_clip_id, list_files

logger = logging.getLogger(__name__)

META_FIELDS = (Column("file", PATH), Column("scene", check=NONEMPTY), Column("recording_id", check=NONEMPTY))
META_COLUMNS = tuple(c.name for c in META_FIELDS)
FOLDS = range(1, 5)
Part = Literal["train", "evaluate", "test"]
_PART_COLUMNS: dict[str, tuple[Column, ...]] = {
    "train": META_FIELDS[:2],
    "evaluate": META_FIELDS[:2],
    "test": META_FIELDS[:1],
}
# a clip id drops the folder, so two listed files can share one
_UNIQUE = (Unique("file"), Unique("clip_id", "clip id"))


def _agrees_with(meta: pd.DataFrame) -> Rule:
    """Rule: a row's file is listed in ``meta`` (from :func:`read_meta`) and its scene, if any, agrees."""
    known = dict(zip(meta["file"].tolist(), meta["scene"].tolist()))

    def check(row: Row) -> str | None:
        if row["file"] not in known:
            return f"file {row['file']!r} is not in meta.txt"
        if "scene" in row and known[row["file"]] != row["scene"]:
            return f"scene {row['scene']!r} disagrees with meta.txt ({known[row['file']]!r})"
        return None

    return check


def _read_tsv(
    path: PathLike, columns: tuple[Column, ...], on_error: OnError, meta: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Read a headerless TUT list with ``columns``; optionally check files and scenes against ``meta``."""
    rules = _UNIQUE if meta is None else (_agrees_with(meta), *_UNIQUE)
    return read_checked_csv(
        path,
        columns,
        rules=rules,
        derive={"clip_id": lambda r: file_clip_id(r["file"])},
        on_error=on_error,
        header="none",
        delimiter="\t",
        quoting=csv.QUOTE_NONE,
        strip_fields=True,
        drop_trailing_empty=True,  # real TUT lists end some lines with a tab
    )


def read_meta(path: PathLike, *, on_error: OnError = "raise") -> pd.DataFrame:
    """Read ``meta.txt``: ``DataFrame[file:str, scene:str, recording_id:str, clip_id:str, line:int]``."""
    df = _read_tsv(path, META_FIELDS, on_error)
    logger.info("%s: %d clips, %d scenes", path, len(df), df["scene"].nunique())
    return df


def read_fold(
    setup_dir: PathLike, k: int, part: Part, *, on_error: OnError = "raise", meta: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Read ``setup_dir/fold{k}_{part}.txt`` (k in 1..4).

    Returns ``DataFrame[file, scene, clip_id, line]`` for train/evaluate and ``DataFrame[file, clip_id,
    line]`` for test. With ``meta`` (from :func:`read_meta`) files must be listed there and scenes agree.
    """
    if k not in FOLDS:
        raise ValueError(f"TUT17 fold must be in 1..4, not {k}")
    if part not in _PART_COLUMNS:
        raise ValueError(f"part must be one of {sorted(_PART_COLUMNS)}, not {part!r}")
    return _read_tsv(Path(setup_dir) / f"fold{k}_{part}.txt", _PART_COLUMNS[part], on_error, meta)


def list_audio(
    meta: pd.DataFrame, root: PathLike, *, on_error: OnError = "raise", source: PathLike | None = None
) -> pd.DataFrame:
    """``DataFrame[clip_id, path]`` for ``root/<file>`` (``root`` is the folder holding ``meta.txt``)."""
    return list_files(meta, meta["file"].tolist(), root, on_error=on_error, source=source)


__all__ = ["META_COLUMNS", "META_FIELDS", "read_meta", "read_fold", "list_audio"]
