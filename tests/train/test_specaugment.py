import pytest
import torch

from vipant.train.specaugment import spec_augment


def _masks(generator_seed: int, x: torch.Tensor) -> torch.Tensor:
    return spec_augment(x, torch.Generator().manual_seed(generator_seed))


def test_one_time_and_one_frequency_band_within_limits():
    x = torch.ones(64, 100, 40)
    out = _masks(0, x)
    assert torch.equal(x, torch.ones(64, 100, 40))  # the input is left alone
    zero = out == 0
    for example in zero:
        rows = example.all(dim=1)  # masked time steps: every bin is zero
        cols = example.all(dim=0)  # masked bins: every time step is zero
        for band, limit in ((rows, 20), (cols, 10)):
            idx = band.nonzero().flatten()
            assert len(idx) <= limit
            if len(idx):
                assert idx.max() - idx.min() + 1 == len(idx)  # one contiguous band
        # nothing else is masked
        assert torch.equal(example, rows[:, None] | cols[None, :])
    assert zero.any(dim=(1, 2)).float().mean() > 0.5  # most examples get a mask


def test_masks_come_from_the_generator():
    x = torch.randn(8, 50, 20)
    assert torch.equal(_masks(3, x), _masks(3, x))
    assert not torch.equal(_masks(3, x), _masks(4, x))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_batch_on_the_gpu_gets_the_cpu_masks():
    x = torch.randn(8, 50, 20)
    on_gpu = _masks(5, x.cuda())
    assert on_gpu.device.type == "cuda"
    assert torch.equal(on_gpu.cpu(), _masks(5, x))


def test_a_ranks_share_gets_the_masks_of_its_rows_in_the_whole_batch():
    """DDP: rank r masks rows ``r*4:(r+1)*4`` of an 8-row batch with the masks one process draws for those rows.
    Catches a rank drawing only its own rows from the shared stream (rank 1 would reuse rank 0's masks)."""
    x = torch.randn(8, 50, 16)
    whole = spec_augment(x, torch.Generator().manual_seed(3))
    for first in (0, 4):
        share = spec_augment(x[first : first + 4], torch.Generator().manual_seed(3), rows=(first, 8))
        assert torch.equal(share, whole[first : first + 4])
    assert not torch.equal(whole[:4] == 0, whole[4:] == 0)  # the two shares' masks differ


def test_mask_widths_take_every_value_from_zero_to_the_maximum():
    """10 frames x 8 bins: a time mask covers 0, 1 or 2 frames (1/5), a frequency mask 0, 1 or 2 bins (1/4); over
    500 rows every width occurs. Catches masks that are never empty and masks that never reach the maximum."""
    out = spec_augment(torch.ones(500, 10, 8), torch.Generator().manual_seed(0))
    time_widths = (out == 0).all(dim=2).sum(dim=1)  # frames zero in every bin: the time mask
    freq_widths = (out == 0).all(dim=1).sum(dim=1)  # bins zero in every frame: the frequency mask
    assert set(time_widths.tolist()) == {0, 1, 2}
    assert set(freq_widths.tolist()) == {0, 1, 2}


@pytest.mark.parametrize("axis", ["time", "freq"])
def test_masks_start_anywhere_they_fit_and_never_run_off_the_end(axis):
    """5 steps on the masked axis, masks of up to all 5 (the other axis unmasked): a mask of w steps starts at
    each of 0..5-w, and a 5-step mask always at 0, so about a sixth of 600 rows are masked whole. Catches
    starts that are always 0, never the last position that fits, or past it (a mask cut short by the end)."""
    shape, kwargs = (
        ((600, 5, 8), dict(max_time=1.0, max_freq=0.0))
        if axis == "time"
        else ((600, 8, 5), dict(max_time=0.0, max_freq=1.0))
    )
    out = spec_augment(torch.ones(shape), torch.Generator().manual_seed(0), **kwargs)
    masked = (out == 0).all(dim=2) if axis == "time" else (out == 0).all(dim=1)  # [600, 5]
    widths = masked.sum(dim=1)
    starts = masked.float().argmax(dim=1)
    for w in range(1, 5):
        assert set(starts[widths == w].tolist()) == set(range(0, 6 - w)), w
    assert 70 <= int((widths == 5).sum()) <= 130
