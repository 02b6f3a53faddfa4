"""SpecAugment against vip-AnT's fbank path (zhaoyanpeng/vipant, ``configs/running/audio/default.yaml``:
``FrequencyMasking(32)`` then ``TimeMasking(200)`` from torchaudio, applied after normalisation in
``cvap/data/audio/transform.py``'s ``make_transform``): on 1000 x 128 features one time band of up to 200 frames
(1/5) and one frequency band of up to 32 bins (1/4), filled with 0 (the normalised mean), per example."""

import pytest
import torch
import torchaudio

from vipant.train.specaugment import spec_augment


def _bands(masked: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per example: which frames are masked across all bins, which bins across all frames."""
    zero = masked == 0
    return zero.all(dim=2), zero.all(dim=1)


def test_extents_match_torchaudio_masks_on_1000_by_128():
    """Our widths follow torchaudio's ``mask_param`` draws (uniform up to 200 frames / 32 bins): the same
    range and mean. Catches fractions swapped between the axes (up to 250 frames / 25 bins), masks on the
    wrong axis, and more than one band per axis."""
    n = 200
    x = torch.randn(n, 1000, 128) + 10.0  # no natural zeros
    ours = spec_augment(x, torch.Generator().manual_seed(0))
    t_band, f_band = _bands(ours)
    t_width, f_width = t_band.sum(1).float(), f_band.sum(1).float()
    # each mask is one contiguous band
    for band in (t_band, f_band):
        edges = (band[:, 1:].int() - band[:, :-1].int()).abs().sum(1)
        assert (edges <= 2).all()
    torch.manual_seed(0)
    freq, time = torchaudio.transforms.FrequencyMasking(32), torchaudio.transforms.TimeMasking(200)
    ref = torch.stack([time(freq(x[i].T.unsqueeze(0))).squeeze(0).T for i in range(n)])
    rt, rf = _bands(ref)
    rt_width, rf_width = rt.sum(1).float(), rf.sum(1).float()
    assert t_width.max() <= 200 and f_width.max() <= 32
    assert rt_width.max() <= 200 and rf_width.max() <= 32
    assert t_width.max() >= 190 and f_width.max() >= 30
    assert t_width.mean().item() == pytest.approx(rt_width.mean().item(), abs=12)  # both ~100 frames
    assert f_width.mean().item() == pytest.approx(rf_width.mean().item(), abs=2.5)  # both ~16 bins
    assert t_width.mean().item() == pytest.approx(100, abs=10) and f_width.mean().item() == pytest.approx(16, abs=2)


def test_masked_cells_are_zero_and_the_rest_untouched():
    """Catches a fill with the minimum or the batch mean, and masks that leak outside their band."""
    x = torch.randn(8, 1000, 128) + 10.0
    out = spec_augment(x, torch.Generator().manual_seed(1))
    t_band, f_band = _bands(out)
    masked = t_band[:, :, None] | f_band[:, None, :]
    assert (out[masked] == 0).all()
    assert torch.equal(out[~masked], x[~masked])
