import numpy as np
import pandas as pd
import pytest
import torch

from vipant.features.fbank import INDEX_COLUMNS
from vipant.features.store import FbankStats, FbankStore, compute_stats, estimate_stats, merge_indexes, sample_clips


def _write_shard(folder, name, ids, frames=20, fill=None):
    rng = np.random.default_rng(len(name))
    array = rng.standard_normal((len(ids), frames, 128)).astype(np.float16)
    if fill is not None:
        array[:] = fill
    np.save(folder / f"{name}.npy", array)
    rows = [
        {
            "clip_id": c,
            "shard": f"{name}.npy",
            "row": i,
            "n_frames": frames - 2,
            "status": "ok",
            "reason": "",
            "detail": "",
        }
        for i, c in enumerate(ids)
    ]
    pd.DataFrame(rows, columns=INDEX_COLUMNS).to_csv(folder / f"{name}.csv", index=False)
    return array


@pytest.fixture
def store_dir(tmp_path):
    a = _write_shard(tmp_path, "shard-0", ["x0", "x1", "x2"])
    b = _write_shard(tmp_path, "shard-1", ["y0", "y1"])
    merge_indexes([tmp_path / "shard-0.csv", tmp_path / "shard-1.csv"], tmp_path / "index.csv")
    return tmp_path, a, b


def test_get_and_batch_agree_and_normalise(store_dir):
    folder, a, b = store_dir
    stats = FbankStats(mean=1.5, std=2.0)
    store = FbankStore(folder / "index.csv", stats)
    assert len(store) == 5 and "y1" in store and store.stored_length == 20
    one = store.get("y1")
    assert torch.allclose(one, (torch.from_numpy(b[1].astype(np.float32)) - 1.5) / 2.0)
    batch = store.batch(["y1", "x0", "x2", "y1"])
    assert batch.shape == (4, 20, 128)
    assert torch.equal(batch[0], one) and torch.equal(batch[3], one)
    assert torch.equal(batch[1], store.get("x0"))


def test_length_pads_or_truncates(store_dir):
    folder, a, _ = store_dir
    store = FbankStore(folder / "index.csv", None, length=30)
    x = store.get("x0")
    assert x.shape == (30, 128) and x[20:].abs().sum() == 0
    assert store.batch(["x0"], length=10).shape == (1, 10, 128)
    assert torch.equal(store.batch(["x0"])[0], x)


def test_stats_over_valid_frames_only(tmp_path):
    _write_shard(tmp_path, "s", ["a", "b"], frames=10, fill=3.0)
    merge_indexes([tmp_path / "s.csv"], tmp_path / "index.csv")
    store = FbankStore(tmp_path / "index.csv")
    stats = compute_stats(store, ["a", "b", "not-there"])
    assert stats.mean == pytest.approx(3.0) and stats.n_clips == 2
    stats.save(tmp_path / "stats.json")
    assert FbankStats.load(tmp_path / "stats.json") == stats


def test_failed_rows_are_not_served(tmp_path):
    _write_shard(tmp_path, "s", ["a", "b"])
    index = pd.read_csv(tmp_path / "s.csv", keep_default_na=False)
    index.loc[1, ["status", "reason", "row"]] = ["failed", "decode_error", -1]
    index.to_csv(tmp_path / "s.csv", index=False)
    merge_indexes([tmp_path / "s.csv"], tmp_path / "index.csv")
    store = FbankStore(tmp_path / "index.csv")
    assert "b" not in store and len(store) == 1


def test_duplicate_clip_across_shards_is_an_error(tmp_path):
    _write_shard(tmp_path, "s0", ["a"])
    _write_shard(tmp_path, "s1", ["a"])
    with pytest.raises(ValueError, match="more than one shard"):
        merge_indexes([tmp_path / "s0.csv", tmp_path / "s1.csv"], tmp_path / "index.csv")


def _trend_store(tmp_path, n=2000, frames=20):
    """``n`` clips whose level rises with their position (-8 .. -2) plus noise of std 3, in one shard."""
    rng = np.random.default_rng(1)
    level = np.linspace(-8.0, -2.0, n)[:, None, None]
    array = (level + 3.0 * rng.standard_normal((n, frames, 128))).astype(np.float16)
    ids = [f"c{i:05d}" for i in range(n)]
    np.save(tmp_path / "s.npy", array)
    pd.DataFrame(
        {
            "clip_id": ids,
            "shard": "s.npy",
            "row": range(n),
            "n_frames": frames,
            "status": "ok",
            "reason": "",
            "detail": "",
        }
    ).to_csv(tmp_path / "s.csv", index=False)
    merge_indexes([tmp_path / "s.csv"], tmp_path / "index.csv")
    return FbankStore(tmp_path / "index.csv"), ids


def test_sampled_stats_equal_the_exact_ones_when_the_sample_covers_every_clip(tmp_path):
    """A sample at least as large as the split is the split: same mean/std as compute_stats, recorded in
    stats.json. Catches a sample that drops or repeats clips, or a record of the wrong size."""
    store, ids = _trend_store(tmp_path, n=50)
    exact = compute_stats(store, ids + ["absent"])
    est = estimate_stats(store, ids + ["absent"], size=100_000, seed=0)
    assert (est.mean, est.std, est.n_clips) == (exact.mean, exact.std, 50)
    assert est.sample == {"size": 50, "seed": 0, "population": 50}
    est.save(tmp_path / "stats.json")
    assert FbankStats.load(tmp_path / "stats.json") == est


def test_sampled_stats_are_close_on_a_big_store(tmp_path):
    """200 of 2000 clips whose level trends from -8 to -2 (exact mean -5, std ~3.6): the seeded estimate is
    within 0.15 of both, and the same seed gives the same sample. Catches a "sample" of the first N clips
    (mean ~ -7.7) and an unseeded draw."""
    store, ids = _trend_store(tmp_path)
    exact = compute_stats(store, ids)
    est = estimate_stats(store, ids, size=200, seed=7)
    assert est.n_clips == 200 and est.sample == {"size": 200, "seed": 7, "population": 2000}
    assert est.mean == pytest.approx(exact.mean, abs=0.15) and est.std == pytest.approx(exact.std, abs=0.15)
    assert exact.mean == pytest.approx(-5.0, abs=0.01)
    assert estimate_stats(store, ids, size=200, seed=7) == est
    assert sample_clips(store, ids, 200, seed=8)[0] != sample_clips(store, ids, 200, seed=7)[0]


def test_stats_ignore_the_zero_padding_after_each_clips_valid_frames(tmp_path):
    """Catches statistics over padding (or over the wrong number of frames): clip a has 3 valid frames of
    2.0, clip b 5 valid frames of 6.0, both zero-padded to 10 frames. Over valid frames the mean is
    (3 * 2 + 5 * 6) / 8 = 4.5 and the std sqrt(((3 * 2.5^2) + (5 * 1.5^2)) / 8) = sqrt(15) / 2; over the
    whole arrays they would be 1.8 and ~2.56."""
    array = np.zeros((2, 10, 128), dtype=np.float16)
    array[0, :3], array[1, :5] = 2.0, 6.0
    np.save(tmp_path / "s.npy", array)
    rows = [
        {"clip_id": c, "shard": "s.npy", "row": i, "n_frames": n, "status": "ok", "reason": "", "detail": ""}
        for i, (c, n) in enumerate([("a", 3), ("b", 5)])
    ]
    pd.DataFrame(rows, columns=INDEX_COLUMNS).to_csv(tmp_path / "s.csv", index=False)
    merge_indexes([tmp_path / "s.csv"], tmp_path / "index.csv")
    stats = compute_stats(FbankStore(tmp_path / "index.csv"), ["b", "a"])
    assert stats.mean == pytest.approx(4.5)
    assert stats.std == pytest.approx(np.sqrt(15) / 2)
    assert stats.n_clips == 2


def test_a_sample_has_distinct_clips_and_may_be_a_single_clip(tmp_path):
    """A sample draws clips without repeats, in store order; one clip is a valid sample, zero is refused.
    Catches a draw with replacement (1500 of 2000 would repeat clips) and a minimum of 2."""
    store, ids = _trend_store(tmp_path, n=2000, frames=2)
    chosen, record = sample_clips(store, ids, 1500, seed=0)
    assert len(set(chosen)) == 1500 and chosen == sorted(chosen) and record["size"] == 1500
    assert len(sample_clips(store, ids, 1, seed=0)[0]) == 1
    with pytest.raises(ValueError, match="^FBANK stats sample size must be >= 1, got 0$"):
        sample_clips(store, ids, 0)


def test_stats_skip_missing_clips_anywhere_and_accumulate_in_float64(tmp_path):
    """A requested clip without features is skipped wherever it comes, not the end of the loop; sums are taken
    in float64 (squares of 300 overflow float16). Catches ``break`` for ``continue`` and float16 sums."""
    _write_shard(tmp_path, "s", ["a", "b"], frames=10, fill=300.0)
    merge_indexes([tmp_path / "s.csv"], tmp_path / "index.csv")
    stats = compute_stats(FbankStore(tmp_path / "index.csv"), ["not-there", "a", "b"])
    assert stats.n_clips == 2
    assert stats.mean == pytest.approx(300.0) and np.isfinite(stats.std) and stats.std < 1e-3
    with pytest.raises(ValueError, match="none of the requested clips has features; cannot compute stats"):
        compute_stats(FbankStore(tmp_path / "index.csv"), ["not-there"])


def test_stats_files_without_a_clip_count_load_with_zero(tmp_path):
    """A stats.json written before clip counts were recorded still loads: 0 clips, no sample."""
    (tmp_path / "stats.json").write_text('{"mean": -4.5, "std": 3.25}')
    assert FbankStats.load(tmp_path / "stats.json") == FbankStats(mean=-4.5, std=3.25, n_clips=0, sample=None)
