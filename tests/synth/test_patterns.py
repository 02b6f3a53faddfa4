"""``vipant.synth.patterns``: the procedural patterns' labels must describe the pixels they come with."""

from __future__ import annotations

import math

import torch

from vipant.synth import patterns


def _batch(n: int = 200, seed: int = 0):
    images, labels = patterns.pattern_batch(n, 224, torch.Generator().manual_seed(seed))
    return images[:, 0].float() - 128, labels


def test_the_cell_label_is_where_the_pattern_is():
    """Catches a window placed from a row/column-swapped or shifted cell index (a wrong index)."""
    dev, labels = _batch()
    cell = 224 / patterns.CELLS
    energy = (dev.abs() > 40).float()  # the background's noise has a standard deviation of ~10 grey levels
    ax = torch.arange(224, dtype=torch.float32)
    mass = energy.sum((1, 2))
    cy = (energy.sum(2) * ax).sum(1) / mass
    cx = (energy.sum(1) * ax).sum(1) / mass
    found = (cy // cell).long() * patterns.CELLS + (cx // cell).long()
    assert (found == labels["cell"]).float().mean() > 0.9


def test_orientation_and_period_labels_match_the_gratings_spectrum():
    """Catches an orientation bin reversed or taken modulo the wrong angle, and period bins out of order."""
    dev, labels = _batch(400)
    grating = labels["kind"] == patterns.KINDS.index("grating")
    spec = torch.fft.fft2(dev[grating]).abs()
    spec[:, 0, 0] = 0
    f = torch.fft.fftfreq(224)
    peak = spec.flatten(1).argmax(1)
    fy, fx = f[peak // 224], f[peak % 224]
    angle = torch.remainder(torch.atan2(fy, fx), math.pi)
    centre = (labels["orientation"][grating] + 0.5) * math.pi / patterns.ORIENTATIONS
    off = torch.remainder(angle - centre + math.pi / 2, math.pi) - math.pi / 2
    assert (off.abs() < math.pi / patterns.ORIENTATIONS).float().mean() > 0.9
    period = 1 / torch.sqrt(fx**2 + fy**2)
    means = [float(period[labels["period"][grating] == b].mean()) for b in range(patterns.PERIODS)]
    assert means == sorted(means) and means[-1] > 4 * means[0]


def test_every_label_takes_every_value_and_a_seed_gives_the_same_bytes():
    images, labels = patterns.pattern_batch(300, 64, torch.Generator().manual_seed(3))
    for name, n in patterns.LABELS.items():
        assert set(labels[name].tolist()) == set(range(n)), name
    again, _ = patterns.pattern_batch(300, 64, torch.Generator().manual_seed(3))
    other, _ = patterns.pattern_batch(300, 64, torch.Generator().manual_seed(4))
    assert torch.equal(images, again) and not torch.equal(images, other)
    assert images.dtype == torch.uint8 and torch.equal(images[:, 0], images[:, 2])


def test_the_two_views_of_a_row_show_the_same_pattern():
    """Catches views drawn from different patterns, or a row order that differs between the two views (a
    contrastive stage would then learn to match strangers): row i's views match best at some shift."""
    first, second = patterns.pattern_views(32, 224, torch.Generator().manual_seed(2))
    assert not torch.equal(first, second)
    a, b = (torch.fft.rfft2(v[:, 0].float() - 128) for v in (first, second))
    norm = torch.sqrt((first[:, 0].float() - 128).square().sum((1, 2)))
    norm_b = torch.sqrt((second[:, 0].float() - 128).square().sum((1, 2)))
    # best circular cross-correlation over all shifts, for every (row of first, row of second)
    cross = torch.fft.irfft2(a.unsqueeze(1) * b.conj().unsqueeze(0), s=(224, 224)).flatten(2).max(2).values
    cross = cross / (norm.view(-1, 1) * norm_b.view(1, -1))
    assert (cross.argmax(1) == torch.arange(32)).float().mean() > 0.9


def test_on_a_long_canvas_the_cell_and_the_views_follow_each_axis():
    """On a 448 x 96 canvas (at the 224 design's pixel scale) the window lies in its labelled cell, and the
    two views of a row show the same pattern. Catches the window's row placed from the width (or the column
    from the height), and views of different patterns on non-square canvases."""
    h, w = 448, 96
    pattern, labels = patterns._patterns(200, (h, w), torch.Generator().manual_seed(0), scale=1.0)
    energy = (pattern.abs() > 0.15).float()
    mass = energy.sum((1, 2)).clamp_min(1)
    cy = (energy.sum(2) * torch.arange(h)).sum(1) / mass
    cx = (energy.sum(1) * torch.arange(w)).sum(1) / mass
    found = (cy // (h / patterns.CELLS)).long() * patterns.CELLS + (cx // (w / patterns.CELLS)).long()
    assert (found == labels["cell"]).float().mean() > 0.9
    first, second = patterns.pattern_views(16, (h, w), torch.Generator().manual_seed(2), scale=1.0)
    assert first.shape == (16, 3, h, w)
    a, b = (v[:, 0].float() - 128 for v in (first, second))
    fa, fb = torch.fft.rfft2(a), torch.fft.rfft2(b)
    cross = torch.fft.irfft2(fa.unsqueeze(1) * fb.conj().unsqueeze(0), s=(h, w)).flatten(2).max(2).values
    cross = cross / (a.square().sum((1, 2)).sqrt().view(-1, 1) * b.square().sum((1, 2)).sqrt().view(1, -1))
    assert (cross.argmax(1) == torch.arange(16)).float().mean() > 0.9


def test_dense_views_show_one_image_twice_with_content_in_every_patch():
    """The two ``dense`` views of a row are the same image (best cross-correlation over shifts on the diagonal),
    at the photographic grey-level spread, with structure in nearly every 32 x 32 patch. Catches views of
    different images, a row order that differs between views, and content left in one window."""
    first, second = patterns.dense_views(12, torch.Generator().manual_seed(1))
    h, w = first.shape[2:]
    a, b = (v[:, 0].float() / 255 for v in (first, second))
    assert 0.6 * patterns.DENSE_STD < float(a.std(dim=(1, 2)).mean()) < 1.4 * patterns.DENSE_STD
    ca, cb = a - a.mean((1, 2), keepdim=True), b - b.mean((1, 2), keepdim=True)
    cross = torch.fft.irfft2(torch.fft.rfft2(ca).unsqueeze(1) * torch.fft.rfft2(cb).conj().unsqueeze(0), s=(h, w))
    cross = cross.flatten(2).max(2).values
    cross = cross / (ca.square().sum((1, 2)).sqrt().view(-1, 1) * cb.square().sum((1, 2)).sqrt().view(1, -1))
    assert (cross.argmax(1) == torch.arange(12)).all()
    patch_std = a.unfold(1, 32, 32).unfold(2, 32, 32).std(dim=(-1, -2))
    assert (patch_std > 0.08).float().mean() > 0.9  # the render's own pixel noise alone: ~0.04
