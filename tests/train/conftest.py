"""Shared by the training tests: a tiny CLIP-initialised audio encoder (va_train_script.py, which runs as its
own process, keeps its copy of the config)."""

import pytest

from vipant.models.audio_encoder import AudioEncoder
from vipant.models.vt import build_clip

TINY_CLIP = {"embed_dim": 16, "quick_gelu": True,
             "vision_cfg": {"image_size": 224, "layers": 1, "width": 32, "patch_size": 32, "head_width": 16},
             "text_cfg": {"context_length": 8, "vocab_size": 49408, "width": 16, "heads": 2, "layers": 1}}


@pytest.fixture
def tiny_encoder():
    """``tiny_encoder(frames)``: a 16-d audio encoder built from a 1-layer CLIP's image tower."""
    return lambda frames: AudioEncoder(build_clip(TINY_CLIP).visual, frames=frames)
