"""Follow-up A on the tiny world: frame-matching variants × seeds, their GC fine-tunes, Tables III and IV."""

import json

import pandas as pd
import pytest

pytestmark = pytest.mark.workflow

TARGETS = ("results/temporal_table3.csv", "results/temporal_table4.csv")


# The tiny run's Random Match seed 0 has vip-AnT's recipe, so it is vip-AnT (vipant.registry aliases) and
# its GC fine-tune is at_GC: where each (variant, seed) run's VA model and fine-tune live.
def _va(variant: str, seed: int) -> str:
    return "vipant" if (variant, seed) == ("random", 0) else f"tm_{variant}_s{seed}"


def _at(variant: str, seed: int) -> str:
    return "at/GC" if (variant, seed) == ("random", 0) else f"at_temporal/tm_{variant}_s{seed}"


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
            va, at = w / "models" / "va" / _va(variant, seed), w / "models" / _at(variant, seed)
            assert load_checkpoint(va / "model.pt")["match"] == match
            history = json.loads((va / "history.json").read_text())
            seeds.add(json.dumps(history["history"][-1], sort_keys=True))
            # the readout its loss trained (Multiframe: the segment mean), kept through AT fine-tuning
            readout = "segment_mean" if match == "multiframe" else "cls"
            for model in (va, at):
                assert load_checkpoint(model / "model.pt")["readout"] == readout
        assert len(seeds) == 2, f"{variant}: two seeds gave identical training histories"


def test_nearest_match_starts_from_the_random_match_run_of_its_own_seed(run):
    w = run / "data" / "synthetic"
    first = {}
    for variant in ("random", "nearest5"):
        for seed in (0, 1):
            history = json.loads((w / "models" / "va" / _va(variant, seed) / "history.json").read_text())
            first[variant, seed] = history["history"][0]["loss"]
    for seed in (0, 1):
        # nearest@1 skipped epoch 0, the Random Match run's epoch 0 of the same seed
        assert (w / "models" / "va" / _va("random", seed) / "start_of_epoch1.pt").is_file()
        assert "starting from" in (w / "logs" / "pretrain_va" / f"tm_nearest5_s{seed}.log").read_text()
        assert first["nearest5", seed] == first["random", seed] != first["random", 1 - seed]


def test_random_match_seed_0_is_vipant_trained_once(run):
    """The run identical to vip-AnT is not trained, fine-tuned or evaluated a second time."""
    w = run / "data" / "synthetic"
    assert not (w / "models" / "va" / "tm_random_s0").exists()
    assert not (w / "models" / "at_temporal" / "tm_random_s0").exists()
    assert not (w / "eval" / "tm_random_s0").exists() and not (w / "eval" / "tm_random_s0_at").exists()
    log = (w / "logs" / "tables" / "temporal_table3.log").read_text()
    assert "ignored" not in log  # every file it read is a row
