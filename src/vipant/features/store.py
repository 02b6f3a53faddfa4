"""Read FBANK shards memory-mapped and hand out normalised ``[T, 128]`` tensors.

Training and evaluation never decode audio: they open the shards written by
:mod:`vipant.features.fbank` through ``np.load(mmap_mode="r")``, so the OS page cache does the I/O and
many workers share one copy. Normalisation uses one mean and one standard deviation computed over the
valid frames of the VA training split (AST / vip-AnT style), stored in their own JSON file.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import torch

from vipant.atomic import write_csv, write_json


@dataclass(frozen=True)
class FbankStats:
    """Dataset-level normalisation constants."""

    mean: float  # mean of all valid FBANK values of the VA training split
    std: float  # their standard deviation
    n_clips: int = 0  # how many clips they were computed from
    sample: dict | None = None  # when estimated from a seeded sample: {"size", "seed", "population"}

    def save(self, path: str | os.PathLike[str]) -> None:
        data = {"mean": self.mean, "std": self.std, "n_clips": self.n_clips}
        if self.sample is not None:
            data["sample"] = self.sample
        write_json(path, data)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "FbankStats":
        data = json.loads(Path(path).read_text())
        return cls(
            mean=float(data["mean"]),
            std=float(data["std"]),
            n_clips=int(data.get("n_clips", 0)),
            sample=data.get("sample"),
        )


def merge_indexes(paths: Iterable[str | os.PathLike[str]], out: str | os.PathLike[str]) -> pd.DataFrame:
    """Concatenate shard indexes into one collection index (shard names stay relative to its folder)."""
    frames = [pd.read_csv(p, keep_default_na=False) for p in paths]
    merged = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    dup = merged["clip_id"][merged["clip_id"].duplicated()] if len(merged) else []
    if len(dup):
        raise ValueError(f"{out}: clip ids appear in more than one shard: {sorted(set(dup))[:5]}")
    write_csv(out, merged)
    return merged


class FbankStore:
    """Random access to the FBANK features of one collection (e.g. all AudioSet clips, or ESC-50).

    ``index_path`` is the collection's merged index CSV; shards are looked up beside it. ``length`` is the
    number of frames returned (zero-padded or truncated), defaulting to the stored length.
    """

    def __init__(self, index_path: str | os.PathLike[str], stats: FbankStats | None = None, length: int | None = None):
        self.index_path = Path(index_path)
        index = pd.read_csv(self.index_path, keep_default_na=False)
        self.index = index[index["status"] == "ok"].set_index("clip_id")
        self.stats = stats
        self._shards: dict[str, np.ndarray] = {}
        self._stored_length: int | None = None
        self.length = length if length is not None else self.stored_length

    def _shard(self, name: str) -> np.ndarray:
        array = self._shards.get(name)
        if array is None:
            array = np.load(self.index_path.parent / name, mmap_mode="r")
            self._shards[name] = array
        return array

    @property
    def stored_length(self) -> int:
        if self._stored_length is None:
            if len(self.index) == 0:
                raise ValueError(f"{self.index_path}: no clip has features")
            self._stored_length = int(self._shard(self.index["shard"].iloc[0]).shape[1])
        return self._stored_length

    @property
    def clip_ids(self) -> list[str]:
        return list(self.index.index)

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, clip_id: object) -> bool:
        return clip_id in self.index.index

    def n_frames(self, clip_id: str) -> int:
        """Frames of real audio (before padding) stored for the clip."""
        return int(self.index.at[clip_id, "n_frames"])

    def raw(self, clip_id: str) -> np.ndarray:
        """The stored float16 ``[stored_length, 128]`` array (a memory-mapped view, not normalised)."""
        entry = self.index.loc[clip_id]
        return self._shard(entry["shard"])[int(entry["row"])]

    def _fit(self, x: np.ndarray, length: int) -> np.ndarray:
        if x.shape[-2] >= length:
            return x[..., :length, :]
        pad = [(0, 0)] * x.ndim
        pad[-2] = (0, length - x.shape[-2])
        return np.pad(x, pad)

    def _normalise(self, x: np.ndarray) -> torch.Tensor:
        """float32 copy, normalised in place (no temporaries: the loader is memory-bandwidth bound)."""
        out = np.array(x, dtype=np.float32)
        if self.stats is not None:
            out -= np.float32(self.stats.mean)
            out *= np.float32(1.0 / self.stats.std)
        return torch.from_numpy(out)

    def get(self, clip_id: str, length: int | None = None) -> torch.Tensor:
        """Normalised ``[length, 128]`` float32 features of one clip."""
        return self._normalise(self._fit(self.raw(clip_id), length or self.length))

    def batch(self, clip_ids: Sequence[str], length: int | None = None) -> torch.Tensor:
        """Normalised ``[B, length, 128]`` features, read shard by shard with one fancy index each."""
        length = length or self.length
        entries = self.index.loc[list(clip_ids)]
        take = min(length, self.stored_length)
        out = np.empty((len(clip_ids), length, 128), dtype=np.float32)
        if take < length:
            out[:, take:] = 0.0
        positions = np.arange(len(clip_ids))
        for shard, group in entries.assign(_pos=positions).groupby("shard", sort=False):
            rows = group["row"].to_numpy()
            order = np.argsort(rows)  # sorted rows read the memory map sequentially
            out[group["_pos"].to_numpy()[order], :take] = self._shard(shard)[rows[order], :take]
        if self.stats is not None:
            out -= np.float32(self.stats.mean)
            out *= np.float32(1.0 / self.stats.std)
        return torch.from_numpy(out)


def compute_stats(store: FbankStore, clip_ids: Iterable[str]) -> FbankStats:
    """Mean and std over the valid (unpadded) frames of ``clip_ids``, accumulated in float64."""
    total = 0.0
    total_sq = 0.0
    count = 0
    n_clips = 0
    for clip_id in clip_ids:
        if clip_id not in store:
            continue
        x = np.asarray(store.raw(clip_id)[: store.n_frames(clip_id)], dtype=np.float64)
        total += float(x.sum())
        total_sq += float(np.square(x).sum())
        count += x.size
        n_clips += 1
    if count == 0:
        raise ValueError(f"{store.index_path}: none of the requested clips has features; cannot compute stats")
    mean = total / count
    std = float(np.sqrt(max(total_sq / count - mean * mean, 1e-12)))
    return FbankStats(mean=mean, std=std, n_clips=n_clips)


def sample_clips(store: FbankStore, clip_ids: Iterable[str], size: int, seed: int = 0) -> tuple[list[str], dict]:
    """A seeded uniform sample of ``size`` of the ``clip_ids`` that have features, in store order (sequential
    reads), and its record for ``stats.json``. At paper scale the exact statistic reads all ~2 M clips
    (528 GB); 100 k clips fix the mean and std of the ~1e10 FBANK values far below any effect on training.
    ``size`` >= the population: every clip (the exact statistic)."""
    if size < 1:
        raise ValueError(f"FBANK stats sample size must be >= 1, got {size}")
    wanted = set(clip_ids)
    population = [c for c in store.clip_ids if c in wanted]
    if size >= len(population):
        chosen = population
    else:
        picks = np.sort(np.random.default_rng(seed).choice(len(population), size=size, replace=False))
        chosen = [population[i] for i in picks]
    return chosen, {"size": len(chosen), "seed": seed, "population": len(population)}


def estimate_stats(store: FbankStore, clip_ids: Iterable[str], size: int, seed: int = 0) -> FbankStats:
    """:func:`compute_stats` over a seeded sample of ``size`` clips (:func:`sample_clips`), the sample recorded."""
    chosen, record = sample_clips(store, clip_ids, size, seed)
    return dataclasses.replace(compute_stats(store, chosen), sample=record)
