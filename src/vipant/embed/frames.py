"""Encode every extracted frame once with the frozen VT image encoder.

Output per download shard: a table keyed by ``clip_id`` whose rows are ``[n_frames, D]`` L2-normalised
frame embeddings. Only clips with all their frames are kept; VA training, curation (2nd frame) and
OracleAV-CLIP read this cache instead of running the image encoder again.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from PIL import Image

from vipant.embed.table import save_table
from vipant.progress import track

log = logging.getLogger(__name__)

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


def image_transform(image_size: int = 224):
    """CLIP's evaluation preprocessing: resize the short side, centre crop, normalise."""
    from torchvision import transforms as T

    return T.Compose(
        [
            T.Resize(image_size, interpolation=T.InterpolationMode.BICUBIC),
            T.CenterCrop(image_size),
            T.ToTensor(),
            T.Normalize(OPENAI_MEAN, OPENAI_STD),
        ]
    )


@torch.no_grad()
def encode_images(
    model, paths: list[str], *, batch_size: int = 64, device: str = "cpu", image_size: int = 224
) -> torch.Tensor:
    """L2-normalised image embeddings ``[len(paths), D]`` from the frozen VT model."""
    transform = image_transform(image_size)
    out = []
    for start in track(range(0, len(paths), batch_size), "image embeddings", unit="batches"):
        batch = torch.stack([transform(Image.open(p).convert("RGB")) for p in paths[start : start + batch_size]])
        out.append(F.normalize(model.encode_image(batch.to(device)).float(), dim=-1).cpu())
    return torch.cat(out) if out else torch.zeros(0, model.visual.output_dim)


def embed_frames_shard(
    model,
    frames_manifest: pd.DataFrame,
    out: str | Path,
    *,
    n_frames: int,
    device: str = "cpu",
    batch_size: int = 64,
    image_size: int = 224,
) -> int:
    """Embed the frames of one shard's ok clips; returns the number of clips written."""
    ok = frames_manifest[frames_manifest["status"] == "ok"]
    clip_ids, paths = [], []
    for row in ok.itertuples(index=False):
        frame_paths = [p for p in str(row.frame_paths).split("|") if p]
        if len(frame_paths) != n_frames:
            log.warning("%s: %d frames instead of %d, skipped", row.clip_id, len(frame_paths), n_frames)
            continue
        clip_ids.append(row.clip_id)
        paths.extend(frame_paths)
    emb = encode_images(model, paths, batch_size=batch_size, device=device, image_size=image_size)
    array = emb.reshape(len(clip_ids), n_frames, -1).numpy() if clip_ids else np.zeros((0, n_frames, emb.shape[-1]))
    save_table(out, pd.DataFrame({"clip_id": clip_ids}), array)
    log.info("embedded %d frames of %d clips", len(paths), len(clip_ids))
    return len(clip_ids)
