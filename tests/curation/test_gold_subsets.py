import pandas as pd
import pytest

from vipant.curation.curate import gold_subset, gold_subset_size


def _gold(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "clip_id": [f"c{i}" for i in range(n)],
            "text_row": range(n),
            "text": [f"caption {i}" for i in range(n)],
            "score": float("nan"),
        }
    )


def test_gc_at_n_names():
    assert gold_subset_size("GC@64") == 64
    for name in ("GC", "AC", "GC@0", "GC@x", "GL@4", "GC@04"):
        assert gold_subset_size(name) is None


def test_subsets_are_nested_seeded_and_only_use_clips_with_features():
    gold = _gold(40)
    have = {f"c{i}" for i in range(40) if i % 5}  # 32 clips have features
    subsets = {n: gold_subset(gold, n, have, seed=3) for n in (2, 4, 8, 16, 32)}
    for n, pairs in subsets.items():
        assert len(pairs) == n and pairs["clip_id"].is_unique and pairs["clip_id"].isin(have).all()
        assert list(pairs.columns) == list(gold.columns)
    for small, big in ((2, 4), (4, 8), (8, 16), (16, 32)):
        assert set(subsets[small]["clip_id"]) <= set(subsets[big]["clip_id"])
    assert set(subsets[32]["clip_id"]) == have
    assert gold_subset(gold, 8, have, seed=3).equals(subsets[8])
    assert not gold_subset(gold, 8, have, seed=4).equals(subsets[8])


def test_asking_for_more_pairs_than_have_features_is_an_error():
    with pytest.raises(ValueError, match=r"GC@16: only 10 of 20 gold pairs have FBANK features"):
        gold_subset(_gold(20), 16, {f"c{i}" for i in range(10)})
