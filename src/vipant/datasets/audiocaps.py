"""AudioCaps splits: ``train.csv``, ``val.csv``, ``test.csv``.

Header ``audiocap_id,youtube_id,start_time,caption``; captions may be quoted and contain commas::

    audiocap_id,youtube_id,start_time,caption
    91139,r1nicOVtvkQ,130,A woman talks nearby as water pours
    58146,UDGBjjwyaqE,20,"Multiple clanging and clanking sounds, then a man speaks"

Real AudioCaps is dirty (empty captions, odd ids): read it with ``on_error="skip"``. Several captions
share one clip (val/test have five), so only ``audiocap_id`` must be unique.
"""

from __future__ import annotations

import logging

import pandas as pd

from vipant.datasets.audioset import YTID, clip_id
from vipant.datasets.columns import (
    NON_NEGATIVE,
    NONEMPTY,
    TEXT,
    Column,
    Unique,
    read_checked_csv,
)
from vipant.datasets.common import OnError, PathLike, Skipped

logger = logging.getLogger(__name__)

SPLIT_FIELDS = (
    Column("audiocap_id", int),
    Column("youtube_id", check=YTID, dest="ytid"),
    Column("start_time", float, check=NON_NEGATIVE, dest="start"),
    Column("caption", TEXT, check=NONEMPTY),
)
COLUMNS = tuple(c.name for c in SPLIT_FIELDS)
_RULES = (Unique("audiocap_id"),)


def read_split(path: PathLike, *, on_error: OnError = "raise") -> tuple[pd.DataFrame, list[Skipped]]:
    """Read one AudioCaps split CSV.

    Returns ``(DataFrame[audiocap_id:int, ytid:str, start:float, caption:str, clip_id:str, line:int],
    skipped)``; captions are stripped and must be non-empty, ``audiocap_id`` unique, ``start >= 0``.
    """
    df = read_checked_csv(
        path,
        SPLIT_FIELDS,
        rules=_RULES,
        derive={"clip_id": lambda r: clip_id(r["ytid"], r["start"])},
        on_error=on_error,
    )
    logger.info("%s: %d captions of %d clips", df.attrs["source"], len(df), df["clip_id"].nunique())
    return df, list(df.attrs["skipped"])


__all__ = ["COLUMNS", "SPLIT_FIELDS", "read_split"]
