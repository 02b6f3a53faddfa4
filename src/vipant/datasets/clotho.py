"""Clotho captions: ``clotho_captions_{development,evaluation}.csv`` and their wav folders.

Header ``file_name,caption_1,caption_2,caption_3,caption_4,caption_5``; file names are free text
with spaces (and sometimes commas, then quoted)::

    file_name,caption_1,caption_2,caption_3,caption_4,caption_5
    Distorted AM Radio noise.wav,A radio dial ...,"Static, then ...",...

A Clotho clip's id is its file name without ``.wav`` (:func:`vipant.datasets.common.file_clip_id`).
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
    read_text,
    safe_member_path,
)

logger = logging.getLogger(__name__)

N_CAPTIONS = 5
COLUMNS = ("file_name", *(f"caption_{i}" for i in range(1, N_CAPTIONS + 1)))


def read_captions(path: PathLike, *, on_error: OnError = "raise") -> pd.DataFrame:
    """Read a Clotho captions CSV.

    Returns ``DataFrame[file_name:str, captions:tuple[str x 5], clip_id:str, line:int]``. File names
    pass :func:`safe_member_path` and are unique; captions are whitespace-normalised and non-empty.
    Skipped rows (``on_error="skip"``) are in ``df.attrs["skipped"]``.
    """
    rows = RowCollector(path, on_error)
    p = rows.path
    it = iter_rows(p, read_text(p))
    first = next(it, None)
    if first is None:
        raise DatasetFormatError(p, 1, f"empty file; expected columns {','.join(COLUMNS)}")
    check_header(p, first[0], first[1], COLUMNS)
    names: list[str] = []
    captions: list[tuple[str, ...]] = []
    lines: list[int] = []
    for line, fields in it:
        try:
            if len(fields) != len(COLUMNS):
                raise rows.error(line, f"expected {len(COLUMNS)} fields ({','.join(COLUMNS)}), found {len(fields)}")
            name = safe_member_path(fields[0], path=p, line=line)
            caps = tuple(" ".join(c.split()) for c in fields[1:])
            for i, c in enumerate(caps, 1):
                if not c:
                    raise rows.error(line, f"empty caption_{i}")
            rows.check_unique(name, line, "file_name")
            rows.check_unique(file_clip_id(name), line, "clip id")
        except DatasetFormatError as e:
            rows.reject(e)
            continue
        names.append(name)
        captions.append(caps)
        lines.append(line)
    df = frame(
        {
            "file_name": (names, "object"),
            "captions": (captions, "object"),
            "clip_id": ([file_clip_id(n) for n in names], "object"),
            "line": (lines, "int64"),
        }
    )
    logger.info("%s: %d clips", p, len(df))
    return rows.finish(df)


def list_audio(
    captions_df: pd.DataFrame, audio_dir: PathLike, *, on_error: OnError = "raise", source: PathLike | None = None
) -> pd.DataFrame:
    """``DataFrame[clip_id, path]``: each listed wav under ``audio_dir``; a missing one names the csv."""
    return list_files(captions_df, captions_df["file_name"].tolist(), audio_dir, on_error=on_error, source=source)


__all__ = ["COLUMNS", "read_captions", "list_audio"]
