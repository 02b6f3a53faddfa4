"""The rest of vip-AnT on the tiny world: GC@N scaling (figure 7), Table 8 and figure 5, built on the tiny run."""

import json
import sqlite3

import pandas as pd
import pytest

pytestmark = pytest.mark.workflow

TARGETS = ("results/scaling.csv", "results/figure7.png", "results/table8.csv", "results/figure5.png")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run(tiny_followups):
    """The tiny run with TARGETS built (with the other follow-up modules' targets, in one invocation)."""
    return tiny_followups


def test_gc_at_n_pair_lists_are_nested_gold_pairs_with_features(run):
    from vipant.features.store import FbankStore

    w = run / "data" / "synthetic"
    have = set(FbankStore(w / "fbank" / "audioset" / "index.csv").clip_ids)
    gold = pd.read_csv(w / "curation" / "GC.csv", dtype={"clip_id": str})
    gold_pairs = set(zip(gold["clip_id"], gold["text"]))
    previous: set = set()
    for n in (2, 4, 8):  # .test/config.yaml's scaling block: 2^1 .. 2^3
        pairs = pd.read_csv(w / "curation" / f"GC@{n}.csv", dtype={"clip_id": str})
        now = set(zip(pairs["clip_id"], pairs["text"]))
        assert len(pairs) == n and now <= gold_pairs and pairs["clip_id"].isin(have).all()
        assert previous <= now
        previous = now
        assert (w / "models" / "at" / f"GC@{n}" / "model.pt").is_file()


def test_scaling_table_fits_and_extrapolation(run):
    w = run / "data" / "synthetic"
    table = pd.read_csv(run / "results" / "scaling.csv")
    gold = pd.read_csv(w / "curation" / "GC.csv", dtype={"clip_id": str})
    from vipant.features.store import FbankStore

    full = int(gold["clip_id"].isin(set(FbankStore(w / "fbank" / "audioset" / "index.csv").clip_ids)).sum())
    assert table["model"].tolist() == ["vipant", "at_GC@2", "at_GC@4", "at_GC@8", "at_GC"]
    assert table["N"].tolist() == [0, 2, 4, 8, full]
    assert table["log2_N"].iloc[1:4].tolist() == [1.0, 2.0, 3.0] and pd.isna(table["log2_N"].iloc[0])
    for column in ("audiocaps_t2a_R@1", "audiocaps_a2t_R@1", "esc50_acc", "us8k_acc"):
        assert table[column].between(0, 100).all() and table[f"{column}_chance"].notna().all()
    ours = json.loads((w / "eval" / "at_GC@4" / "esc50_zs" / "metrics.json").read_text())["metrics"]["acc_prompt"]
    assert table.set_index("model").at["at_GC@4", "esc50_acc"] == pytest.approx(ours)
    summary = json.loads((run / "results" / "scaling.json").read_text())
    assert set(summary["fits"]) == {"audiocaps_t2a_R@1", "audiocaps_a2t_R@1", "esc50_acc", "us8k_acc"}
    assert summary["points"] == 4 and summary["fits"]["esc50_acc"]["dof"] == 2
    ext = summary["extrapolation"]
    assert ext["target"] == 81.0 and summary["paper"]["log2_n"] == 21.0
    if ext["log2_n"] is None:  # the tiny models are near chance: a flat or falling line is reported as such
        assert ext["note"].startswith("no extrapolation") and table["esc50_log2_N_at_human_parity"].isna().all()
    else:
        assert ext["ci_low"] <= ext["log2_n"] <= ext["ci_high"]
        assert table["esc50_log2_N_at_human_parity"].iloc[0] == pytest.approx(ext["log2_n"])
    assert (run / "results" / "figure7.png").read_bytes()[:8] == PNG


def test_table8_has_10s_beside_18s_for_every_model(run):
    w = run / "data" / "synthetic"
    table = pd.read_csv(run / "results" / "table8.csv")
    assert table["Model"].tolist() == [
        "VA-Rand",
        "vip-AnT",
        "+AT w/ AC",
        "+AT w/ FC",
        "+AT w/ VC",
        "+AT w/ RC",
        "+AT w/ GL",
        "+AT w/ GC",
    ]
    for length in ("10 s", "18 s"):
        for col in (f"Clotho {length} T→A R@1", f"Clotho {length} A→T R@10"):
            assert table[col].between(0, 100).all() and table[f"{col} (paper)"].notna().all()
    assert table.set_index("Model").at["+AT w/ GC", "Clotho 10 s T→A R@1 (paper)"] == 10.2
    ten = json.loads((w / "eval" / "vipant" / "clotho_10s_retrieval" / "metrics.json").read_text())
    eighteen = json.loads((w / "eval" / "vipant" / "clotho_retrieval" / "metrics.json").read_text())
    assert ten["task"] == "clotho_10s_retrieval" and ten["n"] == eighteen["n"] > 0


def test_figure5_reads_label_set_precision_recall_from_the_va_histories(run):
    w = run / "data" / "synthetic"
    for model in ("vipant", "va_rand"):
        history = json.loads((w / "models" / "va" / model / "history.json").read_text())["history"]
        for record in history:
            assert 0 <= record["val_i2a_labelset_P@5"] <= 100 and 0 <= record["val_i2a_labelset_R@5"] <= 100
            assert record["val_i2a_labelset_chance_R@5"] == pytest.approx(100 * 5 / 16)  # max_val 16 clips
            assert "val_i2a_R@1" in record  # the existing metrics stay
    png = (run / "results" / "figure5.png").read_bytes()
    assert png[:8] == PNG and len(png) > 10_000


def test_new_jobs_log_to_mlflow(run):
    db = sqlite3.connect(run / "mlflow.db")
    names = [r[0] for r in db.execute("select name from runs")]
    for rule in ("scaling", "figure7", "figure5", "evaluate_clotho_10s"):
        assert any(n.startswith(rule) for n in names), rule
