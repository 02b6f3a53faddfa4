"""Shared dataset-loader pieces: the error type, safe member paths, skip bookkeeping, text decoding."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from vipant.datasets.audiocaps import read_split
from vipant.datasets.common import DatasetFormatError, Skipped, check_on_error, read_text, safe_member_path


def test_error_message_and_attributes(tmp_path: Path) -> None:
    err = DatasetFormatError(tmp_path / "x.csv", 7, "bad row")
    assert str(err) == f"{tmp_path / 'x.csv'}:7: bad row"
    assert (err.path, err.line, err.problem) == (tmp_path / "x.csv", 7, "bad row")
    assert isinstance(err, ValueError)
    no_line = DatasetFormatError("y.json", None, "bad")
    assert str(no_line) == "y.json: bad"
    again = pickle.loads(pickle.dumps(err))
    assert (again.path, again.line, again.problem, str(again)) == (err.path, 7, "bad row", str(err))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Distorted AM Radio noise.wav", "Distorted AM Radio noise.wav"),
        ("audio/b020_90_100.wav", "audio/b020_90_100.wav"),
        ("a/./b.wav", "a/b.wav"),
        ("a//b.wav", "a/b.wav"),
        ("dir/odd..name.wav", "dir/odd..name.wav"),
    ],
)
def test_safe_member_path_accepts(name: str, expected: str) -> None:
    assert safe_member_path(name, path="m.csv", line=3) == expected


@pytest.mark.parametrize(
    "name",
    [
        "",
        "/etc/passwd",
        "..",
        "../evil.wav",
        "a/../../b.wav",
        "a/..",
        "a\\..\\..\\b.wav",
        "\\evil.wav",
        "C:\\evil.wav",
        "c:/evil.wav",
        "a\x00b.wav",
        ".",
        "./",
    ],
)
def test_safe_member_path_rejects(name: str) -> None:
    with pytest.raises(DatasetFormatError) as info:
        safe_member_path(name, path="meta.csv", line=12)
    assert info.value.line == 12
    assert str(info.value).startswith("meta.csv:12: ")


def test_skipped_record_and_on_error_check() -> None:
    s = Skipped.from_error(DatasetFormatError("f.csv", 4, "empty caption"))
    assert s == Skipped(path="f.csv", line=4, reason="empty caption")
    with pytest.raises(ValueError, match="on_error"):
        check_on_error("ignore")


def test_undecodable_text_names_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_bytes(b"a,b\n1,2\n3,\xff\n")
    with pytest.raises(DatasetFormatError) as info:
        read_text(p)
    assert info.value.line == 3 and "UTF-8" in info.value.problem


def test_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    p = tmp_path / "train.csv"
    p.write_bytes(
        "\ufeffaudiocap_id,youtube_id,start_time,caption\r\n"
        "91139,r1nicOVtvkQ,130,A woman talks nearby as water pours\r\n".encode()
    )
    df, skipped = read_split(p)
    assert df["caption"].tolist() == ["A woman talks nearby as water pours"] and skipped == []
