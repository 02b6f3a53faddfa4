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

from vipant.datasets.columns import (
    NONEMPTY,
    BadValue,
    Column,
    Kind,
    Unique,
    matches,
    read_checked_csv,
    time_span,
)
from vipant.datasets.common import (
    DatasetFormatError,
    OnError,
    PathLike,
    Skipped,
    read_text,
    require_file,
)

logger = logging.getLogger(__name__)

YTID_RE = re.compile(r"[A-Za-z0-9_-]{11}")
MID_RE = re.compile(r"/[a-z]/[A-Za-z0-9_]+")
YTID = matches(YTID_RE, "bad YouTube id {value!r} (want 11 characters of [A-Za-z0-9_-])")
"""Check of a YouTube id column (also used by AudioCaps)."""
CLASS_INDEX_FIELDS = (
    Column("index", int),
    Column("mid", check=matches(MID_RE, "bad mid {value!r}")),
    Column("display_name", check=NONEMPTY),
)
CLASS_INDEX_COLUMNS = tuple(c.name for c in CLASS_INDEX_FIELDS)
_CLASS_INDEX_RULES = (Unique("mid"), Unique("index"))


def clip_id(ytid: str, start: float) -> str:
    """Project-wide clip id of a YouTube segment: ``f"{ytid}_{round(start * 1000)}"``.

    ``start`` is in seconds; the id uses whole milliseconds, so ``("--4gqARaEJE", 30.0)`` gives
    ``"--4gqARaEJE_30000"``. AudioSet, AudioCaps and the synthetic world all name clips this way.
    """
    return f"{ytid}_{round(start * 1000)}"


def _label_list(known: frozenset[str] | None) -> Kind:
    """Kind of ``positive_labels``: a tuple of distinct mids (of ``known`` when given)."""

    def parse(text: str, name: str) -> tuple[str, ...]:
        mids = tuple(m.strip() for m in text.split(","))
        if not text.strip() or any(not m for m in mids):
            raise BadValue(f"empty label in {name} {text!r}")
        for m in mids:
            if known is not None and m not in known:
                raise BadValue(f"unknown label {m!r}")
        if len(set(mids)) != len(mids):
            raise BadValue(f"repeated label in {name} {text!r}")
        return mids

    return Kind("label list", parse)


def segment_fields(known_mids: Collection[str] | None = None) -> tuple[Column, ...]:
    """Columns of a segment CSV; labels must be in ``known_mids`` when given."""
    known = frozenset(known_mids) if known_mids is not None else None
    return (
        Column("YTID", check=YTID, dest="ytid"),
        Column("start_seconds", float, dest="start"),
        Column("end_seconds", float, check=time_span("segment"), dest="end"),
        Column("positive_labels", _label_list(known), dest="labels"),
    )


SEGMENT_COLUMNS = tuple(c.name for c in segment_fields())
_SEGMENT_RULES = (Unique(("ytid", "start"), "segment (ytid, start)"),)


def read_segments(
    path: PathLike, *, on_error: OnError = "raise", known_mids: Collection[str] | None = None
) -> tuple[pd.DataFrame, list[Skipped]]:
    """Read an AudioSet segment CSV.

    Returns ``(DataFrame[ytid:str, start:float, end:float, labels:tuple[str, ...], clip_id:str,
    line:int], skipped)``. Rows must have 4 fields, numeric times with ``0 <= start < end``, a valid
    YouTube id, a non-empty label list (of ``known_mids`` when given) and a unique ``(ytid, start)``.
    """
    df = read_checked_csv(
        path,
        segment_fields(known_mids),
        rules=_SEGMENT_RULES,
        derive={"clip_id": lambda r: clip_id(r["ytid"], r["start"])},
        on_error=on_error,
        header="comment",
        skipinitialspace=True,  # rows are written "a, b, c"
    )
    logger.info("%s: %d segments", df.attrs["source"], len(df))
    return df, list(df.attrs["skipped"])


def read_clip_labels(path: PathLike) -> dict[str, tuple[str, ...]]:
    """The AudioSet label set of each downloaded clip, from the download manifest (``youtube_clips.csv``:
    ``clip_id``, ``labels`` as comma-separated mids); rows keep their file order."""
    table = pd.read_csv(require_file(path), dtype=str, keep_default_na=False)
    missing = {"clip_id", "labels"} - set(table.columns)
    if missing:
        raise DatasetFormatError(path, None, f"needs columns clip_id and labels, lacks {sorted(missing)}")
    return {c: tuple(m for m in ls.split(",") if m) for c, ls in zip(table["clip_id"], table["labels"])}


def read_class_indices(path: PathLike, *, on_error: OnError = "raise") -> pd.DataFrame:
    """Read ``class_labels_indices.csv`` (``index,mid,display_name``; names may be quoted).

    Returns ``DataFrame[index:int, mid:str, display_name:str, line:int]``; indices and mids are unique.
    """
    return read_checked_csv(path, CLASS_INDEX_FIELDS, rules=_CLASS_INDEX_RULES, on_error=on_error)


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
    "CLASS_INDEX_FIELDS",
    "YTID",
    "clip_id",
    "read_segments",
    "segment_fields",
    "read_class_indices",
    "read_ontology",
]
