"""Follow-up A on the tiny world: frame-matching variants × seeds, their GC fine-tunes, Tables III and IV."""

import json

import pandas as pd
import pytest

pytestmark = pytest.mark.workflow

TARGETS = ("results/temporal_table3.csv", "results/temporal_table4.csv")


@pytest.fixture(scope="module")
def run(tiny_followups):
    """The tiny run with TARGETS built (with the other follow-up modules' targets, in one invocation)."""
    return tiny_followups


def test_tables_have_a_row_per_variant_averaged_over_seeds(run):
    t3 = pd.read_csv(run / "results" / "temporal_table3.csv")
    assert t3["Model"].tolist() == ["VIP-ANT (reproduction)", "Nearest Match (n = 5)", "Multiframe Match"]
    assert (t3["seeds"] == 2).all()
    assert t3[["A→I R@1", "A→I R@5", "I→A R@1", "I→A R@5"]].apply(lambda c: c.between(0, 100)).all().all()
    assert t3["A→I R@1 ±"].notna().all() and t3["A→I R@1 (paper)"].tolist() == [10.94, 10.94, 15.83]
    t4 = pd.read_csv(run / "results" / "temporal_table4.csv")
    assert t4["Model"].tolist() == t3["Model"].tolist() and (t4["seeds"] == 2).all()
    assert t4["T→A R@10"].between(0, 100).all() and t4["T→A R@1 (chance)"].notna().all()


def test_each_variant_trained_with_its_frame_matching_and_seed(run):
    from vipant.checkpoint import load_checkpoint

    w = run / "data" / "synthetic"
    for variant, match in (("random", "random"), ("nearest5", "nearest@1"), ("multiframe", "multiframe")):
        seeds = set()
        for seed in (0, 1):
            assert load_checkpoint(w / "models" / "va" / f"tm_{variant}_s{seed}" / "model.pt")["match"] == match
            history = json.loads((w / "models" / "va" / f"tm_{variant}_s{seed}" / "history.json").read_text())
            seeds.add(json.dumps(history["history"][-1], sort_keys=True))
            assert (w / "models" / "at_temporal" / f"tm_{variant}_s{seed}" / "model.pt").is_file()
            # the readout its loss trained (Multiframe: the segment mean), kept through AT fine-tuning
            readout = "segment_mean" if match == "multiframe" else "cls"
            for kind in ("va", "at_temporal"):
                assert load_checkpoint(w / "models" / kind / f"tm_{variant}_s{seed}" / "model.pt")["readout"] == readout
        assert len(seeds) == 2, f"{variant}: two seeds gave identical training histories"


def test_nearest_match_starts_from_the_random_match_run_of_its_own_seed(run):
    w = run / "data" / "synthetic"
    first = {}
    for variant in ("random", "nearest5"):
        for seed in (0, 1):
            history = json.loads((w / "models" / "va" / f"tm_{variant}_s{seed}" / "history.json").read_text())
            first[variant, seed] = history["history"][0]["loss"]
    for seed in (0, 1):
        # nearest@1 skipped epoch 0, the Random Match run's epoch 0 of the same seed
        assert (w / "models" / "va" / f"tm_random_s{seed}" / "start_of_epoch1.pt").is_file()
        assert "starting from" in (w / "logs" / "pretrain_va" / f"tm_nearest5_s{seed}.log").read_text()
        assert first["nearest5", seed] == first["random", seed] != first["random", 1 - seed]
