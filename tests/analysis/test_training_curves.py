import json

import pytest

from vipant.analysis.training_curves import HistoryFileError, label_set_curves, read_history


def _write(path, history):
    path.write_text(json.dumps({"history": history}))
    return path


def test_label_set_curves_from_a_history(tmp_path):
    history = [
        {
            "epoch": e,
            "loss": 1.0 / (e + 1),
            "val_i2a_R@1": 7.0,
            "val_i2a_labelset_P@5": 10.0 + e,
            "val_i2a_labelset_R@5": 20.0 + e,
            "val_i2a_labelset_chance_P@5": 4.0,
            "val_i2a_labelset_chance_R@5": 31.25,
        }
        for e in (1, 0)
    ]
    curves = label_set_curves(_write(tmp_path / "history.json", history))
    assert set(curves["kind"]) == {"P", "R"} and set(curves["k"]) == {5}
    p = curves[curves["kind"] == "P"]
    assert p["epoch"].tolist() == [0, 1] and p["value"].tolist() == [10.0, 11.0]
    assert (p["chance"] == 4.0).all()
    assert read_history(tmp_path / "history.json")["epoch"].tolist() == [0, 1]


def test_old_histories_and_bad_files_are_named(tmp_path):
    old = _write(tmp_path / "old.json", [{"epoch": 0, "val_i2a_R@1": 7.0}])
    with pytest.raises(HistoryFileError, match="old.json.*rerun its pretrain_va"):
        label_set_curves(old)
    with pytest.raises(HistoryFileError, match="not found"):
        read_history(tmp_path / "missing.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(HistoryFileError, match="broken.json"):
        read_history(tmp_path / "broken.json")
    with pytest.raises(HistoryFileError, match="at least one epoch"):
        read_history(_write(tmp_path / "empty.json", []))
    with pytest.raises(HistoryFileError, match="'epoch'"):
        read_history(_write(tmp_path / "noepoch.json", [{"loss": 1.0}]))
