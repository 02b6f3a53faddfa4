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


def merge_tables(paths: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str]) -> None:
    """Concatenate shard tables (same row shape) into one table."""
    tables = [EmbeddingTable.load(p) for p in paths]
    keys = pd.concat([t.keys for t in tables], ignore_index=True)
    shapes = {t.array.shape[1:] for t in tables if len(t.array)}
    if len(shapes) > 1:
        raise ValueError(f"{out}: shards disagree on row shape {shapes}")
    array = np.concatenate([np.asarray(t.array) for t in tables]) if tables else np.zeros((0,))
    save_table(out, keys, array)
