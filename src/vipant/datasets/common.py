"""Shared pieces of the dataset loaders: the format error, safe member paths, skip-mode bookkeeping.

The CSV loaders declare their columns and read through :func:`vipant.datasets.columns.read_checked_csv`.

Conventions every loader in :mod:`vipant.datasets` follows:

* A missing file raises :class:`FileNotFoundError` naming it.
* A file whose content breaks the format raises :class:`DatasetFormatError` naming the file and the
  1-based physical line (``None`` for JSON files, which have no useful line).
* Row-level loaders take ``on_error: Literal["raise", "skip"]``. With ``"skip"`` a bad row is dropped,
  logged and returned as a :class:`Skipped` record, so known-dirty real data is recorded, not fatal.
  Structural problems (missing file, wrong header, undecodable text) are fatal in both modes.
* Duplicated ids raise (or are skipped, keeping the first occurrence) with a message naming both lines.
* Every row-level DataFrame ends with a ``line`` column (int: the physical line the row starts on in
  its source) and carries ``df.attrs["source"]`` (the file read, str) and ``df.attrs["skipped"]``
  (the list of :class:`Skipped`), also for loaders that return the skipped rows explicitly.
"""

from __future__ import annotations

import csv
import errno
import io
import logging
import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal, Sequence

import pandas as pd

logger = logging.getLogger(__name__)

OnError = Literal["raise", "skip"]
PathLike = str | os.PathLike[str]

_DRIVE = re.compile(r"^[A-Za-z]:")


class DatasetFormatError(ValueError):
    """A dataset file does not match its documented format.

    Attributes: ``path`` (the file), ``line`` (1-based physical line, or ``None``), ``problem``.
    """

    def __init__(self, path: PathLike, line: int | None, problem: str) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else f"{self.path}"
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:  # keep the attributes across pickling (multiprocessing)
        return (type(self), (self.path, self.line, self.problem))


@dataclass(frozen=True)
class Skipped:
    """A row dropped in ``on_error="skip"`` mode: where it was and why."""

    path: str
    line: int | None
    reason: str

    @classmethod
    def from_error(cls, err: DatasetFormatError) -> "Skipped":
        return cls(path=str(err.path), line=err.line, reason=err.problem)


def check_on_error(on_error: str) -> None:
    """Reject anything but ``"raise"`` or ``"skip"``."""
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")


def safe_member_path(name: str, *, path: PathLike, line: int | None) -> str:
    """Validate a relative file name read from ``path`` (at ``line``) and return it normalised.

    Rejects empty names, NUL bytes, absolute paths (``/x``, ``\\x``, ``C:...``), and ``..`` components
    whether separated by ``/`` or ``\\``. Normalisation collapses ``./`` and repeated slashes.
    """
    if not isinstance(name, str) or name == "":
        raise DatasetFormatError(path, line, "empty file name")
    if "\x00" in name:
        raise DatasetFormatError(path, line, f"file name {name!r} contains a NUL byte")
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise DatasetFormatError(path, line, f"file name {name!r} is an absolute path")
    parts = re.split(r"[/\\]", name)
    if ".." in parts:
        raise DatasetFormatError(path, line, f"file name {name!r} escapes its folder ('..')")
    normal = posixpath.normpath(name)
    if normal in (".", "") or normal.endswith("/"):
        raise DatasetFormatError(path, line, f"file name {name!r} names no file")
    return normal


def require_file(path: PathLike) -> Path:
    """Return ``path`` as a Path, or raise FileNotFoundError naming it."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(errno.ENOENT, f"dataset file not found: {p}", str(p))
    return p


def read_text(path: PathLike) -> str:
    """Read a UTF-8 file (a leading BOM is dropped); undecodable bytes raise naming the line."""
    p = require_file(path)
    data = p.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise DatasetFormatError(p, line, f"not valid UTF-8 ({e.reason})") from None
    return text[1:] if text.startswith("\ufeff") else text


def iter_rows(
    path: Path, text: str, *, delimiter: str = ",", skipinitialspace: bool = False, quoting: int = csv.QUOTE_MINIMAL
) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(first physical line, fields)`` for each non-blank CSV record of ``text``."""
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=skipinitialspace, quoting=quoting
    )
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise DatasetFormatError(path, start, f"unreadable CSV record ({e})") from None
        if not row or (len(row) == 1 and row[0].strip() == ""):
            continue
        yield start, row


class RowCollector:
    """Applies the ``on_error`` policy while a loader walks the rows of one file."""

    def __init__(self, path: PathLike, on_error: OnError) -> None:
        check_on_error(on_error)
        self.path = Path(path)
        self.on_error = on_error
        self.skipped: list[Skipped] = []

    def error(self, line: int | None, problem: str) -> DatasetFormatError:
        return DatasetFormatError(self.path, line, problem)

    def reject(self, err: DatasetFormatError) -> None:
        """Raise ``err`` in raise mode; record and log it in skip mode."""
        if self.on_error == "raise":
            raise err
        logger.debug("skipping %s", err)
        self.skipped.append(Skipped.from_error(err))

    def finish(self, df: pd.DataFrame) -> pd.DataFrame:
        """Attach provenance to ``df`` and log a summary of the skipped rows."""
        if self.skipped:
            logger.warning(
                "%s: skipped %d bad row(s); first: line %s: %s",
                self.path,
                len(self.skipped),
                self.skipped[0].line,
                self.skipped[0].reason,
            )
        return attach(df, self.path, self.skipped)


def attach(df: pd.DataFrame, path: PathLike, skipped: list[Skipped]) -> pd.DataFrame:
    """Set the provenance attrs on ``df`` (``source``, ``skipped``)."""
    df.attrs["source"] = str(path)
    df.attrs["skipped"] = list(skipped)
    return df


def frame(columns: dict[str, tuple[list[Any], str]]) -> pd.DataFrame:
    """Build a DataFrame with fixed dtypes, also when empty: ``{name: (values, dtype)}``."""
    return pd.DataFrame({name: pd.Series(values, dtype=dtype) for name, (values, dtype) in columns.items()})


def list_files(
    df: pd.DataFrame,
    names: Sequence[str],
    root: PathLike,
    *,
    on_error: OnError = "raise",
    source: PathLike | None = None,
) -> pd.DataFrame:
    """``DataFrame[clip_id, path]`` for rows of ``df`` whose files ``root/names[i]`` must exist.

    A missing file raises a DatasetFormatError naming the metadata file (``source`` or
    ``df.attrs["source"]``) and the row's line, or is skipped in ``on_error="skip"`` mode.
    """
    check_on_error(on_error)
    src = Path(source if source is not None else df.attrs.get("source", root))
    base = Path(root)
    if not base.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"audio folder not found: {base}", str(base))
    clip_ids: list[str] = []
    paths: list[str] = []
    skipped: list[Skipped] = []
    lines = df["line"].tolist() if "line" in df.columns else [None] * len(df)
    for line, clip_id, name in zip(lines, df["clip_id"].tolist(), names):
        p = base / name
        if not p.is_file():
            err = DatasetFormatError(src, line, f"file {name!r} listed here is missing under {base}")
            if on_error == "raise":
                raise err
            skipped.append(Skipped.from_error(err))
            continue
        clip_ids.append(clip_id)
        paths.append(str(p))
    if skipped:
        logger.warning("%s: %d listed file(s) missing under %s", src, len(skipped), base)
    out = frame({"clip_id": (clip_ids, "object"), "path": (paths, "object")})
    return attach(out, src, skipped)


def file_clip_id(name: str) -> str:
    """Clip id of a file-based dataset clip: the file's base name without its extension."""
    return posixpath.splitext(posixpath.basename(name))[0]
