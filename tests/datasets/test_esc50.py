"""ESC-50 ``meta/esc50.csv`` and its audio folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from vipant.datasets.common import DatasetFormatError
from vipant.datasets.esc50 import list_audio, read_meta

HEADER = "filename,fold,target,category,esc10,src_file,take\n"
ROWS = (
    "1-100032-A-0.wav,1,0,dog,True,100032,A\n"
    "1-100038-A-14.wav,1,14,chirping_birds,False,100038,A\n"
    "1-100210-A-36.wav,1,36,vacuum_cleaner,False,100210,A\n"
    "5-9032-A-0.wav,5,0,dog,True,9032,A\n"
)
META = "meta/esc50.csv"


def test_parses_real_format(write_file) -> None:
    df = read_meta(write_file(META, HEADER + ROWS))
    assert list(df.columns) == [
        "filename",
        "fold",
        "target",
        "category",
        "esc10",
        "src_file",
        "take",
        "clip_id",
        "line",
    ]
    assert df["fold"].dtype == "int64" and df["target"].dtype == "int64" and df["esc10"].dtype == "bool"
    assert df["esc10"].tolist() == [True, False, False, True]
    assert df["src_file"].tolist()[0] == "100032" and df["take"].tolist()[0] == "A"
    assert df["clip_id"].tolist()[0] == "1-100032-A-0"


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("1-1-A-0.wav,6,0,dog,True,1,A\n", "fold 6 not in 1..5"),
        ("1-1-A-0.wav,one,0,dog,True,1,A\n", "fold 'one' is not an integer"),
        ("1-1-A-0.wav,1,0,dog,yes,1,A\n", "esc10 'yes' is not True/False"),
        ("1-1-A-0.wav,1,0,cat,True,1,A\n", "target 0 is 'cat' here but 'dog' on line 2"),
        ("1-1-A-5.wav,1,5,dog,True,1,A\n", "category 'dog' has target 5 here but 0 on line 2"),
        ("../evil.wav,1,0,dog,True,1,A\n", "escapes its folder"),
        ("1-100032-A-0.wav,2,0,dog,True,100032,A\n", "duplicate filename '1-100032-A-0.wav' (first on line 2)"),
        ("1-1-A-0.wav,1,0,dog,True,1\n", "expected 7 fields"),
    ],
)
def test_malformed_row_names_file_and_line(write_file, refused, row: str, needle: str) -> None:
    refused(read_meta, write_file(META, HEADER + ROWS + row), 6, needle)


def test_skip_mode(write_file, skipped_lines) -> None:
    df = read_meta(write_file(META, HEADER + ROWS + "1-1-A-0.wav,1,0,cat,True,1,A\n"), on_error="skip")
    assert len(df) == 4 and skipped_lines(df) == [6]


def test_bad_header_and_missing_file(tmp_path: Path, write_file) -> None:
    p = write_file(META, "filename,fold,target,category\n" + ROWS)
    with pytest.raises(DatasetFormatError, match=r"esc50.csv:1: .*filename,fold,target,category,esc10,src_file,take"):
        read_meta(p)
    with pytest.raises(FileNotFoundError, match="esc50.csv"):
        read_meta(tmp_path / "esc50.csv")


def test_list_audio(tmp_path: Path, write_file) -> None:
    p = write_file(META, HEADER + ROWS)
    audio = tmp_path / "audio"
    audio.mkdir()
    for name in ("1-100032-A-0.wav", "1-100038-A-14.wav", "1-100210-A-36.wav"):
        (audio / name).write_bytes(b"")
    meta = read_meta(p)
    with pytest.raises(DatasetFormatError, match=rf"{p}:5: .*5-9032-A-0.wav"):
        list_audio(meta, audio)
    files = list_audio(meta[meta["fold"] == 1], audio)
    assert files["path"].tolist()[0] == str(audio / "1-100032-A-0.wav") and len(files) == 3
