"""A declarative column spec and the one checked reader behind the dataset loaders' CSV files.

A loader declares its file's columns and calls :func:`read_checked_csv`::

    COLUMNS = (
        Column("filename", PATH),
        Column("fold", int, check=in_range(1, 5)),
        Column("category", check=NONEMPTY),
    )
    df = read_checked_csv(path, COLUMNS, rules=(Unique("filename"),), on_error=on_error)

Per column: its ``name`` in the file, its :class:`Kind` (``str``, ``int``, ``float``, ``bool`` or one of
:data:`STR`, :data:`TEXT`, :data:`PATH`, ... or a custom one), whether the header must have it
(``required``), its :class:`Check` s on the parsed value (which also see the row's earlier values,
for cross-column conditions such as ``start < end``), the DataFrame column it becomes (``dest``) and
whether that column is kept. Rules across rows (:class:`Unique`, :class:`OneToOne`, or any callable
of the row) run after a row's columns, in order, and remember only accepted rows.

The reader follows the conventions of :mod:`vipant.datasets.common`: a bad value is a
:class:`~vipant.datasets.common.DatasetFormatError` naming the file, the physical line, the column and
the value, raised or (``on_error="skip"``) recorded as a :class:`~vipant.datasets.common.Skipped`;
structural problems (missing file, bad header, undecodable text) are fatal in both modes.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from vipant.datasets.common import (
    DatasetFormatError,
    OnError,
    PathLike,
    RowCollector,
    frame,
    iter_rows,
    read_text,
    safe_member_path,
)

Row = Mapping[str, Any]
Header = Literal["row", "comment", "none"]


class BadValue(Exception):
    """A field or row breaks its spec; ``problem`` is the message (the reader adds file and line)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


# --------------------------------------------------------------------------- kinds


@dataclass(frozen=True)
class Kind:
    """How a field's text becomes a value: ``parse(text, column name)`` raises :class:`BadValue`."""

    name: str
    parse: Callable[[str, str], Any]
    dtype: str = "object"


def _parse_str(text: str, name: str) -> str:
    return text.strip()


def _parse_text(text: str, name: str) -> str:
    return " ".join(text.split())


def _parse_int(text: str, name: str) -> int:
    s = text.strip()
    # int() alone would also take "1_000" and non-ASCII digits, which no index file writes
    if not re.fullmatch(r"[+-]?\d+", s):
        raise BadValue(f"{name} {text!r} is not an integer")
    return int(s)


def _parse_float(text: str, name: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise BadValue(f"{name} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise BadValue(f"{name} {text!r} is not finite")
    return value


_BOOL_WORDS = {"True": True, "False": False}


def _parse_bool(text: str, name: str) -> bool:
    s = text.strip()
    if s not in _BOOL_WORDS:
        raise BadValue(f"{name} {s!r} is not True/False")
    return _BOOL_WORDS[s]


def _parse_path(text: str, name: str) -> str:
    # unstripped on purpose: real file names (Clotho) may carry spaces, and a name is taken as written
    try:
        return safe_member_path(text, path="", line=None)
    except DatasetFormatError as e:
        raise BadValue(e.problem) from None


STR = Kind("str", _parse_str)
"""Text with surrounding whitespace stripped (may be empty: add :data:`NONEMPTY` to refuse that)."""
TEXT = Kind("text", _parse_text)
"""Free text (captions, titles) with every run of whitespace collapsed to one space."""
INT = Kind("int", _parse_int, "int64")
"""A decimal integer (an optional sign, digits, surrounding spaces)."""
FLOAT = Kind("float", _parse_float, "float64")
"""A finite number."""
BOOL = Kind("bool", _parse_bool, "bool")
"""``True`` or ``False``, spelt so (as ESC-50 writes them)."""
PATH = Kind("path", _parse_path)
"""A relative file name checked and normalised by :func:`~vipant.datasets.common.safe_member_path`."""

_BY_TYPE: dict[type, Kind] = {str: STR, int: INT, float: FLOAT, bool: BOOL}


# --------------------------------------------------------------------------- checks on one value


@dataclass(frozen=True)
class Check:
    """A condition on a column's parsed value.

    ``test(value, row)`` sees the value and the row's earlier columns (by ``dest``); ``problem`` is a
    :meth:`str.format` template with ``name`` (the column), ``value`` and ``row``.
    """

    test: Callable[[Any, Row], bool]
    problem: str

    def __call__(self, name: str, value: Any, row: Row) -> str | None:
        """The problem with ``value``, or None when it passes."""
        if self.test(value, row):
            return None
        return self.problem.format(name=name, value=value, row=row)


NONEMPTY = Check(lambda v, _row: v != "", "empty {name}")
"""Refuses an empty string (after the kind's stripping)."""
NON_NEGATIVE = Check(lambda v, _row: v >= 0, "negative {name} {value}")
"""Refuses a number below 0."""


def _literal(text: str) -> str:
    """``text`` escaped for use inside a :meth:`str.format` template."""
    return text.replace("{", "{{").replace("}", "}}")


def in_range(lo: float, hi: float) -> Check:
    """Refuses a number outside ``lo..hi`` (both included)."""
    return Check(lambda v, _row: lo <= v <= hi, "{name} {value} not in " + _literal(f"{lo}..{hi}"))


def one_of(allowed: Collection[Any]) -> Check:
    """Refuses a value not in ``allowed``."""
    listed = ", ".join(repr(a) for a in allowed)
    return Check(lambda v, _row: v in allowed, "{name} {value!r} is not one of " + _literal(listed))


def matches(pattern: str | re.Pattern[str], problem: str | None = None) -> Check:
    """Refuses a string that does not match ``pattern`` in full; ``problem`` as in :class:`Check`."""
    compiled = re.compile(pattern)
    default = "{name} {value!r} does not match " + _literal(compiled.pattern)
    return Check(lambda v, _row: compiled.fullmatch(v) is not None, problem or default)


def time_span(what: str, start: str = "start") -> Check:
    """Check of an end time: ``0 <= start < end`` with the row's ``start`` column (parsed before it)."""
    return Check(
        lambda end, row: row[start] >= 0 and end > row[start],
        f"bad {_literal(what)} times start={{row[{start}]}} end={{value}} (want 0 <= start < end)",
    )


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    """One column of a CSV file.

    ``name``: the header's name (also the name in messages); ``kind``: a :class:`Kind` or one of
    ``str``/``int``/``float``/``bool``; ``required``: whether the header must have it (an absent
    optional column reads as ``default`` on every row; headerless files need every column);
    ``check``: one :class:`Check` or a tuple, applied in order; ``dest``: the DataFrame column
    (default ``name``); ``keep``: False for a column only used to derive others.
    """

    name: str
    kind: Kind | type = STR
    required: bool = True
    check: Check | tuple[Check, ...] = ()
    dest: str = ""
    keep: bool = True
    default: Any = None

    def __post_init__(self) -> None:
        # frozen: normalise the convenience forms once, here
        if isinstance(self.kind, type):
            if self.kind not in _BY_TYPE:
                raise TypeError(f"column {self.name!r}: no kind for type {self.kind.__name__}")
            object.__setattr__(self, "kind", _BY_TYPE[self.kind])
        if isinstance(self.check, Check):
            object.__setattr__(self, "check", (self.check,))
        if not self.dest:
            object.__setattr__(self, "dest", self.name)

    @property
    def dtype(self) -> str:
        """The pandas dtype of the column in the returned DataFrame."""
        assert isinstance(self.kind, Kind)
        return self.kind.dtype

    def parse(self, text: str, row: Row) -> Any:
        """Parse and check one field (``row``: the earlier columns); raises :class:`BadValue`."""
        assert isinstance(self.kind, Kind)
        value = self.kind.parse(text, self.name)
        for check in self.check:  # type: ignore[union-attr]
            problem = check(self.name, value, row)
            if problem is not None:
                raise BadValue(problem)
        return value


# --------------------------------------------------------------------------- rules across rows


class RowRule:
    """A condition across rows. The reader gives each rule a fresh ``memo`` dict per file read,
    calls :meth:`check` on every row that passed its columns and :meth:`accept` on every kept row, so
    a rejected row never becomes the "first" occurrence later rows are compared with."""

    def check(self, row: Row, memo: dict[Any, Any]) -> str | None:
        """The problem with ``row`` given the accepted rows, or None."""
        raise NotImplementedError

    def accept(self, row: Row, line: int, memo: dict[Any, Any]) -> None:
        """Remember a kept row (found on ``line``)."""


@dataclass(frozen=True)
class Unique(RowRule):
    """The key (a column's ``dest``, a tuple of them, or a function of the row) is on one kept row only.

    Message: ``duplicate {what} {key!r} (first on line N)``; ``what`` defaults to the column name.
    """

    key: str | tuple[str, ...] | Callable[[Row], Any]
    what: str = ""

    def __post_init__(self) -> None:
        if not self.what:
            if not isinstance(self.key, str):
                raise ValueError("Unique over several columns or a function needs 'what'")
            object.__setattr__(self, "what", self.key)

    def _value(self, row: Row) -> Any:
        if isinstance(self.key, str):
            return row[self.key]
        if isinstance(self.key, tuple):
            return tuple(row[k] for k in self.key)
        return self.key(row)

    def check(self, row: Row, memo: dict[Any, Any]) -> str | None:
        value = self._value(row)
        first = memo.get(value)
        if first is not None:
            return f"duplicate {self.what} {value!r} (first on line {first})"
        return None

    def accept(self, row: Row, line: int, memo: dict[Any, Any]) -> None:
        memo.setdefault(self._value(row), line)


@dataclass(frozen=True)
class OneToOne(RowRule):
    """Columns ``code`` and ``name`` map one-to-one across the kept rows (a class index and its label)."""

    code: str
    name: str

    def check(self, row: Row, memo: dict[Any, Any]) -> str | None:
        code, name = row[self.code], row[self.name]
        by_code, by_name = memo.get("code", {}), memo.get("name", {})
        if code in by_code and by_code[code][0] != name:
            seen, at = by_code[code]
            return f"{self.code} {code} is {name!r} here but {seen!r} on line {at}"
        if name in by_name and by_name[name][0] != code:
            seen_code, at = by_name[name]
            return f"{self.name} {name!r} has {self.code} {code} here but {seen_code} on line {at}"
        return None

    def accept(self, row: Row, line: int, memo: dict[Any, Any]) -> None:
        code, name = row[self.code], row[self.name]
        memo.setdefault("code", {}).setdefault(code, (name, line))
        memo.setdefault("name", {}).setdefault(name, (code, line))


Rule = RowRule | Callable[[Row], str | None]
"""A :class:`RowRule`, or a stateless callable returning the row's problem or None."""


# --------------------------------------------------------------------------- the reader


def _match_header(path: PathLike, line: int, found: Sequence[str], columns: Sequence[Column]) -> list[Column]:
    """The columns the header ``found`` has, in file order; raise naming what is missing or extra.

    The header must list the spec's columns in the spec's order (optional ones may be absent), as the
    published files do: a reordered file is more likely another format than the same one shuffled.
    """
    names = [f.strip() for f in found]
    expected = [c.name for c in columns]
    present = [c for c in columns if c.name in names]
    missing = [c.name for c in columns if c.required and c.name not in names]
    if not missing and names == [c.name for c in present]:
        return present
    unknown = [n for n in names if n not in expected]
    repeated = sorted({n for n in names if names.count(n) > 1})

    def some(what: str, items: Sequence[str]) -> list[str]:
        return [f"{what} column{'s' if len(items) > 1 else ''} {', '.join(map(repr, items))}"] if items else []

    if not present:  # a data row or another format: listing every name twice would only add noise
        problems = ["none of the expected columns"]
    else:
        problems = [*some("missing", missing), *some("unexpected", unknown), *some("repeated", repeated)]
    raise DatasetFormatError(
        path,
        line,
        f"bad header {list(found)!r}; {'; '.join(problems or ['columns out of order'])}; "
        f"expected columns {','.join(expected)}",
    )


def _after_comment_header(path: PathLike, records: Any, names: Sequence[str]) -> Any:
    """Yield the data records after a ``# a, b, c`` comment header (AudioSet's segment files).

    Comment records are skipped anywhere; before the first data record, the first comment that lists
    exactly ``names`` is the header, and a data record (or the end) without one is fatal.
    """
    seen = False
    last_comment: int | None = None
    for line, fields in records:
        if fields[0].lstrip().startswith("#"):
            if not seen:
                last_comment = line
                first = fields[0].lstrip()[1:].strip()
                seen = [first, *(f.strip() for f in fields[1:])] == list(names)
            continue
        if not seen:
            raise DatasetFormatError(
                path,
                last_comment or 1,
                f"missing the column comment '# {', '.join(names)}' before the first row "
                f"(expected columns {','.join(names)})",
            )
        yield line, fields
    if not seen:
        raise DatasetFormatError(path, last_comment or 1, f"missing the column comment '# {', '.join(names)}'")


def read_checked_csv(
    path: PathLike,
    columns: Sequence[Column],
    *,
    rules: Sequence[Rule] = (),
    derive: Mapping[str, Callable[[Row], Any]] | None = None,
    on_error: OnError = "raise",
    header: Header = "row",
    delimiter: str = ",",
    skipinitialspace: bool = False,
    quoting: int = csv.QUOTE_MINIMAL,
    strip_fields: bool = False,
    drop_trailing_empty: bool = False,
) -> pd.DataFrame:
    """Read the CSV file ``path`` whose columns are ``columns``; return a typed DataFrame.

    ``header``: ``"row"`` (the first record names the columns), ``"comment"`` (a ``# a, b, c`` comment
    before the first row names them; other ``#`` records are skipped) or ``"none"`` (records hold the
    columns in order; a first record of the wrong width is fatal, as it suggests another format).
    ``strip_fields`` strips every field before parsing; ``drop_trailing_empty`` drops empty fields
    past the last column (trailing delimiters). For each row, in order: the field count, each column's
    kind and checks, then ``derive`` (``{dest: f(row)}``, object columns computed from the parsed row,
    visible to the rules), then ``rules``; the first failure rejects the row.

    Returns ``DataFrame[<dest of each kept column>, <derived>, line:int]`` with the kinds' dtypes (also
    when empty), ``attrs["source"]`` (the file) and ``attrs["skipped"]`` (the skipped rows). Errors
    are :class:`~vipant.datasets.common.DatasetFormatError` s naming the file and the 1-based line;
    a missing file raises :class:`FileNotFoundError`.
    """
    rows = RowCollector(path, on_error)
    p = rows.path
    derive = dict(derive or {})
    tabbed = delimiter == "\t"
    kind_of_field = "tab-separated " if tabbed else ""

    def listed(cols: Sequence[Column]) -> str:
        # as the files write them: "a,b" in plain CSV, "a, b" in tab-separated or space-padded ones
        return (", " if tabbed or skipinitialspace else ",").join(c.name for c in cols)

    records = iter_rows(p, read_text(p), delimiter=delimiter, skipinitialspace=skipinitialspace, quoting=quoting)
    present = list(columns)
    if header == "row":
        first = next(records, None)
        if first is None:
            raise DatasetFormatError(p, 1, f"empty file; expected {kind_of_field}columns {listed(columns)}")
        present = _match_header(p, first[0], first[1], columns)
    elif header == "comment":
        records = _after_comment_header(p, records, [c.name for c in columns])
    elif header != "none":
        raise ValueError(f"header must be 'row', 'comment' or 'none', not {header!r}")
    absent = [c for c in columns if all(c is not q for q in present)]
    memos: list[dict[Any, Any]] = [{} for _ in rules]
    width = len(present)
    out: dict[str, list[Any]] = {c.dest: [] for c in columns}
    out.update({name: [] for name in derive})
    lines: list[int] = []
    first_record = True
    for line, fields in records:
        if drop_trailing_empty:
            while len(fields) > width and fields[-1].strip() == "":
                fields = fields[:-1]
        if strip_fields:
            fields = [f.strip() for f in fields]
        if header == "none" and first_record and len(fields) != width:
            raise DatasetFormatError(
                p, line, f"expected {width} {kind_of_field}columns ({listed(present)}), found {len(fields)}"
            )
        first_record = False
        try:
            if len(fields) != width:
                raise BadValue(f"expected {width} {kind_of_field}fields ({listed(present)}), found {len(fields)}")
            row: dict[str, Any] = {c.dest: c.default for c in absent}
            for col, text in zip(present, fields):
                row[col.dest] = col.parse(text, row)
            for name, fn in derive.items():
                row[name] = fn(row)
            for rule, memo in zip(rules, memos):
                problem = rule.check(row, memo) if isinstance(rule, RowRule) else rule(row)
                if problem is not None:
                    raise BadValue(problem)
        except BadValue as e:
            rows.reject(rows.error(line, e.problem))
            continue
        for rule, memo in zip(rules, memos):
            if isinstance(rule, RowRule):
                rule.accept(row, line, memo)
        for name, values in out.items():
            values.append(row[name])
        lines.append(line)
    spec: dict[str, tuple[list[Any], str]] = {c.dest: (out[c.dest], c.dtype) for c in columns if c.keep}
    spec.update({name: (out[name], "object") for name in derive})
    spec["line"] = (lines, "int64")
    return rows.finish(frame(spec))


__all__ = [
    "BOOL",
    "FLOAT",
    "INT",
    "NONEMPTY",
    "NON_NEGATIVE",
    "PATH",
    "STR",
    "TEXT",
    "BadValue",
    "Check",
    "Column",
    "Kind",
    "OneToOne",
    "RowRule",
    "Unique",
    "in_range",
    "matches",
    "one_of",
    "read_checked_csv",
    "time_span",
]
