"""SpecAugment as vip-AnT uses it in VA pretraining: per example, one time mask of up to 1/5 of the
frames and one frequency mask of up to 1/4 of the mel bins, filled with 0 (the normalised mean)."""

from __future__ import annotations

import torch


def spec_augment(
    fbank: torch.Tensor,
    generator: torch.Generator | None = None,
    *,
    max_time: float = 0.2,
    max_freq: float = 0.25,
    rows: tuple[int, int] | None = None,
) -> torch.Tensor:
    """Masked copy of ``[B, T, F]`` features; masks drawn from ``generator`` (reproducible).

    The draws happen on the CPU, so a batch already on the GPU gets the same masks as on the CPU; only the
    small ``[B, T]`` and ``[B, F]`` masks are moved, and the ``[B, T, F]`` mask is formed where ``fbank`` is.
    ``rows=(first, total)``: ``fbank`` is rows ``first:first+B`` of a batch of ``total`` (one DDP rank's
    share); the masks of all ``total`` rows are drawn and this share's are applied, so every rank draws
    from one stream and the ranks together mask exactly as one process would.
    """
    b, t, f = fbank.shape
    first, total = rows if rows is not None else (0, b)
    b_local, b = b, total
    time_width = torch.randint(0, int(t * max_time) + 1, (b,), generator=generator)
    freq_width = torch.randint(0, int(f * max_freq) + 1, (b,), generator=generator)
    time_start = (torch.rand(b, generator=generator) * (t - time_width + 1)).long()
    freq_start = (torch.rand(b, generator=generator) * (f - freq_width + 1)).long()
    steps_t = torch.arange(t)[None, :]
    steps_f = torch.arange(f)[None, :]
    time_mask = (steps_t >= time_start[:, None]) & (steps_t < (time_start + time_width)[:, None])
    freq_mask = (steps_f >= freq_start[:, None]) & (steps_f < (freq_start + freq_width)[:, None])
    time_mask, freq_mask = time_mask[first : first + b_local], freq_mask[first : first + b_local]
    time_mask, freq_mask = time_mask.to(fbank.device), freq_mask.to(fbank.device)
    return fbank.masked_fill(time_mask[:, :, None] | freq_mask[:, None, :], 0.0)
