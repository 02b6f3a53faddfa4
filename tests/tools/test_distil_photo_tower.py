"""tools/distil_photo_tower.py: a bare VT tower taught a photograph-trained network's features."""

import importlib.util
from pathlib import Path

import numpy as np
import torch

from vipant.synth import patterns
from vipant.train.vt_tower import tower_tokens_any_size

_spec = importlib.util.spec_from_file_location(
    "distil_photo_tower", Path(__file__).resolve().parents[2] / "tools" / "distil_photo_tower.py"
)
distil = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(distil)

TINY = {
    "embed_dim": 16,
    "quick_gelu": True,
    "vision_cfg": {"image_size": 64, "layers": 1, "width": 32, "patch_size": 32, "head_width": 16},
    "text_cfg": {"context_length": 8, "vocab_size": 49408, "width": 16, "heads": 2, "layers": 1},
}


class _MarkedMaps:
    """A stand-in teacher: one stage-end map at stride 32 whose channels are each position's row and column."""

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        b, _, h, w = x.shape
        rows, cols = np.meshgrid(np.arange(h // 32), np.arange(w // 32), indexing="ij")
        return [np.broadcast_to(np.stack([rows, cols]).astype(np.float32), (b, 2, h // 32, w // 32)).copy()]


def test_teacher_tokens_follow_the_towers_patch_order():
    images = torch.zeros(3, 3, 64, 96, dtype=torch.uint8)  # a 2 x 3 patch grid
    _, tokens = distil.teacher_targets(_MarkedMaps(), images, [0.0] * 3, [1.0] * 3)
    # the tower flattens its conv output row by row: token k sits at row k // 3, column k % 3
    expected = [[k // 3, k % 3] for k in range(6)]
    assert tokens.shape == (3, 6, 2) and tokens[0].tolist() == expected
    conv = torch.nn.Conv2d(1, 1, 32, stride=32, bias=False)
    conv.weight.data.fill_(1.0)
    marked = torch.zeros(1, 1, 64, 96)
    marked[0, 0, 32:, 64:] = 1.0  # the patch at row 1, column 2
    assert conv(marked).flatten(2)[0, 0].argmax().item() == 5 and expected[5] == [1, 2]


def test_the_pool_holds_every_canvas_at_its_own_shape():
    pool = distil.canvas_pool(3, seed=0, draw=patterns.aspect_views)
    assert set(pool) == set(patterns.CANVASES)
    assert all(v.shape == (3, 3, *c) and v.dtype == torch.uint8 for c, v in pool.items())


def test_standardised_targets_have_unit_scale_and_keep_constant_dimensions_finite():
    x = np.stack([np.arange(10.0) * 5 + 3, np.full(10, 7.0)], axis=1)
    z = distil.standardised(x, (0,))
    assert np.allclose(z[:, 0].mean(), 0) and np.allclose(z[:, 0].std(), 1) and np.all(z[:, 1] == 0)


def test_distillation_teaches_the_tower_a_target_it_can_see():
    """Planted: the pooled target is each image's mean brightness, the token target each patch's. After
    training, a least-squares readout of the tower's CLS tokens predicts held-out brightness far better
    than from the untrained tower."""
    gen = torch.Generator().manual_seed(0)
    level = torch.randint(0, 256, (96, 1, 2, 2), generator=gen).float()
    images = torch.nn.functional.interpolate(level, scale_factor=32).expand(-1, 3, -1, -1).to(torch.uint8)
    patch_mean = level.flatten(1)
    pooled = {(64, 64): distil.standardised(patch_mean.mean(1, keepdim=True).numpy(), (0,))}
    tokens = {(64, 64): distil.standardised(patch_mean.unsqueeze(2).numpy(), (0, 1))}
    pooled = {k: torch.from_numpy(v).float() for k, v in pooled.items()}
    tokens = {k: torch.from_numpy(v).float() for k, v in tokens.items()}
    pool = {(64, 64): images}
    from vipant.models.vt import build_clip
    from vipant.train.pretrain_vt import normalise_images

    def fit_error(state) -> float:
        tower = build_clip(TINY).visual
        tower.load_state_dict(state)
        with torch.no_grad():
            x = tower_tokens_any_size(tower, normalise_images(images))[:, 0]
        x = torch.cat([x, torch.ones(len(x), 1)], dim=1)
        y = pooled[(64, 64)]
        coef = torch.linalg.lstsq(x[:64], y[:64]).solution
        return float(((x[64:] @ coef - y[64:]) ** 2).mean())

    kwargs = {"batch_size": 16, "lr": 1e-3, "weight_decay": 0.0, "seed": 0}
    before = fit_error(distil.distil(TINY, pool, pooled, tokens, steps=0, **kwargs))
    after = fit_error(distil.distil(TINY, pool, pooled, tokens, steps=150, **kwargs))
    assert after < 0.5 * before
