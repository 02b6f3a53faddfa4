"""Image-text pairs in open_clip's CSV format (what ``open_clip_train --csv-separator '\\t'`` reads).

Tab-separated with the header ``filepath<TAB>title``; quoting follows the csv module (as pandas'
``read_csv(sep="\\t")`` does in open_clip). File paths are relative to the CSV's folder.
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
    frame,
    iter_rows,
    read_text,
    safe_member_path,
)

logger = logging.getLogger(__name__)

COLUMNS = ("filepath", "title")


def read_pairs(path: PathLike, *, on_error: OnError = "raise") -> pd.DataFrame:
    """Read an open_clip image-text CSV.

    Returns ``DataFrame[filepath:str, title:str, line:int]``: ``filepath`` is the member name checked by
    :func:`safe_member_path` and joined to the CSV's folder (an absolute-or-relative path as ``path``
    was given); titles are whitespace-normalised and non-empty. Files are not required to exist.
    """
    rows = RowCollector(path, on_error)
    p = rows.path
    it = iter_rows(p, read_text(p), delimiter="\t")
    first = next(it, None)
    if first is None:
        raise DatasetFormatError(p, 1, f"empty file; expected tab-separated columns {', '.join(COLUMNS)}")
    check_header(p, first[0], first[1], COLUMNS)
    base = p.parent
    paths: list[str] = []
    titles: list[str] = []
    lines: list[int] = []
    for line, fields in it:
        try:
            if len(fields) != 2:
                raise rows.error(line, f"expected 2 tab-separated fields (filepath, title), found {len(fields)}")
            name = safe_member_path(fields[0], path=p, line=line)
            title = " ".join(fields[1].split())
            if not title:
                raise rows.error(line, "empty title")
        except DatasetFormatError as e:
            rows.reject(e)
            continue
        paths.append(str(base / name))
        titles.append(title)
        lines.append(line)
    df = frame({"filepath": (paths, "object"), "title": (titles, "object"), "line": (lines, "int64")})
    logger.info("%s: %d image-text pairs", p, len(df))
    return rows.finish(df)


__all__ = ["COLUMNS", "read_pairs"]
