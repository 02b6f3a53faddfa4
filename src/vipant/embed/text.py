"""Encode text pools once with the frozen VT text encoder.

A pool is a CSV with a ``text`` column (captions of a split, class prompts, curation candidates with
their prompt prefix already applied). Its embedding table keeps the pool's rows in order, so a pair list
can point at captions by row number.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from vipant.embed.table import save_table
from vipant.progress import track

log = logging.getLogger(__name__)


@torch.no_grad()
def encode_texts(model, tokenizer, texts: list[str], *, batch_size: int = 256, device: str = "cpu") -> torch.Tensor:
    """L2-normalised text embeddings ``[len(texts), D]``."""
    out = []
    for start in track(range(0, len(texts), batch_size), "text embeddings", unit="batches"):
        tokens = tokenizer(texts[start : start + batch_size]).to(device)
        out.append(F.normalize(model.encode_text(tokens).float(), dim=-1).cpu())
    dim = model.text_projection.shape[1] if hasattr(model, "text_projection") else 0
    return torch.cat(out) if out else torch.zeros(0, dim)


def embed_pool(model, tokenizer, pool_csv: str | Path, out: str | Path, *, device: str = "cpu") -> int:
    pool = pd.read_csv(pool_csv, keep_default_na=False, dtype={"text": str})
    if "text" not in pool.columns:
        raise ValueError(f"{pool_csv}: a text pool needs a 'text' column")
    emb = encode_texts(model, tokenizer, pool["text"].tolist(), device=device)
    save_table(out, pool, emb.numpy())
    log.info("%s: %d texts embedded", Path(pool_csv).name, len(pool))
    return len(pool)
