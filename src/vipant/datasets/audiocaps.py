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

from vipant.datasets.audioset import check_ytid, clip_id
from vipant.datasets.common import (
    DatasetFormatError,
    OnError,
    PathLike,
    RowCollector,
    Skipped,
    check_header,
    frame,
    iter_rows,
    parse_float,
    parse_int,
    read_text,
)

logger = logging.getLogger(__name__)

COLUMNS = ("audiocap_id", "youtube_id", "start_time", "caption")


def read_split(path: PathLike, *, on_error: OnError = "raise") -> tuple[pd.DataFrame, list[Skipped]]:
    """Read one AudioCaps split CSV.

    Returns ``(DataFrame[audiocap_id:int, ytid:str, start:float, caption:str, clip_id:str, line:int],
    skipped)``; captions are stripped and must be non-empty, ``audiocap_id`` unique, ``start >= 0``.
    """
    rows = RowCollector(path, on_error)
    p = rows.path
    it = iter_rows(p, read_text(p))
    first = next(it, None)
    if first is None:
        raise DatasetFormatError(p, 1, f"empty file; expected columns {','.join(COLUMNS)}")
    check_header(p, first[0], first[1], COLUMNS)
    ids: list[int] = []
    ytids: list[str] = []
    starts: list[float] = []
    captions: list[str] = []
    lines: list[int] = []
    for line, fields in it:
        try:
            if len(fields) != 4:
                raise rows.error(line, f"expected 4 fields ({','.join(COLUMNS)}), found {len(fields)}")
            cap_id = parse_int(fields[0], "audiocap_id", rows, line)
            ytid = check_ytid(fields[1].strip(), rows, line)
            start = parse_float(fields[2], "start_time", rows, line)
            if start < 0:
                raise rows.error(line, f"negative start_time {start}")
            caption = " ".join(fields[3].split())
            if not caption:
                raise rows.error(line, "empty caption")
            rows.check_unique(cap_id, line, "audiocap_id")
        except DatasetFormatError as e:
            rows.reject(e)
            continue
        ids.append(cap_id)
        ytids.append(ytid)
        starts.append(start)
        captions.append(caption)
        lines.append(line)
    df = frame(
        {
            "audiocap_id": (ids, "int64"),
            "ytid": (ytids, "object"),
            "start": (starts, "float64"),
            "caption": (captions, "object"),
            "clip_id": ([clip_id(y, s) for y, s in zip(ytids, starts)], "object"),
            "line": (lines, "int64"),
        }
    )
    logger.info("%s: %d captions of %d clips", p, len(df), df["clip_id"].nunique())
    return rows.finish(df), rows.skipped


__all__ = ["COLUMNS", "read_split"]
