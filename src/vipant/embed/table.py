"""An embedding table on disk: ``<name>.npy`` (float16 rows, L2-normalised) + ``<name>.csv`` (one key row
per array row). Readers memory-map the array; writers go through temp files and renames."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import torch

from vipant.atomic import atomic_path, write_csv


def _paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    base = Path(path)
    if base.suffix in (".npy", ".csv"):
        base = base.with_suffix("")
    return base.with_suffix(".npy"), base.with_suffix(".csv")


def save_table(path: str | os.PathLike[str], keys: pd.DataFrame, array: np.ndarray) -> None:
    """Write keys and array (as float16); the array first, the key file last (it marks completion)."""
    if len(keys) != len(array):
        raise ValueError(f"{path}: {len(keys)} keys for {len(array)} rows")
    npy, csv = _paths(path)
    with atomic_path(npy) as tmp:
        np.save(tmp, np.ascontiguousarray(array, dtype=np.float16))
    write_csv(csv, keys.reset_index(drop=True))


@dataclass
class EmbeddingTable:
    """Keys (a DataFrame) and the memory-mapped float16 array, aligned row by row."""

    keys: pd.DataFrame
    array: np.ndarray

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "EmbeddingTable":
        npy, csv = _paths(path)
        keys = pd.read_csv(csv, keep_default_na=False, dtype={"clip_id": str, "text": str})
        array = np.load(npy, mmap_mode="r")
        if len(keys) != len(array):
            raise ValueError(f"{npy}: {len(array)} rows but {csv} lists {len(keys)} keys")
        return cls(keys, array)

    def rows(self, column: str, values: Sequence) -> np.ndarray:
        """Row numbers of the given key values (KeyError naming the first missing one)."""
        position = pd.Series(np.arange(len(self.keys)), index=self.keys[column].to_numpy())
        missing = [v for v in values if v not in position.index]
        if missing:
            raise KeyError(f"{len(missing)} keys not in the table, e.g. {missing[0]!r}")
        return position.loc[list(values)].to_numpy()

    def tensor(self, rows: Iterable[int] | None = None) -> torch.Tensor:
        """Float32 tensor of the selected rows (all rows by default)."""
        data = self.array if rows is None else self.array[np.asarray(list(rows))]
        return torch.from_numpy(np.asarray(data, dtype=np.float32))


MERGE_CHUNK_ROWS = 1 << 16  # rows copied at a time: ~64 MB of 4 x 512 float16 frame embeddings


def merge_tables(paths: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str]) -> None:
    """Concatenate shard tables (same row shape) into one table.

    The merged array is written through a memory map of its final size, shard by shard in chunks of
    ``MERGE_CHUNK_ROWS``: at paper scale (2 M clips x 4 frames x 512 float16 = 8.5 GB) the table never has
    to fit in the job's memory, only one chunk does.
    """
    tables = [EmbeddingTable.load(p) for p in paths]
    keys = pd.concat([t.keys for t in tables], ignore_index=True)
    shapes = {t.array.shape[1:] for t in tables if len(t.array)}
    if len(shapes) > 1:
        raise ValueError(f"{out}: shards disagree on row shape {shapes}")
    if not shapes:  # no rows at all: an empty table, as one empty shard would give
        save_table(out, keys, np.zeros((0,)))
        return
    (row_shape,) = shapes
    npy, csv = _paths(out)
    with atomic_path(npy) as tmp:
        merged = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16, shape=(len(keys), *row_shape))
        at = 0
        for table in tables:
            for start in range(0, len(table.array), MERGE_CHUNK_ROWS):
                chunk = table.array[start : start + MERGE_CHUNK_ROWS]
                merged[at : at + len(chunk)] = chunk
                at += len(chunk)
        merged.flush()
        del merged
    write_csv(csv, keys)  # the key file last: it marks completion
