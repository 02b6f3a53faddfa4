"""Positional grid resize and the short-input slice against vip-AnT's ``load_pos_embedding`` /
``interp_pos_embedding`` (zhaoyanpeng/vipant, ``cvap/module/encoder/audio_head.py``): the CLS row kept; the
``h x w`` grid (row-major, time-major for audio) bilinearly resized with ``align_corners=False``; a shorter
input with the same frequency columns takes ``h_new`` consecutive trained time rows from row 6 (``start = 6``).
Where 6 rows no longer fit (e.g. 58 of 61 rows) the reference's slice would come out short and fail; ours
ends the slice on the last trained row instead (asserted in ``tests/models/test_audio_encoder.py``)."""

import math

import numpy as np
import torch

from vipant.models.audio_encoder import fit_pos_embed, grid_size, resize_pos_embed


def bilinear_1d_weights(n_in: int, n_out: int) -> np.ndarray:
    """``[n_out, n_in]`` interpolation matrix of bilinear resizing with ``align_corners=False`` (half-pixel
    centres, source coordinate clamped at 0), written out by hand."""
    w = np.zeros((n_out, n_in))
    scale = n_in / n_out
    for i in range(n_out):
        src = max((i + 0.5) * scale - 0.5, 0.0)
        i0 = min(int(math.floor(src)), n_in - 1)
        i1 = min(i0 + 1, n_in - 1)
        lam = src - i0
        w[i, i0] += 1 - lam
        w[i, i1] += lam
    return w


def reference_resize(pos: np.ndarray, old: tuple[int, int], new: tuple[int, int]) -> np.ndarray:
    grid = pos[1:].reshape(old[0], old[1], -1)
    wt, wf = bilinear_1d_weights(old[0], new[0]), bilinear_1d_weights(old[1], new[1])
    out = np.einsum("th,fw,hwd->tfd", wt, wf, grid).reshape(new[0] * new[1], -1)
    return np.concatenate([pos[:1], out])


def test_image_grid_to_audio_grid_and_to_clotho_length():
    """7 x 7 -> 61 x 5 (10 s) and 61 x 5 -> 111 x 5 (Clotho's 18 s). Catches the time and frequency axes
    swapped in the reshape, ``align_corners=True``, nearest-neighbour resizing and a dropped CLS row."""
    g = torch.Generator().manual_seed(0)
    pos = torch.randn(1 + 49, 6, generator=g, dtype=torch.float64)
    audio = resize_pos_embed(pos, (7, 7), grid_size(1000, 128))
    assert grid_size(1000, 128) == (61, 5)
    assert np.allclose(audio.numpy(), reference_resize(pos.numpy(), (7, 7), (61, 5)), atol=1e-10)
    longer = fit_pos_embed(audio, (61, 5), grid_size(1800, 128))
    assert np.allclose(longer.numpy(), reference_resize(audio.numpy(), (61, 5), (111, 5)), atol=1e-10)


def test_short_input_slice_starts_at_row_6():
    """ESC-50's 5 s (30 x 5 tokens): CLS + trained rows 6..35, as the reference's ``start = 6`` slice. Catches
    a slice from row 0, a resize where the reference slices, and a slice counted in tokens instead of rows."""
    g = torch.Generator().manual_seed(1)
    pos = torch.randn(1 + 61 * 5, 4, generator=g)
    new = grid_size(500, 128)
    assert new == (30, 5)
    start = 6 * 5 + 1
    expected = torch.cat([pos[:1], pos[start : start + 30 * 5]])
    assert torch.equal(fit_pos_embed(pos, (61, 5), new), expected)


def test_encoder_adds_the_sliced_positions_to_the_matching_tokens(tiny_encoder):
    """Through g_A itself: a 5 s input's token (t, f) carries trained position row 6 + t. Catches an encoder
    that fits positions to the wrong grid (e.g. the 10 s one) or adds them before the CLS token is prepended."""
    enc = tiny_encoder(1000).eval()
    with torch.no_grad():
        enc.ln_pre = torch.nn.Identity()
        enc.conv1.weight.zero_()
        if enc.conv1.bias is not None:
            enc.conv1.bias.zero_()
        tokens, grid = enc.tokens(torch.randn(1, 500, 128))
    assert grid == (30, 5)
    rows = enc.positional_embedding.detach()
    assert torch.allclose(tokens[0, 0], enc.class_embedding.detach() + rows[0])
    assert torch.allclose(tokens[0, 1:], rows[1 + 6 * 5 : 1 + 36 * 5])
