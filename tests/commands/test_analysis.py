import json

import numpy as np
import pandas as pd
import pytest

from vipant.cli import main
from vipant.commands.analysis import named_paths
from vipant.tables import write_metrics


def _fbank_index(path, clips):
    rows = [
        {"clip_id": c, "shard": "shard-000.npy", "row": i, "n_frames": 10, "status": "ok", "reason": "", "detail": ""}
        for i, c in enumerate(clips)
    ]
    rows.append(
        {"clip_id": "failed", "shard": "", "row": -1, "n_frames": 0, "status": "failed", "reason": "x", "detail": ""}
    )
    pd.DataFrame(rows).to_csv(path, index=False)
    np.save(path.parent / "shard-000.npy", np.zeros((len(clips), 10, 128), dtype=np.float16))


def _pairs(path, clips):
    pd.DataFrame({"clip_id": clips, "text_row": range(len(clips)), "text": "t", "score": ""}).to_csv(path, index=False)
    return path


def _metrics(tmp_path, model, esc):
    paths = []
    for task, metrics, chance in (
        ("audiocaps_retrieval", {"t2a_R@1": esc / 4, "a2t_R@1": esc / 3}, {"t2a_R@1": 1.0}),
        ("esc50_zs", {"acc_prompt": esc}, {"acc": 2.0}),
        ("us8k_zs", {"acc_prompt": esc - 5}, {"acc": 10.0}),
    ):
        paths.append(tmp_path / "eval" / model / task / "metrics.json")
        write_metrics(paths[-1], model, task, metrics, chance, 10)
    return paths


def test_scaling_command_counts_trainable_pairs_and_writes_csv_and_json(tmp_path, monkeypatch):
    monkeypatch.setenv("VIPANT_MLFLOW_URI", "off")
    clips = [f"c{i}" for i in range(12)]
    _fbank_index(tmp_path / "index.csv", clips)
    pairs, metrics = [], []
    for n in (2, 4, 8):
        pairs.append(f"at_GC@{n}={_pairs(tmp_path / f'GC@{n}.csv', clips[:n])}")
        metrics += _metrics(tmp_path, f"at_GC@{n}", 40 + 3 * np.log2(n))
    pairs.append(f"at_GC={_pairs(tmp_path / 'GC.csv', clips + ['failed', 'absent'])}")  # 12 trainable of 14
    metrics += _metrics(tmp_path, "at_GC", 40 + 3 * np.log2(12) + 0.1) + _metrics(tmp_path, "vipant", 30)
    main(
        [
            "scaling",
            "--pairs",
            *pairs,
            "--zero-pair-models",
            "vipant",
            "--fbank-index",
            str(tmp_path / "index.csv"),
            "--metrics",
            *map(str, metrics),
            "--out-csv",
            str(tmp_path / "s.csv"),
            "--out-json",
            str(tmp_path / "s.json"),
        ]
    )
    table = pd.read_csv(tmp_path / "s.csv")
    assert table["N"].tolist() == [0, 2, 4, 8, 12]
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["fits"]["esc50_acc"]["slope"] == pytest.approx(3.0, abs=0.05)
    assert table["esc50_log2_N_at_human_parity"].iloc[0] == pytest.approx(summary["extrapolation"]["log2_n"])
    assert summary["extrapolation"]["log2_n"] == pytest.approx(41 / 3, abs=0.2)
    main(
        [
            "figure7",
            "--scaling-csv",
            str(tmp_path / "s.csv"),
            "--scaling-json",
            str(tmp_path / "s.json"),
            "--out",
            str(tmp_path / "f7.png"),
        ]
    )
    assert (tmp_path / "f7.png").stat().st_size > 10_000


def test_scaling_command_refuses_a_stale_gc_at_n_list(tmp_path, monkeypatch):
    monkeypatch.setenv("VIPANT_MLFLOW_URI", "off")
    _fbank_index(tmp_path / "index.csv", ["a", "b", "c"])
    stale = _pairs(tmp_path / "GC@4.csv", ["a", "b", "c", "gone"])
    with pytest.raises(ValueError, match="GC@4.csv: at_GC@4 should hold 4 pairs with features, holds 3"):
        main(
            [
                "scaling",
                "--pairs",
                f"at_GC@4={stale}",
                "--fbank-index",
                str(tmp_path / "index.csv"),
                "--metrics",
                *map(str, _metrics(tmp_path, "at_GC@4", 40)),
                "--out-csv",
                str(tmp_path / "s.csv"),
                "--out-json",
                str(tmp_path / "s.json"),
            ]
        )


def test_named_arguments():
    assert named_paths(["at_GC@4=a=b.csv", "CLIP init=x.json"], "--pairs") == {
        "at_GC@4": "a=b.csv",
        "CLIP init": "x.json",
    }
    with pytest.raises(ValueError, match="NAME=PATH"):
        named_paths(["nopath"], "--pairs")
    with pytest.raises(ValueError, match="twice"):
        named_paths(["a=1", "a=2"], "--pairs")
