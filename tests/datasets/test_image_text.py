"""open_clip image-text CSV (tab-separated ``filepath<TAB>title``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vipant.datasets.common import DatasetFormatError
from vipant.datasets.image_text import read_pairs

HEADER = "filepath\ttitle\n"
ROWS = (
    "images/000000397133.jpg\tA man is in a kitchen making pizzas.\n"
    'images/000000037777.jpg\t"The table, with ""fruit"" on it."\n'
    "frames/--4gqARaEJE_0/1.jpg\ta dog barking, then a car passes\n"
)
PAIRS = "pairs/train.csv"


def test_parses_and_resolves(write_file) -> None:
    p = write_file(PAIRS, HEADER + ROWS)
    df = read_pairs(p)
    assert list(df.columns) == ["filepath", "title", "line"]
    assert df["filepath"].tolist()[0] == str(p.parent / "images/000000397133.jpg")
    assert df["title"].tolist()[1] == 'The table, with "fruit" on it.'
    assert df["line"].tolist() == [2, 3, 4]


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("../evil.jpg\tevil\n", "escapes its folder"),
        ("/etc/passwd\tevil\n", "absolute path"),
        ("images/a.jpg\t \n", "empty title"),
        ("images/a.jpg\n", "expected 2 tab-separated fields"),
    ],
)
def test_malformed_row(write_file, refused, skipped_lines, row: str, needle: str) -> None:
    p = write_file(PAIRS, HEADER + ROWS + row)
    refused(read_pairs, p, 5, needle)
    df = read_pairs(p, on_error="skip")
    assert len(df) == 3 and skipped_lines(df) == [5]


def test_bad_header_and_missing(tmp_path: Path, write_file) -> None:
    p = write_file(PAIRS, "filepath,title\n" + ROWS)
    with pytest.raises(DatasetFormatError, match=r"train.csv:1: .*expected columns filepath,title"):
        read_pairs(p)
    with pytest.raises(FileNotFoundError, match="val.csv"):
        read_pairs(tmp_path / "val.csv")
