"""Shared by the training tests: a tiny CLIP-initialised audio encoder (va_train_script.py, which runs as its
own process, keeps its copy of the config), and for planted-effect tests an in-memory feature store and a
small pooling encoder."""

import pytest
import torch

from vipant.models.audio_encoder import AudioEncoder
from vipant.models.vt import build_clip

TINY_CLIP = {
    "embed_dim": 16,
    "quick_gelu": True,
    "vision_cfg": {"image_size": 224, "layers": 1, "width": 32, "patch_size": 32, "head_width": 16},
    "text_cfg": {"context_length": 8, "vocab_size": 49408, "width": 16, "heads": 2, "layers": 1},
}


@pytest.fixture
def tiny_encoder():
    """``tiny_encoder(frames)``: a 16-d audio encoder built from a 1-layer CLIP's image tower."""
    return lambda frames: AudioEncoder(build_clip(TINY_CLIP).visual, frames=frames)


class ArrayStore:
    """The part of :class:`vipant.features.store.FbankStore` the training tasks read, over in-memory features
    ``[clips, frames, bins]`` (planted worlds are built as tensors, not written as shards)."""

    def __init__(self, clip_ids, features):
        self.clip_ids = list(clip_ids)
        self.features = features
        self._row = {c: i for i, c in enumerate(self.clip_ids)}

    def __contains__(self, clip_id):
        return clip_id in self._row

    def __len__(self):
        return len(self.clip_ids)

    def batch(self, clip_ids, length=None):
        return self.features[[self._row[c] for c in clip_ids]]


class PoolEncoder(torch.nn.Module):
    """A small g_A for planted-effect tests: FBANK frames mean-pooled over the clip (``[B, D]``) or over each
    of ``segments`` equal time slices (``[B, segments, D]``), then a linear map into the joint space."""

    def __init__(self, bins, dim, seed=0):
        super().__init__()
        self.proj = torch.nn.Linear(bins, dim, bias=False)
        with torch.no_grad():
            self.proj.weight.copy_(torch.randn(dim, bins, generator=torch.Generator().manual_seed(seed)) * bins**-0.5)

    def forward(self, fbank, segments=None):
        if segments:
            b, t, f = fbank.shape
            return self.proj(fbank.reshape(b, segments, t // segments, f).mean(dim=2))
        return self.proj(fbank.mean(dim=1))


@pytest.fixture
def array_store():
    return ArrayStore


@pytest.fixture
def pool_encoder():
    return PoolEncoder
