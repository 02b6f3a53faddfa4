"""Merging embedding-table shards (embed_frames_merge) without holding the table in memory."""

import tracemalloc

import numpy as np
import pandas as pd

from vipant.embed.table import EmbeddingTable, merge_tables, save_table


def _shards(tmp_path, sizes, row_shape=(4, 128)):
    rng = np.random.default_rng(0)
    paths, arrays, ids = [], [], []
    for s, n in enumerate(sizes):
        array = rng.standard_normal((n, *row_shape)).astype(np.float16)
        keys = [f"s{s}c{i}" for i in range(n)]
        save_table(tmp_path / f"shard-{s}", pd.DataFrame({"clip_id": keys}), array)
        paths.append(tmp_path / f"shard-{s}.csv")
        arrays.append(array)
        ids += keys
    return paths, np.concatenate(arrays), ids


def test_merged_table_is_the_shards_in_order(tmp_path):
    """Rows and keys of 3 shards (one empty, one spanning several copy chunks) come out in shard order,
    aligned. Catches a chunk written at the wrong offset, a dropped tail chunk and keys out of step."""
    import vipant.embed.table as table

    paths, expected, ids = _shards(tmp_path, [5, 0, 7])
    old, table.MERGE_CHUNK_ROWS = table.MERGE_CHUNK_ROWS, 3  # several chunks per shard, one partial
    try:
        merge_tables(paths, tmp_path / "merged")
    finally:
        table.MERGE_CHUNK_ROWS = old
    merged = EmbeddingTable.load(tmp_path / "merged")
    assert merged.keys["clip_id"].tolist() == ids
    assert merged.array.dtype == np.float16 and np.array_equal(merged.array, expected)


def test_merge_peak_memory_stays_far_below_the_table(tmp_path):
    """A 4-shard table of 60 MB (60 k clips x 4 x 128 float16) merges with a traced peak under 1/4 of its size
    (a chunk is 64 k rows at most, and shards are memory-mapped). Catches a merge that concatenates the
    shards in memory (peak >= the table's 60 MB)."""
    paths, expected, _ = _shards(tmp_path, [15_000] * 4)
    size = expected.nbytes
    tracemalloc.start()
    try:
        merge_tables(paths, tmp_path / "merged")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < size / 4, (peak, size)
    assert np.array_equal(EmbeddingTable.load(tmp_path / "merged").array, expected)
