"""UrbanSound8K ``metadata/UrbanSound8K.csv`` and ``audio/fold*/``."""

from __future__ import annotations

from pathlib import Path

import pytest

from vipant.datasets.common import DatasetFormatError
from vipant.datasets.us8k import list_audio, read_meta

HEADER = "slice_file_name,fsID,start,end,salience,fold,classID,class\n"
ROWS = (
    "100032-3-0-0.wav,100032,0.0,0.317551,1,5,3,dog_bark\n"
    "100263-2-0-117.wav,100263,58.5,62.5,1,5,2,children_playing\n"
    "100648-1-0-0.wav,100648,4.823402,5.471927,2,10,1,car_horn\n"
)
META = "metadata/UrbanSound8K.csv"


def test_parses_real_format(write_file) -> None:
    df = read_meta(write_file(META, HEADER + ROWS))
    assert list(df.columns) == [
        "slice_file_name",
        "fsID",
        "start",
        "end",
        "salience",
        "fold",
        "classID",
        "class",
        "clip_id",
        "line",
    ]
    assert df["fsID"].dtype == "int64" and df["start"].dtype == "float64" and df["fold"].dtype == "int64"
    assert df["end"].tolist()[0] == pytest.approx(0.317551)
    assert df["class"].tolist() == ["dog_bark", "children_playing", "car_horn"]
    assert df["clip_id"].tolist()[1] == "100263-2-0-117"


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("1-3-0-0.wav,1,0.0,1.0,1,11,3,dog_bark\n", "fold 11 not in 1..10"),
        ("1-3-0-0.wav,1,0.0,1.0,1,0,3,dog_bark\n", "fold 0 not in 1..10"),
        ("1-3-0-0.wav,1,2.0,1.0,1,1,3,dog_bark\n", "start < end"),
        ("1-3-0-0.wav,1,0.0,1.0,1,1,3,siren\n", "classID 3 is 'siren' here but 'dog_bark' on line 2"),
        ("1-3-0-0.wav,x,0.0,1.0,1,1,3,dog_bark\n", "fsID 'x' is not an integer"),
        ("../evil.wav,1,0.0,1.0,1,1,3,dog_bark\n", "escapes its folder"),
        ("fold1/1-3-0-0.wav,1,0.0,1.0,1,1,3,dog_bark\n", "must not contain a folder"),
        ("100032-3-0-0.wav,100032,0.0,0.3,1,5,3,dog_bark\n", "duplicate slice_file_name '100032-3-0-0.wav'"),
    ],
)
def test_malformed_row_names_file_and_line(write_file, refused, row: str, needle: str) -> None:
    refused(read_meta, write_file(META, HEADER + ROWS + row), 5, needle)


def test_skip_mode_and_header_and_missing(tmp_path: Path, write_file, skipped_lines) -> None:
    df = read_meta(write_file(META, HEADER + "1-3-0-0.wav,1,0.0,1.0,1,11,3,dog_bark\n" + ROWS), on_error="skip")
    assert len(df) == 3 and skipped_lines(df) == [2]
    p = write_file(META, HEADER.replace("classID", "class_id") + ROWS)
    with pytest.raises(DatasetFormatError, match=r"UrbanSound8K.csv:1: .*classID"):
        read_meta(p)
    with pytest.raises(FileNotFoundError, match="UrbanSound8K.csv"):
        read_meta(tmp_path / "UrbanSound8K.csv")


def test_list_audio_uses_fold_folders(tmp_path: Path, write_file) -> None:
    p = write_file(META, HEADER + ROWS)
    for fold, name in ((5, "100032-3-0-0.wav"), (5, "100263-2-0-117.wav")):
        (tmp_path / "audio" / f"fold{fold}").mkdir(parents=True, exist_ok=True)
        (tmp_path / "audio" / f"fold{fold}" / name).write_bytes(b"")
    meta = read_meta(p)
    with pytest.raises(DatasetFormatError, match=rf"{p}:4: .*audio/fold10/100648-1-0-0.wav"):
        list_audio(meta, tmp_path)
    files = list_audio(meta, tmp_path, on_error="skip")
    assert files["path"].tolist() == [
        str(tmp_path / "audio/fold5/100032-3-0-0.wav"),
        str(tmp_path / "audio/fold5/100263-2-0-117.wav"),
    ]
