"""AudioCaps split CSVs, in the real format (quoted captions with commas, dirty rows)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vipant.datasets.audiocaps import read_split
from vipant.datasets.common import DatasetFormatError

HEADER = "audiocap_id,youtube_id,start_time,caption\n"
ROWS = (
    "91139,r1nicOVtvkQ,130,A woman talks nearby as water pours\n"
    '58146,UDGBjjwyaqE,20,"Multiple clanging and clanking sounds, then a man speaks"\n'
    "11542,-6Gy9Dnx6D8,30,A vehicle driving as a man and woman are talking and laughing\n"
    "11543,-6Gy9Dnx6D8,30,  People talk while a car passes  \n"
)


def test_parses_real_format(write_file) -> None:
    df, skipped = read_split(write_file("train.csv", HEADER + ROWS))
    assert skipped == []
    assert list(df.columns) == ["audiocap_id", "ytid", "start", "caption", "clip_id", "line"]
    assert df["audiocap_id"].dtype == "int64" and df["start"].dtype == "float64"
    assert df["audiocap_id"].tolist() == [91139, 58146, 11542, 11543]
    assert df["caption"].iloc[1] == "Multiple clanging and clanking sounds, then a man speaks"
    assert df["caption"].iloc[3] == "People talk while a car passes"
    assert df["clip_id"].tolist() == [
        "r1nicOVtvkQ_130000",
        "UDGBjjwyaqE_20000",
        "-6Gy9Dnx6D8_30000",
        "-6Gy9Dnx6D8_30000",
    ]
    assert df["line"].tolist() == [2, 3, 4, 5]


def test_multiline_quoted_caption_keeps_physical_lines(write_file) -> None:
    text = HEADER + '1,r1nicOVtvkQ,130,"A woman talks\nnearby"\n2,UDGBjjwyaqE,20,\n'
    p = write_file("train.csv", text)
    with pytest.raises(DatasetFormatError, match=r"train.csv:4: empty caption"):
        read_split(p)
    df, skipped = read_split(p, on_error="skip")
    assert df["caption"].tolist() == ["A woman talks nearby"] and [s.line for s in skipped] == [4]


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("97151,-3bM8VMJk0Q,30,\n", "empty caption"),
        ("97151,-3bM8VMJk0Q,thirty,A dog barks\n", "not a number"),
        ("97151,-3bM8VMJk0Q,-1,A dog barks\n", "negative start_time"),
        ("97151,bad id here,30,A dog barks\n", "bad YouTube id"),
        ("x97151,-3bM8VMJk0Q,30,A dog barks\n", "not an integer"),
        ("97151,-3bM8VMJk0Q,30\n", "expected 4 fields"),
        ("91139,-3bM8VMJk0Q,30,A dog barks\n", "duplicate audiocap_id 91139 (first on line 2)"),
    ],
)
def test_malformed_row_names_file_and_line(write_file, refused, row: str, needle: str) -> None:
    refused(read_split, write_file("train.csv", HEADER + ROWS + row), 6, needle)


def test_bad_header_and_missing_file(tmp_path: Path, write_file) -> None:
    p = write_file("train.csv", "audiocap_id,ytid,start_time,caption\n" + ROWS)
    with pytest.raises(DatasetFormatError) as info:
        read_split(p)
    assert str(info.value).startswith(f"{p}:1: ")
    assert "audiocap_id,youtube_id,start_time,caption" in str(info.value)
    with pytest.raises(DatasetFormatError, match=":1: empty file"):
        read_split(write_file("val.csv", ""))
    with pytest.raises(FileNotFoundError, match="test.csv"):
        read_split(tmp_path / "test.csv")


def test_skip_mode(write_file) -> None:
    dirty = "97151,-3bM8VMJk0Q,30,\n91139,-3bM8VMJk0Q,30,A dog barks\n5,--4gqARaEJE,0,A dog barks\n"
    p = write_file("train.csv", HEADER + ROWS + dirty)
    df, skipped = read_split(p, on_error="skip")
    assert df["audiocap_id"].tolist() == [91139, 58146, 11542, 11543, 5]
    assert [(s.path, s.line) for s in skipped] == [(str(p), 6), (str(p), 7)]
    assert skipped[0].reason == "empty caption" and "first on line 2" in skipped[1].reason
