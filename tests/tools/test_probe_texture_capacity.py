"""tools/probe_texture_capacity.py: its grey images and the supervised capacity check, on a tiny tower
(the texture labels are vipant.train.vt_tower's, tested there)."""

import importlib.util
from pathlib import Path

import torch

from vipant.synth.sources import SOURCES, TEXTURES

_spec = importlib.util.spec_from_file_location(
    "probe_texture_capacity", Path(__file__).resolve().parents[2] / "tools" / "probe_texture_capacity.py"
)
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)


def test_images_are_grey_and_labels_follow_the_images():
    images, labels = probe.grey_textured_images(64, per_source=1, seed=3)
    assert images.shape == (len(SOURCES), 3, 64, 64)
    assert torch.equal(images[:, 0], images[:, 1]) and torch.equal(images[:, 1], images[:, 2])
    assert labels.tolist() == [TEXTURES.index(s.texture) for s in SOURCES]


def test_a_tower_learns_labels_it_can_see(tiny_vt_model):
    """Planted: each 'texture' is its own random binary 32 x 32 pattern, tiled in grey, which a patch layer
    separates. Training must reach far above chance (4.2 %); a head scored on the wrong labels or never
    stepped would not."""
    gen = torch.Generator().manual_seed(0)
    patterns = (torch.rand(len(TEXTURES), 32, 32, generator=gen) > 0.5).to(torch.uint8) * 255
    y = torch.arange(len(TEXTURES)).repeat(4)
    x = patterns[y].repeat(1, 2, 2).unsqueeze(1).expand(-1, 3, -1, -1).contiguous()
    curve = probe.train_and_score(tiny_vt_model, (x, y), (x, y), steps=60, lr=3e-3, every=60)
    assert curve[-1]["step"] == 60 and curve[-1]["acc"] > 50.0
