"""Generic procedural grey patterns with their generating parameters as labels: a pre-stage for the
synthetic VT's image tower that owes nothing to the world (no source, no object, no audio).

A real CLIP's image tower learns oriented edges, lines, periodic textures and where they lie from its
photographs; the synthetic VT's captions teach none of that. Each pattern here is one of five kinds
(grating, parallel lines, curved lines, a dot lattice, oriented band-limited noise) at an orientation and
a period, inside a soft window placed in one cell of a 3 x 3 grid, on a faint noise background. The window's
cell is a label too, so a tower trained on these keeps *where* a pattern is in its pooled output (in a
spectrogram, where is frequency). :func:`pattern_views` draws two views of each pattern instead, for a
contrastive stage that has to tell every pattern from every other; :func:`aspect_views` draws them on
canvases of other shapes (:data:`CANVASES`), and :func:`dense_views` fills such canvases with several
patterns over 1/f noise. Images are drawn on the fly from a ``torch.Generator``: the same seed gives the
same batches.
"""

from __future__ import annotations

import math

import torch

KINDS = ("grating", "lines", "curves", "dots", "noise")
ORIENTATIONS = 8  # bins over 180 degrees
PERIODS = 4  # log-spaced bins between PERIOD_RANGE's ends
PERIOD_RANGE = (4.0, 48.0)  # pixels, at 224 x 224
CELLS = 3  # the window's centre lies in one of CELLS x CELLS cells

LABELS = {"kind": len(KINDS), "orientation": ORIENTATIONS, "period": PERIODS, "cell": CELLS * CELLS}


def _uniform(n: int, gen: torch.Generator, lo: float = 0.0, hi: float = 1.0) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=gen)


def _lines(u: torch.Tensor, period: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
    """Thin bright lines every ``period`` pixels across ``u``."""
    d = (torch.remainder(u / period + phase, 1.0) - 0.5) * period
    width = torch.clamp(period / 8, min=1.0)
    return torch.exp(-0.5 * (d / width) ** 2)


def _band_noise(
    n: int, shape: tuple[int, int], theta: torch.Tensor, period: torch.Tensor, gen: torch.Generator
) -> torch.Tensor:
    """White noise kept near spatial frequency ``1 / period`` across orientation ``theta``, unit variance."""
    h, w = shape
    white = torch.randn(n, h, w, generator=gen)
    fy, fx = torch.meshgrid(torch.fft.fftfreq(h), torch.fft.fftfreq(w), indexing="ij")
    c, s = torch.cos(theta).view(n, 1, 1), torch.sin(theta).view(n, 1, 1)
    f0 = (1 / period).view(n, 1, 1)
    along = fx * c + fy * s
    across = -fx * s + fy * c
    bw = 0.25 * f0
    mask = torch.exp(-0.5 * ((along.abs() - f0) / bw) ** 2 - 0.5 * (across / bw) ** 2)
    out = torch.fft.ifft2(torch.fft.fft2(white) * mask).real
    return out / out.flatten(1).std(dim=1).clamp_min(1e-6).view(n, 1, 1)


def _canvas(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def _patterns(
    n: int,
    size: int | tuple[int, int],
    gen: torch.Generator,
    scale: float | None = None,
    half_sides: tuple[float, float] = (0.12, 0.22),
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``[n, h, w]`` windowed patterns around 0 (contrast and polarity applied, no background) and their
    labels. ``size``: ``h = w`` or ``(h, w)``; ``scale``: pixels per pixel of the 224 x 224 design (periods,
    curves and window edges), by default the shorter side / 224; ``half_sides``: range of the window's
    half-sides, as fractions of each side."""
    h, w = _canvas(size)

    def px(v):  # a length of the 224 design in this canvas's pixels
        return v * min(h, w) / 224 if scale is None else v * scale

    kind = torch.randint(len(KINDS), (n,), generator=gen)
    o_bin = torch.randint(ORIENTATIONS, (n,), generator=gen)
    p_bin = torch.randint(PERIODS, (n,), generator=gen)
    cell = torch.randint(CELLS * CELLS, (n,), generator=gen)
    theta = (o_bin + _uniform(n, gen)) * math.pi / ORIENTATIONS
    lo, hi = (math.log(v) for v in PERIOD_RANGE)
    period = torch.exp(lo + (p_bin + _uniform(n, gen)) * (hi - lo) / PERIODS)
    period = px(period)
    phase = _uniform(n, gen)

    y, x = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    c, s = torch.cos(theta).view(n, 1, 1), torch.sin(theta).view(n, 1, 1)
    u = x * c + y * s  # across the stripes
    v = -x * s + y * c  # along them
    p, ph = period.view(n, 1, 1), phase.view(n, 1, 1)

    bend = _uniform(n, gen, 0.5, 1.5).view(n, 1, 1) * p
    wave = px(_uniform(n, gen, 40.0, 120.0).view(n, 1, 1))
    shapes = {
        "grating": torch.sin(2 * math.pi * (u / p + ph)),
        "lines": _lines(u, p, ph),
        "curves": _lines(u + bend * torch.sin(2 * math.pi * v / wave), p, ph),
        "dots": _lines(u, p, ph) * _lines(v, 1.7 * p, ph),
        "noise": _band_noise(n, (h, w), theta, period, gen).clamp(-2, 2) / 2,
    }
    pattern = torch.zeros(n, h, w)
    for k, name in enumerate(KINDS):
        pick = kind == k
        pattern[pick] = shapes[name][pick]

    # a soft rectangular window centred in the chosen cell (cells and window sides: fractions of each side)
    cell_h, cell_w = h / CELLS, w / CELLS
    cy = ((cell // CELLS).float() + 0.5) * cell_h + _uniform(n, gen, -cell_h / 4, cell_h / 4)
    cx = ((cell % CELLS).float() + 0.5) * cell_w + _uniform(n, gen, -cell_w / 4, cell_w / 4)
    hy = _uniform(n, gen, *half_sides).view(n, 1, 1) * h
    hx = _uniform(n, gen, *half_sides).view(n, 1, 1) * w
    edge = 0.04 * min(h, w) if scale is None else 0.04 * 224 * scale
    window = torch.sigmoid((hy - (y - cy.view(n, 1, 1)).abs()) / edge) * torch.sigmoid(
        (hx - (x - cx.view(n, 1, 1)).abs()) / edge
    )

    contrast = _uniform(n, gen, 0.25, 0.5).view(n, 1, 1)
    polarity = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0).view(n, 1, 1)
    return polarity * contrast * pattern * window, {"kind": kind, "orientation": o_bin, "period": p_bin, "cell": cell}


def _render(pattern: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """uint8 ``[n, 3, h, w]``: ``pattern`` on a mid-grey background with faint noise of its own."""
    n, h, w = pattern.shape
    grey = (0.5 + 0.04 * torch.randn(n, h, w, generator=gen) + pattern).clamp(0, 1)
    return (grey * 255).round().to(torch.uint8).unsqueeze(1).expand(n, 3, h, w).contiguous()


def pattern_batch(n: int, size: int, gen: torch.Generator) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``n`` uint8 ``[n, 3, size, size]`` grey images and their labels (``LABELS``' keys, int64 ``[n]``)."""
    pattern, labels = _patterns(n, size, gen)
    return _render(pattern, gen), labels


MAX_SHIFT = 8 / 224  # of the image size: a view moves its pattern by at most this much


def pattern_views(
    n: int, size: int | tuple[int, int], gen: torch.Generator, scale: float | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Two uint8 ``[n, 3, h, w]`` views of ``n`` patterns (``size``, ``scale``: as :func:`_patterns`), row i of
    each showing pattern i: each view has its own background noise, a contrast scaled by U(0.7, 1.3) and a
    shift of up to ``MAX_SHIFT`` (of 224 pixels, times ``scale``). No crop or flip, so where a pattern lies
    stays part of what tells it from the others."""
    h, w = _canvas(size)
    pattern, _ = _patterns(n, (h, w), gen, scale)
    shift = max(1, round(MAX_SHIFT * (min(h, w) if scale is None else 224 * scale)))
    return _view(pattern, shift, gen), _view(pattern, shift, gen)


def _view(image: torch.Tensor, shift: int, gen: torch.Generator) -> torch.Tensor:
    """One rendered view of ``[n, h, w]`` images: each scaled by U(0.7, 1.3) and rolled by up to ``shift``
    pixels along each axis."""
    n = len(image)
    contrast = _uniform(n, gen, 0.7, 1.3).view(n, 1, 1)
    moves = torch.randint(-shift, shift + 1, (n, 2), generator=gen).tolist()
    moved = torch.stack([torch.roll(p, (dy, dx), dims=(0, 1)) for p, (dy, dx) in zip(image, moves)])
    return _render(contrast * moved, gen)


# Canvases of the ``aspect`` views (height x width, multiples of a 32-pixel patch): square to 8:1 in both
# orientations, at the 224 design's pixel scale, so a tower learns to pool grids other than its own 7 x 7
CANVASES = ((224, 224), (448, 224), (224, 448), (640, 128), (128, 640), (992, 128), (128, 992))


def _canvas_drawn(gen: torch.Generator) -> tuple[int, int]:
    return CANVASES[int(torch.randint(len(CANVASES), (1,), generator=gen))]


def aspect_views(n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`pattern_views` on one canvas drawn from :data:`CANVASES`, at the 224 design's pixel scale."""
    return pattern_views(n, _canvas_drawn(gen), gen, scale=1.0)


DENSE_PATTERNS = (3, 6)  # patterns per ``dense`` image, fewest and most
DENSE_STD = 0.27  # grey-level standard deviation of a ``dense`` image: CLIP's normalisation std, as photos have


def _pink_noise(n: int, shape: tuple[int, int], gen: torch.Generator) -> torch.Tensor:
    """``[n, h, w]`` noise with a 1/f amplitude spectrum (as photographs have), unit variance."""
    h, w = shape
    fy, fx = torch.meshgrid(torch.fft.fftfreq(h), torch.fft.fftfreq(w), indexing="ij")
    f = torch.sqrt(fx**2 + fy**2)
    f[0, 0] = 1.0
    out = torch.fft.ifft2(torch.fft.fft2(torch.randn(n, h, w, generator=gen)) / f).real
    out = out - out.mean(dim=(1, 2), keepdim=True)
    return out / out.flatten(1).std(dim=1).clamp_min(1e-6).view(n, 1, 1)


def dense_views(n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two uint8 views of ``n`` images whose content fills the canvas, as a photograph's does: on one canvas
    drawn from :data:`CANVASES`, each image sums :data:`DENSE_PATTERNS` windowed patterns (larger windows than
    :func:`pattern_views`') over 1/f background noise, scaled to a grey-level standard deviation of
    :data:`DENSE_STD`. The patterns are shared by the two views; each view draws its own background (a
    shared one would tell the images apart without any pattern) and shifts and rescales the patterns as
    :func:`pattern_views` does."""
    h, w = _canvas_drawn(gen)
    lo, hi = DENSE_PATTERNS
    content = torch.zeros(n, h, w)
    for k in range(hi):
        pattern, _ = _patterns(n, (h, w), gen, scale=1.0, half_sides=(0.2, 0.45))
        keep = torch.ones(n) if k < lo else (torch.rand(n, generator=gen) < 0.5).float()
        content = content + keep.view(n, 1, 1) * pattern / 0.375  # 0.375: a pattern's mean contrast
    views = []
    for _ in range(2):
        image = content + 0.5 * _pink_noise(n, (h, w), gen)
        image = DENSE_STD * image / image.flatten(1).std(dim=1).clamp_min(1e-6).view(n, 1, 1)
        views.append(_view(image, round(MAX_SHIFT * 224), gen))
    return views[0], views[1]
