"""The declarative column spec and its checked CSV reader (:mod:`vipant.datasets.columns`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vipant.datasets.columns import (
    NON_NEGATIVE,
    NONEMPTY,
    PATH,
    TEXT,
    BadValue,
    Column,
    Kind,
    OneToOne,
    Unique,
    in_range,
    matches,
    one_of,
    read_checked_csv,
    time_span,
)

FIELDS = (
    Column("name", PATH),
    Column("count", int, check=NON_NEGATIVE),
    Column("fold", int, check=in_range(1, 5)),
    Column("score", float),
    Column("flag", bool),
    Column("label", check=NONEMPTY),
    Column("note", TEXT, required=False, default=""),
)
HEADER = "name,count,fold,score,flag,label,note\n"
ROWS = "a.wav,3,1,0.5,True,dog, a  quiet   note \nsub/b.wav,0,5,-2,False,cat,\n"


def test_good_file_is_typed(write_file) -> None:
    df = read_checked_csv(write_file("good.csv", HEADER + ROWS), FIELDS)
    assert list(df.columns) == ["name", "count", "fold", "score", "flag", "label", "note", "line"]
    assert [str(t) for t in df.dtypes] == ["object", "int64", "int64", "float64", "bool", "object", "object", "int64"]
    assert df.to_dict("list") == {
        "name": ["a.wav", "sub/b.wav"],
        "count": [3, 0],
        "fold": [1, 5],
        "score": [0.5, -2.0],
        "flag": [True, False],
        "label": ["dog", "cat"],
        "note": ["a quiet note", ""],
        "line": [2, 3],
    }
    assert df.attrs["source"].endswith("good.csv") and df.attrs["skipped"] == []


def test_empty_body_keeps_dtypes(write_file) -> None:
    df = read_checked_csv(write_file("empty.csv", HEADER), FIELDS)
    assert len(df) == 0 and df["count"].dtype == "int64" and df["flag"].dtype == "bool"


def test_optional_column_may_be_absent(write_file) -> None:
    df = read_checked_csv(write_file("short.csv", "name,count,fold,score,flag,label\na.wav,1,2,3,False,x\n"), FIELDS)
    assert df["note"].tolist() == [""] and list(df.columns)[-2:] == ["note", "line"]


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("name,fold,score,flag,label,note\n", "'count'"),
        ("name,count,fold,score,flag,note\n", "'label'"),
    ],
)
def test_missing_required_column_is_fatal(write_file, refused, header: str, column: str) -> None:
    p = write_file("missing.csv", header)
    for mode in ("raise", "skip"):
        err = refused(read_checked_csv, p, 1, f"missing column {column}", columns=FIELDS, on_error=mode)
        assert "expected columns name,count,fold,score,flag,label,note" in err.problem


@pytest.mark.parametrize(
    ("header", "needle"),
    [
        ("name,count,fold,score,flag,label,note,extra\n", "unexpected column 'extra'"),
        ("count,name,fold,score,flag,label,note\n", "columns out of order"),
        ("name,count,count,fold,score,flag,label,note\n", "repeated column 'count'"),
        ("a.wav,3,1,0.5,True,dog,x\n", "none of the expected columns"),
    ],
)
def test_other_bad_headers(write_file, refused, header: str, needle: str) -> None:
    refused(read_checked_csv, write_file("bad.csv", header + ROWS), 1, needle, columns=FIELDS)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("c.wav,x3,1,0.5,True,dog,\n", "count 'x3' is not an integer"),
        ("c.wav,1.0,1,0.5,True,dog,\n", "count '1.0' is not an integer"),
        ("c.wav,3,6,0.5,True,dog,\n", "fold 6 not in 1..5"),
        ("c.wav,-3,1,0.5,True,dog,\n", "negative count -3"),
        ("c.wav,3,1,inf,True,dog,\n", "score 'inf' is not finite"),
        ("c.wav,3,1,half,True,dog,\n", "score 'half' is not a number"),
        ("c.wav,3,1,0.5,yes,dog,\n", "flag 'yes' is not True/False"),
        ("c.wav,3,1,0.5,True,  ,\n", "empty label"),
        ("../c.wav,3,1,0.5,True,dog,\n", "file name '../c.wav' escapes its folder ('..')"),
        ("c.wav,3,1,0.5,True\n", "expected 7 fields (name,count,fold,score,flag,label,note), found 5"),
    ],
)
def test_bad_value_names_file_column_line_and_value(write_file, refused, row: str, problem: str) -> None:
    p = write_file("bad.csv", HEADER + ROWS + row)
    err = refused(read_checked_csv, p, 4, problem, columns=FIELDS)
    assert err.problem == problem and str(err) == f"{p}:4: {problem}"


def test_first_failing_column_is_reported(write_file, refused) -> None:
    # fold and label are both bad: columns are checked in order, so fold is named
    refused(read_checked_csv, write_file("two.csv", HEADER + "c.wav,3,9,0.5,True,,\n"), 2, "fold 9", columns=FIELDS)


def test_skip_mode_records_each_bad_row(write_file, skipped_lines) -> None:
    bad = "c.wav,3,6,0.5,True,dog,\nd.wav,3,1,0.5,True,,\n"
    df = read_checked_csv(write_file("dirty.csv", HEADER + bad + ROWS), FIELDS, on_error="skip")
    assert df["name"].tolist() == ["a.wav", "sub/b.wav"] and df["line"].tolist() == [4, 5]
    assert skipped_lines(df) == [2, 3]
    assert [s.reason for s in df.attrs["skipped"]] == ["fold 6 not in 1..5", "empty label"]


def test_bad_on_error_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="on_error"):
        read_checked_csv(tmp_path / "x.csv", FIELDS, on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match="nothing.csv"):
        read_checked_csv(tmp_path / "nothing.csv", FIELDS)


def test_empty_file_names_the_columns(write_file, refused) -> None:
    refused(read_checked_csv, write_file("e.csv", ""), 1, "empty file; expected columns name,count", columns=FIELDS)
    tabbed = (Column("a"), Column("b"))
    err = refused(
        read_checked_csv, write_file("e.tsv", ""), 1, "tab-separated columns a, b", columns=tabbed, delimiter="\t"
    )
    assert err.problem == "empty file; expected tab-separated columns a, b"


def test_dest_keep_derive_and_rules(write_file, refused, skipped_lines) -> None:
    spec = (
        Column("code", int, dest="class_id"),
        Column("title", check=NONEMPTY, dest="name"),
        Column("start", float),
        Column("end", float, check=time_span("clip")),
        Column("tmp", keep=False),
    )
    rules = (OneToOne("class_id", "name"), Unique(("name", "start"), "clip (name, start)"))
    derive = {"key": lambda r: f"{r['name']}@{r['start']}:{r['tmp']}"}
    text = "code,title,start,end,tmp\n1,dog,0,1,x\n2,cat,0,1,y\n"
    df = read_checked_csv(write_file("r.csv", text), spec, rules=rules, derive=derive)
    assert list(df.columns) == ["class_id", "name", "start", "end", "key", "line"]
    assert df["key"].tolist() == ["dog@0.0:x", "cat@0.0:y"]
    cases = [
        ("1,cow,2,3,z\n", "class_id 1 is 'cow' here but 'dog' on line 2"),
        ("3,dog,2,3,z\n", "name 'dog' has class_id 3 here but 1 on line 2"),
        ("1,dog,0,2,z\n", "duplicate clip (name, start) ('dog', 0.0) (first on line 2)"),
        ("1,dog,2,2,z\n", "bad clip times start=2.0 end=2.0 (want 0 <= start < end)"),
    ]
    for row, problem in cases:
        refused(read_checked_csv, write_file("r.csv", text + row), 4, problem, columns=spec, rules=rules)


def test_rules_remember_only_kept_rows(write_file, skipped_lines) -> None:
    # line 3 repeats line 2's name but is skipped for its clip id; line 4 repeats line 3's name and
    # is compared with the kept line 2 only
    spec = (Column("name"), Column("clip"))
    rules = (Unique("clip"), Unique("name"))
    text = "name,clip\na,1\nb,1\nb,2\n"
    df = read_checked_csv(write_file("u.csv", text), spec, rules=rules, on_error="skip")
    assert df["name"].tolist() == ["a", "b"] and skipped_lines(df) == [3]


def test_headerless_and_comment_header(write_file, refused) -> None:
    spec = (Column("file", PATH), Column("scene", check=NONEMPTY))
    p = write_file("list.txt", " a.wav \tbeach\t\nb.wav\tbus\n")
    df = read_checked_csv(p, spec, header="none", delimiter="\t", strip_fields=True, drop_trailing_empty=True)
    assert df["file"].tolist() == ["a.wav", "b.wav"] and df["line"].tolist() == [1, 2]
    err = refused(
        read_checked_csv,
        write_file("wide.txt", "a\tb\tc\n"),
        1,
        "expected 2 tab-separated columns",
        columns=spec,
        header="none",
        delimiter="\t",
        on_error="skip",
    )
    assert err.problem == "expected 2 tab-separated columns (file, scene), found 3"
    text = "# made today\n# file, scene\na.wav, beach\n# a note\nb.wav, bus\n"
    df = read_checked_csv(write_file("c.csv", text), spec, header="comment", skipinitialspace=True)
    assert df["scene"].tolist() == ["beach", "bus"] and df["line"].tolist() == [3, 5]
    refused(
        read_checked_csv,
        write_file("c.csv", "# made today\na.wav, beach\n"),
        1,
        "missing the column comment '# file, scene' before the first row",
        columns=spec,
        header="comment",
    )


def test_custom_kind_and_checks(write_file, refused) -> None:
    def parse_pair(text: str, name: str) -> tuple[int, int]:
        parts = text.split(":")
        if len(parts) != 2:
            raise BadValue(f"{name} {text!r} is not a pair")
        return int(parts[0]), int(parts[1])

    spec = (
        Column("pair", Kind("pair", parse_pair)),
        Column("tag", check=(matches(r"[a-z]{2,3}"), one_of(("ab", "abc")))),
    )
    df = read_checked_csv(write_file("k.csv", "pair,tag\n1:2,ab\n"), spec)
    assert df["pair"].tolist() == [(1, 2)]
    refused(read_checked_csv, write_file("k.csv", "pair,tag\n1,ab\n"), 2, "pair '1' is not a pair", columns=spec)
    refused(
        read_checked_csv, write_file("k.csv", "pair,tag\n1:2,a\n"), 2, "tag 'a' does not match [a-z]{2,3}", columns=spec
    )
    refused(
        read_checked_csv,
        write_file("k.csv", "pair,tag\n1:2,xyz\n"),
        2,
        "tag 'xyz' is not one of 'ab', 'abc'",
        columns=spec,
    )


def test_column_rejects_unknown_type() -> None:
    with pytest.raises(TypeError, match="bytes"):
        Column("x", bytes)
