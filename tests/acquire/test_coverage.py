"""coverage_report / check_min_coverage on hand-made manifests."""

from __future__ import annotations

import logging
import math

import pandas as pd
import pytest

from vipant.acquire.coverage import (
    COVERAGE_COLUMNS,
    check_min_coverage,
    concat_coverage,
    coverage_report,
    coverage_row,
    write_coverage,
)
from vipant.acquire.manifest import REASONS, make_row, normalize_manifest


def _manifest(rows):
    return normalize_manifest([make_row(c, c[:11], 0, 10, status=s, reason=r) for c, s, r in rows])


def test_counts_by_reason_and_missing():
    requests = pd.DataFrame(
        [("audioset", "train", f"c{i}") for i in range(10)]
        + [("audioset", "eval", f"e{i}") for i in range(4)]
        + [("audiocaps", "test", "c0"), ("audiocaps", "test", "c0")],  # duplicate request counts once
        columns=["dataset", "split", "clip_id"],
    )
    shard_a = _manifest(
        [
            ("c0", "ok", ""),
            ("c1", "ok", ""),
            ("c2", "failed", "unavailable"),
            ("c3", "failed", "unavailable"),
            ("c4", "failed", "no_audio"),
        ]
    )
    shard_b = _manifest(
        [
            ("c5", "ok", ""),
            ("c6", "failed", "too_short"),
            ("c7", "failed", "network"),
            ("e0", "ok", ""),
            ("e1", "ok", ""),
            ("e2", "ok", ""),
            ("e3", "failed", "silent"),
            ("c7", "ok", ""),  # retried later in another shard: ok wins
            ("zz", "ok", ""),
        ]
    )  # not requested: ignored
    report = coverage_report(requests, pd.concat([shard_a, shard_b]))
    assert list(report.columns) == COVERAGE_COLUMNS
    assert all(f"failed_{r}" in report.columns for r in REASONS)
    rows = report.set_index(["dataset", "split"])
    train = rows.loc[("audioset", "train")]
    assert (train["requested"], train["ok"], train["failed"], train["missing"]) == (10, 4, 4, 2)
    assert train["coverage"] == pytest.approx(0.4)
    assert (train["failed_unavailable"], train["failed_no_audio"], train["failed_too_short"]) == (2, 1, 1)
    assert train["failed_network"] == 0 and train["failed_silent"] == 0 and train["failed_invalid_id"] == 0
    ev = rows.loc[("audioset", "eval")]
    assert (ev["requested"], ev["ok"], ev["failed_silent"], ev["missing"]) == (4, 3, 1, 0)
    ac = rows.loc[("audiocaps", "test")]
    assert (ac["requested"], ac["ok"], ac["coverage"]) == (1, 1, 1.0)


def test_local_rows_write_and_warn(tmp_path, caplog):
    requests = pd.DataFrame(
        [("audioset", "train", "a"), ("audioset", "train", "b")], columns=["dataset", "split", "clip_id"]
    )
    report = coverage_report(requests, _manifest([("a", "ok", ""), ("b", "failed", "unavailable")]))
    local = coverage_row("esc50", "all", 2000, 2000)
    both = concat_coverage([report, local])
    assert list(both.columns) == COVERAGE_COLUMNS and len(both) == 2
    assert both.iloc[1]["coverage"] == 1.0 and both.iloc[1]["failed_decode_error"] == 0
    with pytest.raises(ValueError):
        coverage_row("x", "y", 1, 0, {"bogus": 1})

    path = tmp_path / "coverage.csv"
    write_coverage(path, both)
    back = pd.read_csv(path)
    assert list(back.columns) == COVERAGE_COLUMNS and back["requested"].tolist() == [2, 2000]
    assert [p.name for p in tmp_path.iterdir()] == ["coverage.csv"]

    with caplog.at_level(logging.WARNING, logger="vipant.acquire.coverage"):
        low = check_min_coverage(both, 0.9)  # warns, never raises
    assert low == [("audioset", "train", 0.5)]
    assert len(caplog.records) == 1 and "audioset/train" in caplog.text and "unavailable" in caplog.text


def test_empty_inputs():
    report = coverage_report(pd.DataFrame(columns=["dataset", "split", "clip_id"]), normalize_manifest(None))
    assert list(report.columns) == COVERAGE_COLUMNS and len(report) == 0
    row = coverage_row("d", "s", 0, 0)
    assert math.isnan(row.loc[0, "coverage"])
    assert check_min_coverage(row, 0.9) == []


def test_coverage_from_files_combines_downloads_and_fbank(tmp_path):
    from vipant.acquire.coverage import coverage_from_files
    from vipant.acquire.manifest import make_row, write_manifest

    pd.DataFrame(
        {
            "dataset": ["audioset", "audioset", "audioset", "audiocaps", "esc50", "esc50"],
            "split": ["eval", "eval", "eval", "test", "fold1", "fold1"],
            "clip_id": ["a_0", "b_0", "c_0", "a_0", "1-1-A-0", "1-2-A-0"],
        }
    ).to_csv(tmp_path / "requests.csv", index=False)
    write_manifest(
        tmp_path / "shard-000.csv",
        pd.DataFrame(
            [
                make_row("a_0", "a", 0, 10, status="ok"),
                make_row("b_0", "b", 0, 10, status="ok"),
                make_row("c_0", "c", 0, 10, status="failed", reason="unavailable"),
            ]
        ),
    )
    (tmp_path / "audioset").mkdir()
    pd.DataFrame({"clip_id": ["a_0", "b_0"], "status": ["ok", "failed"], "reason": ["", "decode_error"]}).to_csv(
        tmp_path / "audioset" / "index.csv", index=False
    )
    (tmp_path / "esc50").mkdir()
    pd.DataFrame(
        {"clip_id": ["1-1-A-0", "1-2-A-0"], "status": ["ok", "failed"], "reason": ["", "decode_error"]}
    ).to_csv(tmp_path / "esc50" / "index.csv", index=False)
    report = coverage_from_files(
        tmp_path / "requests.csv",
        [tmp_path / "shard-000.csv"],
        [tmp_path / "audioset" / "index.csv", tmp_path / "esc50" / "index.csv"],
    ).set_index(["dataset", "split"])
    assert report.loc[
        ("audioset", "eval"), ["requested", "ok", "failed_unavailable", "failed_decode_error"]
    ].tolist() == [3, 1, 1, 1]
    assert report.loc[("audiocaps", "test"), "ok"] == 1
    assert report.loc[("esc50", "fold1"), ["requested", "ok", "failed_decode_error"]].tolist() == [2, 1, 1]


def test_coverage_gate_command_stops_training_below_min_coverage(tmp_path, caplog):
    """Catches a gate that only warns (the old behaviour: pretrain_va started at any coverage), one that
    compares against the wrong column or threshold, and an override that does not let training through."""
    import json

    from vipant.cli import main

    report = concat_coverage(
        [
            coverage_row("audioset", "balanced_train", 10, 9, {"unavailable": 1}),
            coverage_row("audioset", "unbalanced_train", 10, 6, {"blocked": 3, "unavailable": 1}),
        ]
    )
    path = tmp_path / "coverage.csv"
    report.to_csv(path, index=False)
    out = tmp_path / "gate.json"
    with pytest.raises(SystemExit) as err:
        main(["coverage-gate", "--coverage", str(path), "--min-coverage", "0.8", "--out", str(out)])
    msg = str(err.value)
    assert "audioset/unbalanced_train: coverage 0.600 (6 of 10 clips) < min_coverage 0.800" in msg
    assert "3 retryable" in msg and "balanced_train:" not in msg.replace("unbalanced_train", "")
    assert not out.exists()
    main(["coverage-gate", "--coverage", str(path), "--min-coverage", "0.5", "--out", str(out)])
    assert json.loads(out.read_text())["low_splits"] == []
    main(["coverage-gate", "--coverage", str(path), "--min-coverage", "0.8", "--allow-low", "--out", str(out)])
    assert json.loads(out.read_text())["low_splits"] == [
        {"dataset": "audioset", "split": "unbalanced_train", "coverage": 0.6}
    ]
