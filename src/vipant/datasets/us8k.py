"""UrbanSound8K: ``metadata/UrbanSound8K.csv`` and ``audio/fold{1..10}/``.

Header ``slice_file_name,fsID,start,end,salience,fold,classID,class``::

    slice_file_name,fsID,start,end,salience,fold,classID,class
    100032-3-0-0.wav,100032,0.0,0.317551,1,5,3,dog_bark

An UrbanSound8K clip's id is its slice file name without ``.wav``.
"""

from __future__ import annotations

import logging

import pandas as pd

from vipant.datasets.common import (
    DatasetFormatError,
    OnError,
    PathLike,
    RowCollector,
    check_header,
    file_clip_id,
    frame,
    iter_rows,
    list_files,
    parse_float,
    parse_int,
    read_text,
    safe_member_path,
)
from vipant.datasets.esc50 import check_label_map

logger = logging.getLogger(__name__)

COLUMNS = ("slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class")
FOLDS = range(1, 11)


def read_meta(path: PathLike, *, on_error: OnError = "raise") -> pd.DataFrame:
    """Read ``UrbanSound8K.csv``.

    Returns ``DataFrame[slice_file_name:str, fsID:int, start:float, end:float, salience:int, fold:int,
    classID:int, class:str, clip_id:str, line:int]``; fold in 1..10, ``0 <= start < end``, classID and
    class one-to-one across rows, file names plain (no folder) and unique.
    """
    rows = RowCollector(path, on_error)
    p = rows.path
    it = iter_rows(p, read_text(p))
    first = next(it, None)
    if first is None:
        raise DatasetFormatError(p, 1, f"empty file; expected columns {','.join(COLUMNS)}")
    check_header(p, first[0], first[1], COLUMNS)
    out: dict[str, list] = {c: [] for c in (*COLUMNS, "line")}
    by_code: dict[int, tuple[str, int]] = {}
    by_name: dict[str, tuple[int, int]] = {}
    for line, fields in it:
        try:
            if len(fields) != len(COLUMNS):
                raise rows.error(line, f"expected {len(COLUMNS)} fields ({','.join(COLUMNS)}), found {len(fields)}")
            name = safe_member_path(fields[0], path=p, line=line)
            if "/" in name:
                raise rows.error(line, f"slice_file_name {name!r} must not contain a folder")
            fs_id = parse_int(fields[1], "fsID", rows, line)
            start = parse_float(fields[2], "start", rows, line)
            end = parse_float(fields[3], "end", rows, line)
            if start < 0 or end <= start:
                raise rows.error(line, f"bad slice times start={start} end={end} (want 0 <= start < end)")
            salience = parse_int(fields[4], "salience", rows, line)
            fold = parse_int(fields[5], "fold", rows, line)
            if fold not in FOLDS:
                raise rows.error(line, f"fold {fold} not in 1..10")
            class_id = parse_int(fields[6], "classID", rows, line)
            if class_id < 0:
                raise rows.error(line, f"negative classID {class_id}")
            cls = fields[7].strip()
            if not cls:
                raise rows.error(line, "empty class")
            check_label_map(rows, line, class_id, cls, by_code, by_name, "classID", "class")
            rows.check_unique(name, line, "slice_file_name")
        except DatasetFormatError as e:
            rows.reject(e)
            continue
        by_code.setdefault(class_id, (cls, line))
        by_name.setdefault(cls, (class_id, line))
        for col, value in zip((*COLUMNS, "line"), (name, fs_id, start, end, salience, fold, class_id, cls, line)):
            out[col].append(value)
    df = frame(
        {
            "slice_file_name": (out["slice_file_name"], "object"),
            "fsID": (out["fsID"], "int64"),
            "start": (out["start"], "float64"),
            "end": (out["end"], "float64"),
            "salience": (out["salience"], "int64"),
            "fold": (out["fold"], "int64"),
            "classID": (out["classID"], "int64"),
            "class": (out["class"], "object"),
            "clip_id": ([file_clip_id(n) for n in out["slice_file_name"]], "object"),
            "line": (out["line"], "int64"),
        }
    )
    logger.info("%s: %d slices, %d classes", p, len(df), df["classID"].nunique())
    return rows.finish(df)


def list_audio(
    meta: pd.DataFrame, audio_root: PathLike, *, on_error: OnError = "raise", source: PathLike | None = None
) -> pd.DataFrame:
    """``DataFrame[clip_id, path]`` for ``audio_root/audio/fold{fold}/{slice_file_name}``.

    ``audio_root`` is the UrbanSound8K folder (the one holding ``audio/`` and ``metadata/``).
    """
    names = [f"audio/fold{f}/{n}" for f, n in zip(meta["fold"].tolist(), meta["slice_file_name"].tolist())]
    return list_files(meta, names, audio_root, on_error=on_error, source=source)


__all__ = ["COLUMNS", "read_meta", "list_audio"]
