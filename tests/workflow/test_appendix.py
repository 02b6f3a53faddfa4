"""vip-AnT appendices on the tiny world: Table 7 (linear probe), VAT vs AT (appendix E), figure 10
(pivotability), built on top of the shared tiny run."""

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

pytestmark = pytest.mark.workflow

TARGETS = ("results/table7.csv", "results/table_vat.csv", "results/figure10.png")


@pytest.fixture(scope="module")
def run(tiny_followups):
    """The tiny run with TARGETS built (with the other follow-up modules' targets, in one invocation)."""
    return tiny_followups


def W(run):
    return run / "data" / "synthetic"


def test_table7_has_a_row_per_initialisation_with_paper_values(run):
    t7 = pd.read_csv(run / "results" / "table7.csv")
    assert t7["Model"].tolist() == ["random", "CLIP", "vip-AnT"]
    for col in ("AS balanced mAP", "US8K acc", "ESC50 acc"):
        assert t7[col].between(0, 100).all(), col
        assert t7[f"{col} (chance)"].notna().all()
    assert t7["ESC50 acc std"].notna().all()
    assert t7["ESC50 acc (paper)"].tolist()[1:] == [89.7, 95.7] and np.isnan(t7["ESC50 acc (paper)"][0])
    assert t7["AS balanced mAP (paper)"].tolist()[2] == 37.9


def test_probe_metrics_cover_every_fold_and_embeddings_are_cached(run):
    w = W(run)
    esc = json.loads((w / "eval" / "vipant" / "esc50_probe" / "metrics.json").read_text())
    meta = pd.read_csv(w / "meta" / "audio_esc50.csv")
    assert esc["metrics"]["n_folds"] == meta["fold"].nunique() == 5
    assert {f"acc_fold{f}" for f in meta["fold"].unique()} <= set(esc["metrics"])
    cached = pd.read_csv(w / "embed" / "audio" / "vipant" / "esc50.csv")
    assert esc["n"] == len(cached) and set(cached["clip_id"]) <= set(meta["clip_id"])
    assert np.load(w / "embed" / "audio" / "vipant" / "esc50.npy").shape[0] == len(cached)
    train = pd.read_csv(w / "embed" / "audio" / "init_random" / "audioset_balanced_train.csv")
    test = pd.read_csv(w / "embed" / "audio" / "init_random" / "audioset_eval.csv")
    assert not set(train["clip_id"]) & set(test["clip_id"])


def test_table_vat_pairs_at_and_vat_per_curation(run):
    from vipant.checkpoint import load_checkpoint

    tv = pd.read_csv(run / "results" / "table_vat.csv")
    assert tv["Model"].tolist() == ["vip-AnT", "+AT w/ GC", "+VAT w/ GC"]
    assert tv["AudioCaps T→A R@1 (paper)"].tolist()[:2] == [0.8, 27.7] and np.isnan(tv["AudioCaps T→A R@1 (paper)"][2])
    assert tv["ESC50 zero-shot acc"].between(0, 100).all()
    state = load_checkpoint(W(run) / "models" / "vat" / "GC" / "model.pt")
    assert state["objective"] == "VAT"
    at_log = (W(run) / "logs" / "finetune_vat" / "GC.log").read_text()
    assert "VAT fine-tuning on GC.csv" in at_log


def test_figure10_plots_one_curve_per_model_from_the_metrics(run):
    data = pd.read_csv(run / "results" / "figure10.csv")
    assert list(dict.fromkeys(data["model"])) == ["vipant", "at_GC", "oracle_av_clip"]
    assert data["pivotability"].between(0, 1).all() and data["pivotability_chance"].between(0, 1).all()
    for _, part in data.groupby("model"):
        assert part["k"].is_monotonic_increasing and part["pivotability"].is_monotonic_increasing
    n_test = len(pd.read_csv(W(run) / "embed" / "audio" / "vipant" / "audiocaps_test.csv"))
    assert data["k"].max() <= n_test  # k larger than the test set is left out
    # with every test image retrieved, the chance and the model's value coincide
    full = data[data["k"] == n_test]
    if not full.empty:
        assert np.allclose(full["pivotability"], full["pivotability_chance"])
    image = Image.open(run / "results" / "figure10.png")
    assert image.size[0] > 600 and image.size[1] > 400
