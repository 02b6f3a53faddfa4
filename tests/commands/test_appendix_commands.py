"""Glue of the appendix commands: clip selection for the embedding cache and the linear-probe job on
cached embeddings (one metrics.json per task)."""

import json
from argparse import Namespace

import numpy as np
import pandas as pd
import pytest

from vipant.commands.embed_audio import select_clips
from vipant.embed.table import save_table


def test_select_clips_filters_rows_and_keeps_first_occurrences(tmp_path):
    path = tmp_path / "requests.csv"
    pd.DataFrame(
        {
            "dataset": ["audioset", "audioset", "esc50", "audioset"],
            "split": ["balanced_train", "eval", "fold1", "balanced_train"],
            "clip_id": ["b", "e", "x", "a"],
        }
    ).to_csv(path, index=False)
    assert select_clips(str(path), ["dataset=audioset", "split=balanced_train"]) == ["b", "a"]
    with pytest.raises(ValueError, match="bad filter 'colour=red'"):
        select_clips(str(path), ["colour=red"])
    with pytest.raises(ValueError, match="no clip matches"):
        select_clips(str(path), ["split=test"])


def test_linear_probe_job_writes_one_metrics_file_per_task(tmp_path, monkeypatch):
    from vipant.commands import linear_probe

    monkeypatch.setenv("VIPANT_MLFLOW_URI", "off")  # no tracking database in the test's working directory

    rng = np.random.default_rng(1)
    esc = pd.DataFrame(
        {"clip_id": [f"e{i}" for i in range(20)], "fold": np.tile([1, 2, 3, 4, 5], 4), "target": np.repeat([0, 1], 10)}
    )
    esc.to_csv(tmp_path / "audio_esc50.csv", index=False)
    pd.DataFrame({"class": ["dog", "rain"], "text": ["dog", "rain"]}).to_csv(tmp_path / "classes.csv", index=False)
    centres = np.array([[3.0, 0, 0, 0], [0, 3.0, 0, 0]])
    save_table(tmp_path / "esc50", esc[["clip_id"]], centres[esc["target"]] + 0.1 * rng.standard_normal((20, 4)))
    out = tmp_path / "eval"
    linear_probe.run(
        Namespace(
            model_name="vipant",
            tasks="esc50_probe",
            out_dir=str(out),
            track_json=None,
            probe_json=json.dumps({"epochs": 20, "batch_size": 16, "lr": 0.05}),
            inputs_json=json.dumps(
                {
                    "esc50": str(tmp_path / "esc50.csv"),
                    "labels_esc50": str(tmp_path / "audio_esc50.csv"),
                    "classes_esc50": str(tmp_path / "classes.csv"),
                }
            ),
        )
    )
    written = json.loads((out / "esc50_probe" / "metrics.json").read_text())
    assert written["model"] == "vipant" and written["task"] == "esc50_probe" and written["n"] == 20
    assert written["metrics"]["acc"] == pytest.approx(100.0) and written["chance"]["acc"] == 50.0


def test_select_clips_takes_the_union_of_several_files(tmp_path):
    a, b = tmp_path / "wild.csv", tmp_path / "pairs.csv"
    pd.DataFrame({"clip_id": ["x", "y"]}).to_csv(a, index=False)
    pd.DataFrame({"clip_id": ["y", "z", "z"], "text_row": [0, 1, 2]}).to_csv(b, index=False)
    assert select_clips([str(a), str(b)], []) == ["x", "y", "z"]
