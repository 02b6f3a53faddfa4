"""``vipant.train.vt_tower``: the VT image tower's supervised pre-stage on textures and shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vipant.models.vt import build_clip
from vipant.synth.sources import SHAPES, SOURCES, TEXTURES
from vipant.train.vt_tower import appearance_labels, pretrain_tower


def test_labels_are_each_sources_texture_and_shape():
    """Catches a label read from the source index instead of its appearance, or the two swapped."""
    texture, shape = appearance_labels(np.arange(len(SOURCES)))
    assert texture.tolist() == [TEXTURES.index(s.texture) for s in SOURCES]
    assert shape.tolist() == [SHAPES.index(s.shape) for s in SOURCES]
    assert int(texture.max()) == len(TEXTURES) - 1 and int(shape.max()) == len(SHAPES) - 1


def _planted(n_per_source: int = 2, flip: float = 0.0) -> tuple[torch.Tensor, np.ndarray]:
    """Each source drawn as its texture's own random binary 32 x 32 pattern, tiled, with a share ``flip`` of
    its pixels inverted at random per image: visible to a patch layer, hidden in noise for random features."""
    gen = torch.Generator().manual_seed(0)
    patterns = torch.rand(len(TEXTURES), 32, 32, generator=gen) > 0.5
    sources = np.tile(np.arange(len(SOURCES)), n_per_source)
    texture, _ = appearance_labels(sources)
    noisy = patterns[texture].repeat(1, 2, 2) ^ (torch.rand(len(sources), 64, 64, generator=gen) < flip)
    images = (noisy.to(torch.uint8) * 255).unsqueeze(1).expand(-1, 3, -1, -1).contiguous()
    return images, sources


def _centroid_accuracy(features: torch.Tensor, labels: torch.Tensor) -> float:
    """Nearest-centroid accuracy (cosine) on the second half of the rows, centroids from the first half."""
    f = torch.nn.functional.normalize(features, dim=1)
    fit = torch.arange(len(labels)) < len(labels) // 2
    centroids = torch.stack([f[fit & (labels == k)].mean(0) for k in range(int(labels.max()) + 1)])
    return float(((f[~fit] @ centroids.T).argmax(1) == labels[~fit]).float().mean())


def test_the_pre_trained_tower_separates_the_textures_a_fresh_one_does_not(tiny_vt_model):
    """Planted: textures are visible patterns in heavy noise. After the stage, the tower's own outputs tell
    held-out images' textures apart far better than at initialisation. Catches a stage that trains heads but returns the untrained tower, or
    that learns from misaligned labels."""
    images, sources = _planted(4, flip=0.4)
    kwargs = dict(batch_size=32, lr=3e-3, weight_decay=0.0, grey_prob=0.5, seed=0, images=images, source_labels=sources)
    texture, _ = appearance_labels(sources)
    fresh = build_clip(tiny_vt_model).visual
    fresh.load_state_dict(pretrain_tower(tiny_vt_model, steps=0, **kwargs))
    trained = build_clip(tiny_vt_model).visual
    trained.load_state_dict(pretrain_tower(tiny_vt_model, steps=80, **kwargs))
    with torch.no_grad():
        from vipant.train.pretrain_vt import normalise_images

        before = _centroid_accuracy(fresh(normalise_images(images)), texture)
        after = _centroid_accuracy(trained(normalise_images(images)), texture)
    assert after > 0.8 and after > before + 0.3  # measured: 1.0 against 0.39


def test_the_stage_is_deterministic_from_its_seed(tiny_vt_model):
    images, sources = _planted(1)
    kwargs = dict(batch_size=16, lr=1e-3, weight_decay=0.1, grey_prob=0.5, images=images, source_labels=sources)
    a, b = (
        pretrain_tower(tiny_vt_model, steps=3, seed=1, **kwargs),
        pretrain_tower(tiny_vt_model, steps=3, seed=1, **kwargs),
    )
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = pretrain_tower(tiny_vt_model, steps=3, seed=2, **kwargs)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_a_flat_corpus_refuses_the_stage(tmp_path, tiny_vt_model):
    from vipant.atomic import write_bytes
    from vipant.synth import vt_corpus
    from vipant.synth.config import WorldConfig
    from vipant.train.pretrain_vt import VTTrainConfig, train_vt

    pairs = vt_corpus.plan(WorldConfig.tiny())  # flat
    for name, text in vt_corpus.metadata(pairs).items():
        write_bytes(tmp_path / name, text.encode())
    (tmp_path / "vt_corpus" / "images").mkdir(parents=True, exist_ok=True)
    with pytest.raises(ValueError, match="needs the textured world"):
        train_vt(
            tmp_path / "vt_corpus",
            tiny_vt_model,
            VTTrainConfig(epochs=1, batch_size=4, tower_steps=5),
            tmp_path / "vt.pt",
        )


def _planted_patterns(n: int, size: int, gen: torch.Generator):
    """Stand-in for ``patterns.pattern_batch``: binary noise with a fine checkerboard (the same mean) in the
    labelled cell, so the cell label is learnable from the image it comes with, and from nothing else."""
    from vipant.synth import patterns

    labels = {k: torch.randint(m, (n,), generator=gen) for k, m in patterns.LABELS.items()}
    images = (torch.rand(n, size, size, generator=gen) < 0.5).to(torch.uint8) * 255
    step = size // patterns.CELLS
    ax = torch.arange(step)
    checks = ((ax.view(-1, 1) + ax.view(1, -1)) % 2).to(torch.uint8) * 255
    for i, c in enumerate(labels["cell"].tolist()):
        r, q = divmod(c, patterns.CELLS)
        images[i, r * step : (r + 1) * step, q * step : (q + 1) * step] = checks
    return images.unsqueeze(1).expand(n, 3, size, size).contiguous(), labels


@pytest.mark.parametrize("task", ["procedural", "appearance+procedural"])
def test_the_procedural_stage_learns_each_pattern_from_its_own_labels(tiny_vt_model, task, monkeypatch):
    """Planted: the cell is visible in each image. After the steps, the tower's own outputs tell held-out
    images' cells apart far better than at initialisation. Catches labels drawn apart from their images,
    heads fed the wrong label, or a joined task leaving the procedural component out."""
    from vipant.synth import patterns
    from vipant.train.pretrain_vt import normalise_images

    monkeypatch.setattr(patterns, "pattern_batch", _planted_patterns)
    images, sources = _planted(1)
    kwargs = dict(batch_size=32, lr=3e-3, weight_decay=0.0, grey_prob=0.0, seed=0, task=task)
    kwargs.update(images=images, source_labels=sources)
    held_out, labels = _planted_patterns(90, 64, torch.Generator().manual_seed(99))
    accuracy = {}
    for steps in (0, 60):
        tower = build_clip(tiny_vt_model).visual
        tower.load_state_dict(pretrain_tower(tiny_vt_model, steps=steps, **kwargs))
        with torch.no_grad():
            accuracy[steps] = _centroid_accuracy(tower(normalise_images(held_out)), labels["cell"])
    assert accuracy[60] > 0.7 and accuracy[60] > accuracy[0] + 0.3, accuracy  # measured: 0.87 / 0.96 against 0.22


def test_the_views_loss_is_low_for_matched_rows_and_a_task_names_known_components():
    """Catches an InfoNCE whose target is not the diagonal (row i's positive is row i of the other view)."""
    from vipant.train.vt_tower import components, views_loss

    z = torch.nn.functional.normalize(torch.randn(16, 8, generator=torch.Generator().manual_seed(0)), dim=1)
    assert views_loss(z, z + 0.01) < 0.1 < views_loss(z, z.roll(1, dims=0))
    assert components("appearance+views") == {"appearance", "views"}
    with pytest.raises(ValueError, match="components must be among"):
        components("both")


def test_the_tower_at_any_size_keeps_each_tokens_position_along_its_own_axis(tiny_vt_model):
    """At the tower's own size ``tower_any_size`` is the tower. On a 4 x 2 grid (a 128 x 64 canvas), with
    positions that vary only across columns, swapping two rows of patches leaves the CLS output unchanged
    (attention is order-free; each token keeps its position) while swapping two columns changes it. Catches
    the grid's axes swapped in the resize or the tokens flattened column-major."""
    from vipant.train.vt_tower import tower_any_size

    torch.manual_seed(0)
    tower = build_clip(tiny_vt_model).visual.eval()
    with torch.no_grad():
        own = torch.randn(2, 3, 64, 64)
        assert torch.allclose(tower_any_size(tower, own), tower(own), atol=1e-6)
        pos = tower.positional_embedding  # CLS + 2 x 2 grid, row-major
        column = torch.randn(2, pos.shape[1])
        pos[1:] = column.repeat(2, 1)  # rows (0, 0), (0, 1), (1, 0), (1, 1) -> columns 0, 1, 0, 1
        x = torch.randn(1, 3, 128, 64)
        rows_swapped = torch.cat([x[:, :, 32:64], x[:, :, :32], x[:, :, 64:]], dim=2)
        columns_swapped = torch.cat([x[:, :, :, 32:], x[:, :, :, :32]], dim=3)
        out = tower_any_size(tower, x)
        assert torch.allclose(tower_any_size(tower, rows_swapped), out, atol=1e-5)
        assert not torch.allclose(tower_any_size(tower, columns_swapped), out, atol=1e-3)


def test_the_aspect_stage_trains_through_every_canvas(tiny_vt_model, monkeypatch):
    """Every canvas of the list reaches the tower, and the stage moves its weights. Catches a stage that
    draws one canvas only, or views that skip the tower (no gradient)."""
    from vipant.synth import patterns

    seen = []
    real = patterns.pattern_views
    monkeypatch.setattr(patterns, "CANVASES", ((64, 64), (128, 64), (64, 128)))

    def spy(n, size, gen, scale=None):
        seen.append(tuple(size) if not isinstance(size, int) else (size, size))
        return real(n, size, gen, scale)

    monkeypatch.setattr(patterns, "pattern_views", spy)
    kwargs = dict(batch_size=8, lr=1e-3, weight_decay=0.0, grey_prob=0.0, seed=0, task="aspect")
    before = pretrain_tower(tiny_vt_model, steps=0, **kwargs)
    after = pretrain_tower(tiny_vt_model, steps=12, **kwargs)
    assert set(seen) == {(64, 64), (128, 64), (64, 128)}
    assert not torch.equal(before["positional_embedding"], after["positional_embedding"])
    assert not torch.equal(before["conv1.weight"], after["conv1.weight"])
