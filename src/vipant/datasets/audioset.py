"""AudioSet metadata: segment CSVs, ``class_labels_indices.csv`` and ``ontology.json``.

Segment files (``balanced_train_segments.csv``, ``unbalanced_train_segments.csv``,
``eval_segments.csv``) open with ``#`` comment lines, the last of which names the columns::

    # Segments csv created Sun Mar  5 10:54:31 2017
    # num_ytids=22160, num_segs=22160, num_unique_labels=527, num_positive_labels=52882
    # YTID, start_seconds, end_seconds, positive_labels
    --4gqARaEJE, 0.000, 10.000, "/m/068hy,/m/07q6cd_,/m/0bt9lr,/m/0jbk"

The project-wide id of a YouTube segment clip is :func:`clip_id` (``"{ytid}_{start in ms}"``).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Collection

import pandas as pd

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
    require_file,
)

logger = logging.getLogger(__name__)

SEGMENT_COLUMNS = ("YTID", "start_seconds", "end_seconds", "positive_labels")
CLASS_INDEX_COLUMNS = ("index", "mid", "display_name")
YTID_RE = re.compile(r"[A-Za-z0-9_-]{11}")
MID_RE = re.compile(r"/[a-z]/[A-Za-z0-9_]+")


def clip_id(ytid: str, start: float) -> str:
    """Project-wide clip id of a YouTube segment: ``f"{ytid}_{round(start * 1000)}"``.

    ``start`` is in seconds; the id uses whole milliseconds, so ``("--4gqARaEJE", 30.0)`` gives
    ``"--4gqARaEJE_30000"``. AudioSet, AudioCaps and the synthetic world all name clips this way.
    """
    return f"{ytid}_{round(start * 1000)}"


def check_ytid(ytid: str, rows: RowCollector, line: int) -> str:
    """Return ``ytid`` if it is 11 characters of ``[A-Za-z0-9_-]``, else raise naming the line."""
    if not YTID_RE.fullmatch(ytid):
        raise rows.error(line, f"bad YouTube id {ytid!r} (want 11 characters of [A-Za-z0-9_-])")
    return ytid


def read_segments(
    path: PathLike, *, on_error: OnError = "raise", known_mids: Collection[str] | None = None
) -> tuple[pd.DataFrame, list[Skipped]]:
    """Read an AudioSet segment CSV.

    Returns ``(DataFrame[ytid:str, start:float, end:float, labels:tuple[str, ...], clip_id:str,
    line:int], skipped)``. Rows must have 4 fields, numeric times with ``0 <= start < end``, a valid
    YouTube id, a non-empty label list (of ``known_mids`` when given) and a unique ``(ytid, start)``.
    """
    rows = RowCollector(path, on_error)
    p = rows.path
    known = frozenset(known_mids) if known_mids is not None else None
    text = read_text(p)
    ytids: list[str] = []
    starts: list[float] = []
    ends: list[float] = []
    labels: list[tuple[str, ...]] = []
    lines: list[int] = []
    header_seen = False
    last_comment: int | None = None
    for line, fields in iter_rows(p, text, skipinitialspace=True):
        if fields[0].lstrip().startswith("#"):
            if not header_seen:
                last_comment = line
                first = fields[0].lstrip()[1:].strip()
                header_seen = [first, *(f.strip() for f in fields[1:])] == list(SEGMENT_COLUMNS)
            continue
        if not header_seen:
            raise DatasetFormatError(
                p,
                last_comment or 1,
                f"missing the column comment '# {', '.join(SEGMENT_COLUMNS)}' before the first row "
                f"(expected columns {','.join(SEGMENT_COLUMNS)})",
            )
        try:
            if len(fields) != 4:
                raise rows.error(line, f"expected 4 fields ({', '.join(SEGMENT_COLUMNS)}), found {len(fields)}")
            ytid = check_ytid(fields[0].strip(), rows, line)
            start = parse_float(fields[1], "start_seconds", rows, line)
            end = parse_float(fields[2], "end_seconds", rows, line)
            if start < 0 or end <= start:
                raise rows.error(line, f"bad segment times start={start} end={end} (want 0 <= start < end)")
            mids = tuple(m.strip() for m in fields[3].split(","))
            if not fields[3].strip() or any(not m for m in mids):
                raise rows.error(line, f"empty label in positive_labels {fields[3]!r}")
            for m in mids:
                if known is not None and m not in known:
                    raise rows.error(line, f"unknown label {m!r}")
            if len(set(mids)) != len(mids):
                raise rows.error(line, f"repeated label in positive_labels {fields[3]!r}")
            rows.check_unique((ytid, start), line, "segment (ytid, start)")
        except DatasetFormatError as e:
            rows.reject(e)
            continue
        ytids.append(ytid)
        starts.append(start)
        ends.append(end)
        labels.append(mids)
        lines.append(line)
    if not header_seen:
        raise DatasetFormatError(
            p, last_comment or 1, f"missing the column comment '# {', '.join(SEGMENT_COLUMNS)}'"
        )
    df = frame(
        {
            "ytid": (ytids, "object"),
            "start": (starts, "float64"),
            "end": (ends, "float64"),
            "labels": (labels, "object"),
            "clip_id": ([clip_id(y, s) for y, s in zip(ytids, starts)], "object"),
            "line": (lines, "int64"),
        }
    )
    logger.info("%s: %d segments", p, len(df))
    return rows.finish(df), rows.skipped


def read_class_indices(path: PathLike, *, on_error: OnError = "raise") -> pd.DataFrame:
    """Read ``class_labels_indices.csv`` (``index,mid,display_name``; names may be quoted).

    Returns ``DataFrame[index:int, mid:str, display_name:str, line:int]``; indices and mids are unique.
    """
    rows = RowCollector(path, on_error)
    p = rows.path
    it = iter_rows(p, read_text(p))
    first = next(it, None)
    if first is None:
        raise DatasetFormatError(p, 1, f"empty file; expected columns {','.join(CLASS_INDEX_COLUMNS)}")
    check_header(p, first[0], first[1], CLASS_INDEX_COLUMNS)
    indices: list[int] = []
    mids: list[str] = []
    names: list[str] = []
    lines: list[int] = []
    seen_mid: dict[str, int] = {}
    for line, fields in it:
        try:
            if len(fields) != 3:
                raise rows.error(line, f"expected 3 fields ({','.join(CLASS_INDEX_COLUMNS)}), found {len(fields)}")
            index = parse_int(fields[0], "index", rows, line)
            mid = fields[1].strip()
            name = fields[2].strip()
            if not MID_RE.fullmatch(mid):
                raise rows.error(line, f"bad mid {mid!r}")
            if not name:
                raise rows.error(line, "empty display_name")
            if mid in seen_mid:
                raise rows.error(line, f"duplicate mid {mid!r} (first on line {seen_mid[mid]})")
            rows.check_unique(index, line, "index")
            seen_mid[mid] = line
        except DatasetFormatError as e:
            rows.reject(e)
            continue
        indices.append(index)
        mids.append(mid)
        names.append(name)
        lines.append(line)
    df = frame(
        {
            "index": (indices, "int64"),
            "mid": (mids, "object"),
            "display_name": (names, "object"),
            "line": (lines, "int64"),
        }
    )
    return rows.finish(df)


def _id_line(text: str, eid: Any, nth: int = 1) -> int | None:
    """Physical line of the ``nth`` ``"id": "<eid>"`` in a JSON text (None when not found)."""
    if not isinstance(eid, str):
        return None
    pos = -1
    for _ in range(nth):
        m = re.compile(r'"id"\s*:\s*' + re.escape(json.dumps(eid))).search(text, pos + 1)
        if m is None:
            return None
        pos = m.start()
    return text.count("\n", 0, pos) + 1


def read_ontology(path: PathLike) -> dict[str, dict[str, Any]]:
    """Read ``ontology.json``: a JSON list of ``{id, name, description, child_ids, ...}``.

    Returns ``{id: entry}`` (entries as in the file). Ids must be unique and every child id must
    exist. Errors name the file and, where the entry's ``"id"`` can be found in the text, its line.
    """
    p = require_file(path)
    text = read_text(p)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DatasetFormatError(p, e.lineno, f"invalid JSON ({e.msg})") from None
    if not isinstance(data, list):
        raise DatasetFormatError(p, 1, "expected a JSON list of ontology entries")
    out: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise DatasetFormatError(p, None, f"entry #{i} is not an object")
        eid = entry.get("id")
        missing = [k for k in ("id", "name", "child_ids") if k not in entry]
        if missing:
            raise DatasetFormatError(p, _id_line(text, eid), f"entry #{i} lacks {', '.join(missing)}")
        if not isinstance(eid, str) or not MID_RE.fullmatch(eid):
            raise DatasetFormatError(p, _id_line(text, eid), f"entry #{i} has a bad id {eid!r}")
        if not isinstance(entry["child_ids"], list) or not all(isinstance(c, str) for c in entry["child_ids"]):
            raise DatasetFormatError(p, _id_line(text, eid), f"entry {eid!r}: child_ids is not a list of ids")
        if eid in out:
            raise DatasetFormatError(
                p, _id_line(text, eid, 2), f"duplicate id {eid!r} (first on line {_id_line(text, eid)})"
            )
        out[eid] = entry
    for eid, entry in out.items():
        for child in entry["child_ids"]:
            if child not in out:
                raise DatasetFormatError(p, _id_line(text, eid), f"entry {eid!r} names unknown child id {child!r}")
    logger.info("%s: %d ontology entries", p, len(out))
    return out


__all__ = [
    "SEGMENT_COLUMNS",
    "CLASS_INDEX_COLUMNS",
    "clip_id",
    "read_segments",
    "read_class_indices",
    "read_ontology",
]
