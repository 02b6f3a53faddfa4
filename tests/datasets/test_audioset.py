"""AudioSet segment CSVs, class indices and ontology, in their real formats."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from vipant.datasets.audioset import clip_id, read_class_indices, read_clip_labels, read_ontology, read_segments
from vipant.datasets.common import DatasetFormatError, Skipped

PREAMBLE = (
    "# Segments csv created Sun Mar  5 10:54:31 2017\n"
    "# num_ytids=22160, num_segs=22160, num_unique_labels=527, num_positive_labels=52882\n"
    "# YTID, start_seconds, end_seconds, positive_labels\n"
)
ROWS = (
    '--4gqARaEJE, 0.000, 10.000, "/m/068hy,/m/07q6cd_,/m/0bt9lr,/m/0jbk"\n'
    '--BfvyPmVMo, 20.000, 30.000, "/m/03l9g"\n'
    '-0Gj8-vB1q4, 30.000, 40.000, "/m/04rlf,/m/09x0r"\n'
)
MIDS = {"/m/068hy", "/m/07q6cd_", "/m/0bt9lr", "/m/0jbk", "/m/03l9g", "/m/04rlf", "/m/09x0r"}
SEGMENTS = "balanced_train_segments.csv"


def test_parses_real_format(write_file) -> None:
    p = write_file(SEGMENTS, PREAMBLE + ROWS)
    df, skipped = read_segments(p, known_mids=MIDS)
    assert skipped == []
    assert list(df.columns) == ["ytid", "start", "end", "labels", "clip_id", "line"]
    assert df["ytid"].tolist() == ["--4gqARaEJE", "--BfvyPmVMo", "-0Gj8-vB1q4"]
    assert df["start"].dtype == "float64" and df["end"].dtype == "float64"
    assert df["start"].tolist() == [0.0, 20.0, 30.0] and df["end"].tolist() == [10.0, 30.0, 40.0]
    assert df["labels"].iloc[0] == ("/m/068hy", "/m/07q6cd_", "/m/0bt9lr", "/m/0jbk")
    assert df["labels"].iloc[1] == ("/m/03l9g",)
    assert df["clip_id"].tolist() == ["--4gqARaEJE_0", "--BfvyPmVMo_20000", "-0Gj8-vB1q4_30000"]
    assert df["line"].tolist() == [4, 5, 6]
    assert df.attrs["source"] == str(p) and df.attrs["skipped"] == []


def test_empty_file_with_header_gives_typed_empty_frame(write_file) -> None:
    df, _ = read_segments(write_file(SEGMENTS, PREAMBLE))
    assert len(df) == 0 and df["start"].dtype == "float64"


def test_clip_id() -> None:
    assert clip_id("--4gqARaEJE", 30.0) == "--4gqARaEJE_30000"
    assert clip_id("abcdefghijk", 12.345) == "abcdefghijk_12345"
    assert clip_id("abcdefghijk", 0.5) == "abcdefghijk_500"


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("--U7joUcTCo, 0.000, 10.000\n", "expected 4 fields"),
        ('--U7joUcTCo, zero, 10.000, "/m/03l9g"\n', "not a number"),
        ('--U7joUcTCo, 10.000, 10.000, "/m/03l9g"\n', "start < end"),
        ('--U7joUcTC, 0.000, 10.000, "/m/03l9g"\n', "bad YouTube id"),
        ('--U7joUc$Co, 0.000, 10.000, "/m/03l9g"\n', "bad YouTube id"),
        ('--U7joUcTCo, 0.000, 10.000, ""\n', "empty label"),
        ('--U7joUcTCo, 0.000, 10.000, "/m/03l9g,"\n', "empty label"),
        ('--U7joUcTCo, 0.000, 10.000, "/m/zzzz"\n', "unknown label '/m/zzzz'"),
    ],
)
def test_malformed_row_names_file_and_line(write_file, refused, row: str, needle: str) -> None:
    refused(read_segments, write_file(SEGMENTS, PREAMBLE + ROWS + row), 7, needle, known_mids=MIDS)


def test_duplicate_segment_names_both_lines(write_file) -> None:
    p = write_file(SEGMENTS, PREAMBLE + ROWS + '--BfvyPmVMo, 20.000, 30.000, "/m/09x0r"\n')
    with pytest.raises(DatasetFormatError, match=r":7: duplicate .*first on line 5"):
        read_segments(p)


def test_bad_header(write_file) -> None:
    p = write_file(SEGMENTS, PREAMBLE.replace("positive_labels", "labels") + ROWS)
    with pytest.raises(DatasetFormatError) as info:
        read_segments(p)
    assert info.value.line == 3 and "YTID,start_seconds,end_seconds,positive_labels" in str(info.value)
    p2 = write_file("no_comments.csv", ROWS)
    with pytest.raises(DatasetFormatError) as info:
        read_segments(p2)
    assert str(info.value).startswith(f"{p2}:1: ")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="eval_segments.csv"):
        read_segments(tmp_path / "eval_segments.csv")


def test_skip_mode_keeps_good_rows_and_records_bad(write_file, caplog: pytest.LogCaptureFixture) -> None:
    bad = '--U7joUcTCo, 0.000, 10.000, ""\n--BfvyPmVMo, 20.000, 30.000, "/m/09x0r"\n'
    p = write_file(SEGMENTS, PREAMBLE + ROWS + bad + '-1nilez17Dg, 30.000, 40.000, "/m/09x0r"\n')
    with caplog.at_level(logging.WARNING, logger="vipant.datasets"):
        df, skipped = read_segments(p, on_error="skip", known_mids=MIDS)
    assert df["ytid"].tolist() == ["--4gqARaEJE", "--BfvyPmVMo", "-0Gj8-vB1q4", "-1nilez17Dg"]
    assert df["labels"].iloc[1] == ("/m/03l9g",)  # the first of the duplicated pair is kept
    assert [(s.path, s.line) for s in skipped] == [(str(p), 7), (str(p), 8)]
    assert all(isinstance(s, Skipped) for s in skipped) and "duplicate" in skipped[1].reason
    assert df.attrs["skipped"] == skipped
    assert "skipped 2 bad row(s)" in caplog.text


CLASS_INDICES = (
    "index,mid,display_name\n"
    '0,/m/09x0r,"Speech"\n'
    '1,/m/05zppz,"Male speech, man speaking"\n'
    '2,/m/02zsn,"Female speech, woman speaking"\n'
    "3,/m/0ytgt,Child speech\n"
)


def test_class_indices(write_file) -> None:
    df = read_class_indices(write_file("class_labels_indices.csv", CLASS_INDICES))
    assert df["index"].tolist() == [0, 1, 2, 3] and df["index"].dtype == "int64"
    assert df["display_name"].tolist()[1] == "Male speech, man speaking"
    assert df["mid"].tolist() == ["/m/09x0r", "/m/05zppz", "/m/02zsn", "/m/0ytgt"]


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("idx,mid,display_name\n0,/m/09x0r,Speech\n", 1, "expected columns index,mid,display_name"),
        (CLASS_INDICES + '4,/m/09x0r,"Speech again"\n', 6, "duplicate mid '/m/09x0r' (first on line 2)"),
        (CLASS_INDICES + '3,/m/0aaaa,"Other"\n', 6, "duplicate index 3 (first on line 5)"),
        (CLASS_INDICES + "x,/m/0aaaa,Other\n", 6, "not an integer"),
        (CLASS_INDICES + "4,/m/0aaaa\n", 6, "expected 3 fields"),
    ],
)
def test_class_indices_errors(write_file, refused, text: str, line: int, needle: str) -> None:
    refused(read_class_indices, write_file("class_labels_indices.csv", text), line, needle)


ONTOLOGY = [
    {
        "id": "/m/0dgw9r",
        "name": "Human sounds",
        "description": "Sounds produced by the human body.",
        "citation_uri": "",
        "positive_examples": [],
        "child_ids": ["/m/09l8g"],
        "restrictions": ["abstract"],
    },
    {
        "id": "/m/09l8g",
        "name": "Human voice",
        "description": "The human voice.",
        "citation_uri": "",
        "positive_examples": ["youtu.be/1PgHqhKzwjA?start=30&end=40"],
        "child_ids": ["/m/09x0r"],
        "restrictions": [],
    },
    {
        "id": "/m/09x0r",
        "name": "Speech",
        "description": "Speech.",
        "citation_uri": "",
        "positive_examples": [],
        "child_ids": [],
        "restrictions": [],
    },
]


def test_ontology(write_file) -> None:
    p = write_file("ontology.json", json.dumps(ONTOLOGY, indent=1))
    onto = read_ontology(p)
    assert list(onto) == ["/m/0dgw9r", "/m/09l8g", "/m/09x0r"]
    assert onto["/m/09l8g"]["child_ids"] == ["/m/09x0r"] and onto["/m/0dgw9r"]["restrictions"] == ["abstract"]


def test_ontology_errors(tmp_path: Path, write_file) -> None:
    dup = ONTOLOGY + [dict(ONTOLOGY[2], name="Speech again")]
    p = write_file("ontology.json", json.dumps(dup, indent=1))
    with pytest.raises(DatasetFormatError, match="duplicate id '/m/09x0r'") as info:
        read_ontology(p)
    assert info.value.path == p and info.value.line is not None and info.value.line > 30
    orphan = [dict(ONTOLOGY[0], child_ids=["/m/nothere"])] + ONTOLOGY[1:]
    p = write_file("ontology.json", json.dumps(orphan, indent=1))
    with pytest.raises(DatasetFormatError, match=r"ontology.json:3: .*unknown child id '/m/nothere'"):
        read_ontology(p)
    p = write_file("ontology.json", '[{"id": "/m/0dgw9r",')
    with pytest.raises(DatasetFormatError, match="invalid JSON"):
        read_ontology(p)
    with pytest.raises(FileNotFoundError, match="nothing.json"):
        read_ontology(tmp_path / "nothing.json")


def test_clip_labels_of_the_download_manifest(tmp_path: Path) -> None:
    manifest = tmp_path / "youtube_clips.csv"
    manifest.write_text('clip_id,status,labels\nb_10,ok,"/m/02,/m/01"\na_0,ok,\n')
    labels = read_clip_labels(manifest)
    assert list(labels) == ["b_10", "a_0"]  # file order, not sorted
    assert labels == {"b_10": ("/m/02", "/m/01"), "a_0": ()}  # an empty label field is an empty set, not {""}
    (tmp_path / "bad.csv").write_text("clip_id,mids\na_0,/m/01\n")
    with pytest.raises(DatasetFormatError, match=r"bad.csv: needs columns clip_id and labels, lacks \['labels'\]"):
        read_clip_labels(tmp_path / "bad.csv")
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        read_clip_labels(tmp_path / "missing.csv")
