"""Audio embeddings of evaluation clips with a (trained, not frozen) audio encoder."""

from __future__ import annotations

import logging
from typing import Sequence

import torch
import torch.nn.functional as F

from vipant.features.store import FbankStore
from vipant.progress import track

log = logging.getLogger(__name__)


@torch.no_grad()
def embed_clips(encoder, store: FbankStore, clip_ids: Sequence[str], *, batch_size: int = 32,
                device: str | torch.device = "cpu") -> tuple[list[str], torch.Tensor]:
    """(embedded clip ids, L2-normalised ``[N, D]``); clips without features are skipped with a warning."""
    have = [c for c in dict.fromkeys(clip_ids) if c in store]
    missing = len(set(clip_ids)) - len(have)
    if missing:
        log.warning("%d of %d clips have no FBANK features and are not embedded", missing, len(set(clip_ids)))
    encoder.eval()
    out = [F.normalize(encoder(store.batch(have[s:s + batch_size]).to(device)).float(), dim=-1).cpu()
           for s in track(range(0, len(have), batch_size), "audio embeddings", unit="batches")]
    return have, (torch.cat(out) if out else torch.zeros(0, encoder.embed_dim))
