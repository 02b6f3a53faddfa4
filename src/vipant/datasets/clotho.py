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

from vipant.datasets.columns import (
    NONEMPTY,
    PATH,
    TEXT,
    Column,
    Unique,
    read_checked_csv,
)
from vipant.datasets.common import OnError, PathLike, file_clip_id, list_files

logger = logging.getLogger(__name__)

N_CAPTIONS = 5
_CAPTION_NAMES = tuple(f"caption_{i}" for i in range(1, N_CAPTIONS + 1))
# the five caption columns are returned as one tuple column, ``captions``
CAPTIONS_FIELDS = (
    Column("file_name", PATH),
    *(Column(name, TEXT, check=NONEMPTY, keep=False) for name in _CAPTION_NAMES),
)
COLUMNS = tuple(c.name for c in CAPTIONS_FIELDS)
_DERIVED = {
    "captions": lambda r: tuple(r[name] for name in _CAPTION_NAMES),
    "clip_id": lambda r: file_clip_id(r["file_name"]),
}
# two names can share a clip id ("a.wav", "a.flac"): both must be unique
_RULES = (Unique("file_name"), Unique("clip_id", "clip id"))


def read_captions(path: PathLike, *, on_error: OnError = "raise") -> pd.DataFrame:
    """Read a Clotho captions CSV.

    Returns ``DataFrame[file_name:str, captions:tuple[str x 5], clip_id:str, line:int]``. File names
    pass :func:`safe_member_path` and are unique; captions are whitespace-normalised and non-empty.
    Skipped rows (``on_error="skip"``) are in ``df.attrs["skipped"]``.
    """
    df = read_checked_csv(path, CAPTIONS_FIELDS, rules=_RULES, derive=_DERIVED, on_error=on_error)
    logger.info("%s: %d clips", df.attrs["source"], len(df))
    return df


def list_audio(
    captions_df: pd.DataFrame, audio_dir: PathLike, *, on_error: OnError = "raise", source: PathLike | None = None
) -> pd.DataFrame:
    """``DataFrame[clip_id, path]``: each listed wav under ``audio_dir``; a missing one names the csv."""
    return list_files(captions_df, captions_df["file_name"].tolist(), audio_dir, on_error=on_error, source=source)


__all__ = ["COLUMNS", "CAPTIONS_FIELDS", "read_captions", "list_audio"]
