"""Follow-up B's curation tables (vipant.tables.curation_table2/3): built from metrics.json files only,
per-task students fill their task's column, the paper's mean/std and chance sit beside ours."""

import math

import pytest

from vipant.tables import MetricsFileError, build_table, write_metrics

TASKS = ("esc50", "us8k", "tut17")


def _write(tmp_path, model, task, acc, chance=10.0):
    path = tmp_path / model / task / "metrics.json"
    write_metrics(path, model, task, {"acc_prompt": acc, "acc_noprompt": acc - 1}, {"acc": chance}, 100)
    return path


def test_table2_takes_each_ds_column_from_that_tasks_student(tmp_path):
    paths = [_write(tmp_path, "at_GC", f"{t}_zs", 30.0 + i) for i, t in enumerate(TASKS)]
    paths += [_write(tmp_path, "student_full_DU_sl", f"{t}_zs", 40.0 + i) for i, t in enumerate(TASKS)]
    for i, t in enumerate(TASKS):  # each DS student is evaluated on every task; only its own counts
        for j, u in enumerate(TASKS):
            paths.append(_write(tmp_path, f"student_full_DS_{t}_sl", f"{u}_zs", 50.0 + 10 * i + j))
    df = build_table("curation_table2", paths)
    assert df["Model"].tolist() == ["Teacher (vip-AnT + AT w/ GC)", "DU+SL", "DS+SL"]
    ds = df.set_index("Model").loc["DS+SL"]
    assert (ds["ESC-50"], ds["US8K"], ds["TUT17"]) == (50.0, 61.0, 72.0)  # the diagonal
    assert ds["ESC-50 (paper)"] == 83.5 and ds["TUT17 ± (paper)"] == 2.6
    assert ds["US8K (chance)"] == 10.0
    teacher = df.set_index("Model").loc["Teacher (vip-AnT + AT w/ GC)"]
    assert teacher["US8K"] == 31.0 and teacher["US8K (paper)"] == 74.8


def test_table3_rows_and_missing_cells(tmp_path):
    paths = [
        _write(tmp_path, "teacher_sub", "esc50_zs", 20.0),
        _write(tmp_path, "student_sub_ADS_esc50_sl", "esc50_zs", 25.0),
    ]
    df = build_table("curation_table3", paths).set_index("Model")
    assert df.index.tolist() == ["Teacher (10 % of GC)", "ADS + SL"]
    assert df.loc["ADS + SL", "ESC-50"] == 25.0 and df.loc["ADS + SL", "ESC-50 (paper)"] == 81.3
    assert math.isnan(df.loc["ADS + SL", "US8K"])  # no US8K student given: an empty cell, not an error
    assert df.loc["ADS + SL", "US8K (paper)"] == 74.5


def test_a_file_without_accuracy_or_no_cell_at_all_is_an_error(tmp_path):
    path = tmp_path / "m.json"
    write_metrics(path, "at_GC", "esc50_zs", {"mAP_prompt": 1.0}, {}, 1)
    with pytest.raises(MetricsFileError, match="lack 'acc_prompt'"):
        build_table("curation_table2", [path])
    other = _write(tmp_path, "vipant", "esc50_zs", 30.0)
    with pytest.raises(MetricsFileError, match="none of the 1 metrics files"):
        build_table("curation_table3", [other])
