"""ESC-50: ``meta/esc50.csv`` and the ``audio/`` folder.

Header ``filename,fold,target,category,esc10,src_file,take``::

    filename,fold,target,category,esc10,src_file,take
    1-100032-A-0.wav,1,0,dog,True,100032,A

An ESC-50 clip's id is its file name without ``.wav``.
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
    parse_int,
    read_text,
    safe_member_path,
)

logger = logging.getLogger(__name__)

COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")
FOLDS = range(1, 6)


def check_label_map(
    rows: RowCollector, line: int, code: int, name: str, by_code: dict[int, tuple[str, int]],
    by_name: dict[str, tuple[int, int]], code_col: str, name_col: str,
) -> None:
    """Raise unless ``code <-> name`` agrees with the rows accepted so far (names the first line)."""
    if code in by_code and by_code[code][0] != name:
        seen, at = by_code[code]
        raise rows.error(line, f"{code_col} {code} is {name!r} here but {seen!r} on line {at}")
    if name in by_name and by_name[name][0] != code:
        seen_code, at = by_name[name]
        raise rows.error(line, f"{name_col} {name!r} has {code_col} {code} here but {seen_code} on line {at}")


def read_meta(path: PathLike, *, on_error: OnError = "raise") -> pd.DataFrame:
    """Read ``esc50.csv``.

    Returns ``DataFrame[filename:str, fold:int, target:int, category:str, esc10:bool, src_file:str,
    take:str, clip_id:str, line:int]``; fold in 1..5, ``esc10`` from ``True``/``False``, target and
    category one-to-one across rows, filenames safe and unique. Skipped rows: ``df.attrs["skipped"]``.
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
            filename = safe_member_path(fields[0], path=p, line=line)
            fold = parse_int(fields[1], "fold", rows, line)
            if fold not in FOLDS:
                raise rows.error(line, f"fold {fold} not in 1..5")
            target = parse_int(fields[2], "target", rows, line)
            if target < 0:
                raise rows.error(line, f"negative target {target}")
            category = fields[3].strip()
            if not category:
                raise rows.error(line, "empty category")
            esc10_text = fields[4].strip()
            if esc10_text not in ("True", "False"):
                raise rows.error(line, f"esc10 {esc10_text!r} is not True/False")
            check_label_map(rows, line, target, category, by_code, by_name, "target", "category")
            rows.check_unique(filename, line, "filename")
        except DatasetFormatError as e:
            rows.reject(e)
            continue
        by_code.setdefault(target, (category, line))
        by_name.setdefault(category, (target, line))
        for col, value in zip(
            (*COLUMNS, "line"),
            (filename, fold, target, category, esc10_text == "True", fields[5].strip(), fields[6].strip(), line),
        ):
            out[col].append(value)
    df = frame(
        {
            "filename": (out["filename"], "object"),
            "fold": (out["fold"], "int64"),
            "target": (out["target"], "int64"),
            "category": (out["category"], "object"),
            "esc10": (out["esc10"], "bool"),
            "src_file": (out["src_file"], "object"),
            "take": (out["take"], "object"),
            "clip_id": ([file_clip_id(n) for n in out["filename"]], "object"),
            "line": (out["line"], "int64"),
        }
    )
    logger.info("%s: %d clips, %d classes", p, len(df), df["target"].nunique())
    return rows.finish(df)


def list_audio(
    meta: pd.DataFrame, audio_dir: PathLike, *, on_error: OnError = "raise", source: PathLike | None = None
) -> pd.DataFrame:
    """``DataFrame[clip_id, path]`` for ``audio_dir/<filename>`` (ESC-50's ``audio/`` folder)."""
    return list_files(meta, meta["filename"].tolist(), audio_dir, on_error=on_error, source=source)


__all__ = ["COLUMNS", "read_meta", "list_audio"]
