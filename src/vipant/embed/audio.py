"""Audio embeddings of evaluation clips with a (trained, not frozen) audio encoder.

Every vector comes from the encoder itself, through the readout its checkpoint records (CLS, or the
segment mean of a Multiframe Match model; :mod:`vipant.models.audio_encoder`): nothing here chooses a
path through the network.
"""

from __future__ import annotations

import logging
from typing import Literal, Sequence

import torch
import torch.nn.functional as F

from vipant.features.store import FbankStore
from vipant.progress import track

log = logging.getLogger(__name__)

Representation = Literal["embedding", "features"]
REPRESENTATIONS: tuple[str, ...] = ("embedding", "features")


@torch.no_grad()
def embed_clips(
    encoder,
    store: FbankStore,
    clip_ids: Sequence[str],
    *,
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    representation: Representation = "embedding",
) -> tuple[list[str], torch.Tensor]:
    """(embedded clip ids, ``[N, dim]``); clips without features are skipped with a warning.

    ``representation``: ``"embedding"`` — the encoder's clip embedding in the joint space (its readout,
    then the projection), L2-normalised, ``[N, embed_dim]``; ``"features"`` — the representation before
    the projection (``encoder.features``), as it is, ``[N, width]``, which the linear probe reads.
    """
    if representation not in REPRESENTATIONS:
        raise ValueError(f"representation must be one of {REPRESENTATIONS}, not {representation!r}")
    have = [c for c in dict.fromkeys(clip_ids) if c in store]
    missing = len(set(clip_ids)) - len(have)
    if missing:
        log.warning("%d of %d clips have no FBANK features and are not embedded", missing, len(set(clip_ids)))
    encoder.eval()
    if representation == "features":
        read, dim = (lambda x: encoder.features(x).float()), encoder.width
    else:
        read, dim = (lambda x: F.normalize(encoder(x).float(), dim=-1)), encoder.embed_dim
    out = [
        read(store.batch(have[s : s + batch_size]).to(device)).cpu()
        for s in track(range(0, len(have), batch_size), "audio embeddings", unit="batches")
    ]
    return have, (torch.cat(out) if out else torch.zeros(0, dim))
