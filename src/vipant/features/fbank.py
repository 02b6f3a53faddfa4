"""Kaldi-compatible log-mel filterbank features (docs/design.md, Stages: fbank), computed per shard into float16 arrays.

The call is exactly vip-AnT's (and AST's): ``torchaudio.compliance.kaldi.fbank`` on the mean-removed
first channel at 16 kHz, 128 mel bins, 25 ms Hanning windows every 10 ms, no dither, no energy term —
so a 10 s clip gives 998 frames, padded with zeros to 1000. A shard is one ``.npy`` array
``[n_items, target_frames, 128]`` written through a memory map (never held in RAM whole) plus an index
CSV naming each clip's row, its number of valid frames and, for a clip that failed, the reason.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import torch
import torchaudio

from vipant.atomic import atomic_path, write_csv
from vipant.progress import track

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
NUM_MEL_BINS = 128
INDEX_COLUMNS = ["clip_id", "shard", "row", "n_frames", "status", "reason", "detail"]


class AudioDecodeError(RuntimeError):
    """An audio file could not be decoded (missing, corrupt, empty)."""


def load_waveform(path: str | os.PathLike[str], sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """Decode ``path`` and return its first channel as float32 ``[1, n]`` at ``sample_rate``."""
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        raise AudioDecodeError(f"{path}: cannot decode audio ({err})") from err
    if data.shape[0] == 0:
        raise AudioDecodeError(f"{path}: no samples")
    wave = torch.from_numpy(np.ascontiguousarray(data[:, 0]))[None, :]
    if sr != sample_rate:
        wave = torchaudio.functional.resample(wave, sr, sample_rate)
    return wave


def compute_fbank(wave: torch.Tensor, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """``[1, n]`` (or ``[n]``) waveform → ``[frames, 128]`` log-mel features, docs/design.md (Stages: fbank) to the letter."""
    if wave.dim() == 1:
        wave = wave[None, :]
    wave = wave[:1]
    return torchaudio.compliance.kaldi.fbank(
        wave - wave.mean(),
        htk_compat=True,
        sample_frequency=sample_rate,
        use_energy=False,
        window_type="hanning",
        num_mel_bins=NUM_MEL_BINS,
        dither=0.0,
        frame_shift=10,
    )


def fit_length(features: torch.Tensor, target_frames: int) -> tuple[torch.Tensor, int]:
    """Zero-pad or truncate ``[T, 128]`` to ``target_frames``; return it and the number of real frames."""
    n = features.shape[0]
    if n >= target_frames:
        return features[:target_frames], target_frames
    pad = torch.zeros(target_frames - n, features.shape[1], dtype=features.dtype)
    return torch.cat([features, pad]), n


def fbank_shard(
    items: pd.DataFrame,
    out_array: str | os.PathLike[str],
    out_index: str | os.PathLike[str],
    *,
    target_frames: int,
    sample_rate: int = SAMPLE_RATE,
) -> pd.DataFrame:
    """Compute features for ``items`` (columns ``clip_id, path``) into one float16 shard.

    A clip that cannot be decoded gets an index row with status ``failed`` and its reason; its array
    row stays zero and is never read. Both files are written atomically, the index last.
    """
    out_array, out_index = Path(out_array), Path(out_index)
    n = len(items)
    rows: list[dict] = []
    with atomic_path(out_array) as tmp:
        # A zero-length .npy cannot be memory-mapped; keep one dummy row so empty shards stay valid.
        array = np.lib.format.open_memmap(
            tmp, mode="w+", dtype=np.float16, shape=(max(n, 1), target_frames, NUM_MEL_BINS)
        )
        for row, item in enumerate(
            track(items.itertuples(index=False), f"fbank {out_array.name}", total=n, unit="clips")
        ):
            record = {
                "clip_id": item.clip_id,
                "shard": out_array.name,
                "row": row,
                "n_frames": 0,
                "status": "ok",
                "reason": "",
                "detail": "",
            }
            try:
                wave = load_waveform(item.path, sample_rate)
                if wave.shape[1] < int(0.025 * sample_rate):
                    raise AudioDecodeError(f"{item.path}: shorter than one 25 ms window")
                feats, valid = fit_length(compute_fbank(wave, sample_rate), target_frames)
                if not torch.isfinite(feats.sum()):  # one reduction instead of an elementwise mask
                    raise AudioDecodeError(f"{item.path}: non-finite features")
                array[row] = feats.numpy()
                record["n_frames"] = valid
            except AudioDecodeError as err:
                log.warning("fbank failed for %s: %s", item.clip_id, err)
                record.update(status="failed", reason="decode_error", detail=str(err)[:200], row=-1)
            rows.append(record)
        array.flush()
        del array
    index = pd.DataFrame(rows, columns=INDEX_COLUMNS)
    write_csv(out_index, index)
    ok = int((index["status"] == "ok").sum())
    log.info("%s: %d/%d clips ok", out_array.name, ok, n)
    return index
