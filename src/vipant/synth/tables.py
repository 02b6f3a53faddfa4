"""Text serialisations shared by the dataset writers: CSV (csv-module quoting, ``\\n`` line ends) and JSON."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Iterable, Sequence


def csv_text(header: Sequence[str] | None, rows: Iterable[Sequence[Any]], *, delimiter: str = ",") -> str:
    """CSV text with minimal quoting (fields holding the delimiter, quotes or newlines are quoted)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def json_text(obj: Any, *, indent: int | None = 2) -> str:
    """JSON text, keys in insertion order, UTF-8 kept, newline at the end."""
    return json.dumps(obj, indent=indent, ensure_ascii=False) + "\n"


def jsonl_text(records: Iterable[Any]) -> str:
    """One compact JSON object per line."""
    return "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)
