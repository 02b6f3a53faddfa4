"""tools/probe_init.py's hybrids: which part of a VT-initialised g_A is kept and which is random."""

import importlib.util
from pathlib import Path

import pytest
import torch

_spec = importlib.util.spec_from_file_location(
    "probe_init", Path(__file__).resolve().parents[2] / "tools" / "probe_init.py"
)
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)


@pytest.mark.parametrize(
    ("keep", "from_vt"),
    [
        ("patches", {"conv1"}),
        ("body", {"transformer", "positional_embedding"}),
        ("positions", {"conv1", "transformer"}),
    ],
)
def test_a_hybrid_keeps_the_named_part_and_takes_the_rest_from_the_random_init(tiny_vt_model, keep, from_vt):
    """Catches the kept and the randomised parts swapped, and a random part drawn at another seed than the
    random g_A it is compared with."""
    from vipant.models.audio_encoder import AudioEncoder
    from vipant.models.vt import build_clip

    visual = build_clip(tiny_vt_model).visual
    vt_init = AudioEncoder(visual, init="clip", frames=64)
    torch.manual_seed(3)
    random_init = AudioEncoder(visual, init="random", frames=64)
    mixed = probe.hybrid(AudioEncoder(visual, init="clip", frames=64), visual, 64, 3, keep).state_dict()
    for part in ("conv1", "transformer", "positional_embedding"):
        source = vt_init if part in from_vt else random_init
        keys = [k for k in mixed if k.startswith(part)]
        assert keys and all(torch.equal(mixed[k], source.state_dict()[k]) for k in keys), part


def test_patch_scale_scales_the_patch_layer_of_the_copy_only(tiny_vt_model):
    """Catches the scale applied to another part (positions, transformer) or to the VT's own tower, which
    every later g_A of the probe copies."""
    from vipant.models.audio_encoder import AudioEncoder
    from vipant.models.vt import build_clip

    visual = build_clip(tiny_vt_model).visual
    before = {k: v.clone() for k, v in visual.state_dict().items()}
    plain = AudioEncoder(visual, init="clip", frames=64).state_dict()
    scaled = probe.scale_patches(AudioEncoder(visual, init="clip", frames=64), 0.25).state_dict()
    for k, v in scaled.items():
        expected = plain[k] * 0.25 if k.startswith("conv1.") else plain[k]
        assert torch.allclose(v, expected), k
    assert all(torch.equal(visual.state_dict()[k], v) for k, v in before.items())
