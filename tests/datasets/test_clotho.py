"""Clotho caption CSVs and their wav folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vipant.datasets.clotho import list_audio, read_captions
from vipant.datasets.common import DatasetFormatError

HEADER = "file_name,caption_1,caption_2,caption_3,caption_4,caption_5\n"
ROWS = (
    "Distorted AM Radio noise.wav,A radio dial is turned between stations.,Static crackles on a radio.,"
    "A radio is tuned through static.,Someone tunes an old radio.,An AM radio hisses and whines.\n"
    '"Footsteps, wood floor.wav",A person walks on a wooden floor.,"Slow, heavy footsteps on wood.",'
    "Footsteps creak across the boards.,Someone paces in a room.,Steps on a creaky floor.\n"
)
DEV = "clotho_captions_development.csv"


def test_parses_real_format(write_file) -> None:
    df = read_captions(write_file(DEV, HEADER + ROWS))
    assert list(df.columns) == ["file_name", "captions", "clip_id", "line"]
    assert df["file_name"].tolist() == ["Distorted AM Radio noise.wav", "Footsteps, wood floor.wav"]
    assert isinstance(df["captions"].iloc[1], tuple) and len(df["captions"].iloc[1]) == 5
    assert df["captions"].iloc[1][1] == "Slow, heavy footsteps on wood."
    assert df["clip_id"].tolist() == ["Distorted AM Radio noise", "Footsteps, wood floor"]
    assert df.attrs["skipped"] == []


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("../evil.wav,a,b,c,d,e\n", "escapes its folder"),
        ("/abs/evil.wav,a,b,c,d,e\n", "absolute path"),
        ("x.wav,a,b,c,d\n", "expected 6 fields"),
        ("x.wav,a,b,,d,e\n", "empty caption_3"),
        (
            "Distorted AM Radio noise.wav,a,b,c,d,e\n",
            "duplicate file_name 'Distorted AM Radio noise.wav' (first on line 2)",
        ),
    ],
)
def test_malformed_row_names_file_and_line(write_file, refused, row: str, needle: str) -> None:
    refused(read_captions, write_file(DEV, HEADER + ROWS + row), 4, needle)


def test_skip_mode(write_file) -> None:
    p = write_file(DEV, HEADER + "../evil.wav,a,b,c,d,e\n" + ROWS)
    df = read_captions(p, on_error="skip")
    assert len(df) == 2 and df["line"].tolist() == [3, 4]
    assert [(s.line, "escapes" in s.reason) for s in df.attrs["skipped"]] == [(2, True)]


def test_bad_header_and_missing_file(tmp_path: Path, write_file) -> None:
    p = write_file(DEV, "file_name,caption_1,caption_2,caption_3,caption_4\n")
    with pytest.raises(DatasetFormatError, match=r":1: bad header .*expected columns file_name,caption_1"):
        read_captions(p)
    with pytest.raises(FileNotFoundError, match="clotho_captions_evaluation.csv"):
        read_captions(tmp_path / "clotho_captions_evaluation.csv")


def test_list_audio(tmp_path: Path, write_file) -> None:
    csv = write_file(DEV, HEADER + ROWS)
    audio = tmp_path / "development"
    audio.mkdir()
    sf.write(audio / "Distorted AM Radio noise.wav", np.zeros(441, dtype="float32"), 44100)
    df = read_captions(csv)
    with pytest.raises(DatasetFormatError) as info:
        list_audio(df, audio)
    assert str(info.value).startswith(f"{csv}:3: ") and "Footsteps, wood floor.wav" in str(info.value)
    (audio / "Footsteps, wood floor.wav").write_bytes(b"")
    files = list_audio(df, audio)
    assert list(files.columns) == ["clip_id", "path"]
    assert files["path"].tolist() == [
        str(audio / "Distorted AM Radio noise.wav"),
        str(audio / "Footsteps, wood floor.wav"),
    ]
    (audio / "Footsteps, wood floor.wav").unlink()
    kept = list_audio(df, audio, on_error="skip")
    assert kept["clip_id"].tolist() == ["Distorted AM Radio noise"] and kept.attrs["skipped"][0].line == 3
    with pytest.raises(FileNotFoundError):
        list_audio(df, tmp_path / "nope")
