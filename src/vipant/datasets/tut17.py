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

from vipant.datasets.common import (
    DatasetFormatError,
    OnError,
    PathLike,
    RowCollector,
    file_clip_id,
    frame,
    iter_rows,
    list_files,
    read_text,
    safe_member_path,
)

logger = logging.getLogger(__name__)

META_COLUMNS = ("file", "scene", "recording_id")
FOLDS = range(1, 5)
Part = Literal["train", "evaluate", "test"]
_PART_COLUMNS: dict[str, tuple[str, ...]] = {
    "train": ("file", "scene"),
    "evaluate": ("file", "scene"),
    "test": ("file",),
}


def _read_tsv(
    path: PathLike, columns: tuple[str, ...], on_error: OnError, meta: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Read a headerless TUT list with ``columns``; optionally check files and scenes against ``meta``."""
    rows = RowCollector(path, on_error)
    p = rows.path
    known: dict[str, str] = {}
    if meta is not None:
        known = dict(zip(meta["file"].tolist(), meta["scene"].tolist()))
    out: dict[str, list] = {c: [] for c in (*columns, "line")}
    first_row = True
    for line, fields in iter_rows(p, read_text(p), delimiter="\t", quoting=csv.QUOTE_NONE):
        while len(fields) > len(columns) and fields[-1].strip() == "":
            fields = fields[:-1]  # tolerate trailing tabs
        if first_row and len(fields) != len(columns):
            raise DatasetFormatError(
                p, line, f"expected {len(columns)} tab-separated columns ({', '.join(columns)}), found {len(fields)}"
            )
        first_row = False
        try:
            if len(fields) != len(columns):
                raise rows.error(line, f"expected {len(columns)} tab-separated fields ({', '.join(columns)}), found {len(fields)}")
            values = [safe_member_path(fields[0].strip(), path=p, line=line), *(f.strip() for f in fields[1:])]
            for col, v in zip(columns[1:], values[1:]):
                if not v:
                    raise rows.error(line, f"empty {col}")
            if meta is not None:
                if values[0] not in known:
                    raise rows.error(line, f"file {values[0]!r} is not in meta.txt")
                if "scene" in columns and known[values[0]] != values[1]:
                    raise rows.error(line, f"scene {values[1]!r} disagrees with meta.txt ({known[values[0]]!r})")
            rows.check_unique(values[0], line, "file")
            rows.check_unique(file_clip_id(values[0]), line, "clip id")
        except DatasetFormatError as e:
            rows.reject(e)
            continue
        for col, v in zip(columns, values):
            out[col].append(v)
        out["line"].append(line)
    spec = {c: (out[c], "object") for c in columns}
    spec["clip_id"] = ([file_clip_id(f) for f in out["file"]], "object")
    spec["line"] = (out["line"], "int64")
    return rows.finish(frame(spec))


def read_meta(path: PathLike, *, on_error: OnError = "raise") -> pd.DataFrame:
    """Read ``meta.txt``: ``DataFrame[file:str, scene:str, recording_id:str, clip_id:str, line:int]``."""
    df = _read_tsv(path, META_COLUMNS, on_error)
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


__all__ = ["META_COLUMNS", "read_meta", "read_fold", "list_audio"]
