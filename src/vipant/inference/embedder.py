"""Files → audio embeddings, texts → text embeddings, both L2-normalised in the shared space.

Audio follows the workflow's path: 16 kHz mono (:mod:`vipant.inference.decode`), Kaldi FBANK exactly as
the FBANK stage computes it (:func:`vipant.features.fbank.compute_fbank`, docs/design.md, Stages: fbank) and stores it
(float16), zero padding, then the loader's normalisation with the checkpoint's mean/std. A window's vector is the encoder's own
output, through the readout its checkpoint records (CLS, or a Multiframe Match model's segment mean).

Length policy. The encoder sees windows of its training length (``model.frames``, 1000 frames = 10 s):

* a clip up to one window long is zero-padded to it (what the workflow does to short clips);
* a longer clip (e.g. 70 s) is covered by ``ceil(T / window)`` windows of full length, spaced evenly
  from the start to the end (so they overlap slightly and none is padded); each window is embedded,
  L2-normalised, and the clip's embedding is the re-normalised mean of its windows.

Determinism: the windows of one file form one batch of their own (never mixed with other files), the
encoder is in eval mode and runs in float32, so a file's vector does not depend on which other files
were embedded alongside it.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from vipant.features.fbank import SAMPLE_RATE, compute_fbank, fit_length
from vipant.features.store import FbankStats
from vipant.inference.decode import AudioInputError, decode_audio
from vipant.inference.model import InferenceModel

log = logging.getLogger(__name__)


def window_starts(n_frames: int, window: int) -> list[int]:
    """First frame of each window: ``[0]`` up to one window, else ``ceil(n/window)`` evenly spaced starts
    from 0 to ``n - window`` (full windows covering the whole clip)."""
    if n_frames <= window:
        return [0]
    k = math.ceil(n_frames / window)
    return [round(i * (n_frames - window) / (k - 1)) for i in range(k)]


def fbank_windows(wave: torch.Tensor, stats: FbankStats, frames: int) -> torch.Tensor:
    """``[k, frames, 128]`` normalised FBANK windows of a 16 kHz ``[1, n]`` waveform (see the module doc).

    Features pass through float16 as the FBANK stage stores them, then get the loader's float32
    normalisation (:class:`vipant.features.store.FbankStore`), so a workflow clip gets the numbers
    evaluation feeds the encoder.
    """
    feats = compute_fbank(wave, SAMPLE_RATE).to(torch.float16)
    windows = [fit_length(feats[s : s + frames], frames)[0] for s in window_starts(feats.shape[0], frames)]
    out = torch.stack(windows).numpy().astype(np.float32)
    out -= np.float32(stats.mean)
    out *= np.float32(1.0 / stats.std)
    return torch.from_numpy(out)


@torch.no_grad()
def embed_waveform(model: InferenceModel, wave: torch.Tensor) -> tuple[torch.Tensor, int]:
    """L2-normalised ``[D]`` embedding of a 16 kHz waveform and the number of windows it took."""
    windows = fbank_windows(wave, model.stats, model.frames)
    if not torch.isfinite(windows.sum()):
        raise ValueError("non-finite FBANK features")
    emb = F.normalize(model.encoder(windows.to(model.device)).float(), dim=-1).cpu()
    if len(emb) == 1:
        return emb[0], 1
    return F.normalize(emb.mean(dim=0), dim=0), len(emb)


@torch.no_grad()
def embed_windows(
    model: InferenceModel, windows: Sequence[torch.Tensor], *, batch_size: int = 32
) -> list[tuple[torch.Tensor, int]]:
    """Embeddings of many inputs' :func:`fbank_windows` with one encoder pass per batch.

    Whole inputs are packed into a batch until it holds ``batch_size`` windows (a long input's windows stay
    together, so one batch can exceed it); each input's ``(vector, n_windows)`` is then what
    :func:`embed_waveform` gives, up to float rounding of the batched matrix products.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    out: list[tuple[torch.Tensor, int]] = []
    start = 0
    while start < len(windows):
        stop, n = start, 0
        while stop < len(windows) and (n == 0 or n + len(windows[stop]) <= batch_size):
            n += len(windows[stop])
            stop += 1
        emb = F.normalize(model.encoder(torch.cat(list(windows[start:stop])).to(model.device)).float(), dim=-1).cpu()
        for part in emb.split([len(w) for w in windows[start:stop]]):
            out.append((part[0] if len(part) == 1 else F.normalize(part.mean(dim=0), dim=0), len(part)))
        start = stop
    return out


@dataclass
class FileEmbedding:
    """One input file: its embedding (None when it failed) or the reason it failed."""

    path: str
    vector: np.ndarray | None  # float32 [D], L2-normalised
    duration_s: float = 0.0
    windows: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.vector is not None


def embed_file(model: InferenceModel, path: str | os.PathLike[str]) -> FileEmbedding:
    """Decode and embed one file; decoding problems become ``FileEmbedding.error``, never an exception."""
    try:
        wave = decode_audio(path)
        vector, n_windows = embed_waveform(model, wave)
    except AudioInputError as err:
        return FileEmbedding(str(path), None, error=err.reason)
    except ValueError as err:
        return FileEmbedding(str(path), None, error=str(err))
    return FileEmbedding(str(path), vector.numpy().astype(np.float32), wave.shape[1] / SAMPLE_RATE, n_windows)


def embed_files(
    model: InferenceModel, paths: Sequence[str | os.PathLike[str]], *, progress: bool = True
) -> list[FileEmbedding]:
    """Embed every file in order; failures are logged (one line: file and reason) and kept in the list."""
    from tqdm.contrib.logging import logging_redirect_tqdm

    results = []
    with logging_redirect_tqdm():
        for path in tqdm(paths, desc="embedding audio", unit="file", disable=None if progress else True):
            result = embed_file(model, path)
            if not result.ok:
                log.error("%s: %s", path, result.error)
            results.append(result)
    return results


def embed_texts(model: InferenceModel, texts: Sequence[str]) -> torch.Tensor:
    """L2-normalised ``[len(texts), D]`` text embeddings from the frozen VT text tower (the workflow's
    :func:`vipant.embed.text.encode_texts`, so labels embed as the evaluation's class prompts do)."""
    from vipant.embed.text import encode_texts

    return encode_texts(model.text_model, model.tokenizer, list(texts), device=str(model.device))


def top_k(scores: np.ndarray, labels: Sequence[str], k: int) -> list[tuple[str, float]]:
    """The ``k`` best (label, score) pairs, best first; ties keep the labels' order."""
    order = np.argsort(-scores, kind="stable")[:k]
    return [(labels[i], float(scores[i])) for i in order]
