"""Learning-rate schedules, evaluated per step as multipliers of a group's ``base_lr``.

* :func:`lars_warmup_cosine` — vip-AnT's LARS schedule (``adjust_learning_rate`` in its
  ``cvap/module/lars.py``): linear warm-up from 0, then cosine decay to :data:`END_LR_FRACTION` of the base
  rate. VA pretraining and AT fine-tuning (:mod:`vipant.train.loop`) use it.
* :func:`warmup_cosine` — open_clip's shape (warm-up, cosine to zero), for the synthetic VT model that stands
  in for CLIP (:mod:`vipant.train.pretrain_vt`).
"""

from __future__ import annotations

import math

from torch.optim import Optimizer

# vip-AnT's cosine ends at ``base_lr * 0.001`` (its ``end_lr``), not at zero
END_LR_FRACTION = 0.001


def lars_warmup_cosine(step: int, total_steps: int, warmup_steps: int, end_fraction: float = END_LR_FRACTION) -> float:
    """vip-AnT's multiplier at ``step`` (0-based): ``step / warmup_steps`` during warm-up (0 at step 0, as in
    its code), then ``q + end_fraction * (1 - q)`` with ``q = (1 + cos(pi * progress)) / 2``."""
    if warmup_steps > 0 and step < warmup_steps:
        return step / warmup_steps
    span = max(total_steps - warmup_steps, 1)
    progress = min(max(step - warmup_steps, 0) / span, 1.0)
    q = 0.5 * (1.0 + math.cos(math.pi * progress))
    return q + end_fraction * (1.0 - q)


def warmup_cosine(step: int, total_steps: int, warmup_steps: int) -> float:
    """open_clip's multiplier at ``step`` (0-based): ``(step + 1) / warmup_steps``, then cosine to zero."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(total_steps - warmup_steps, 1)
    progress = min(max(step - warmup_steps, 0) / span, 1.0)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def set_lr(optimizer: Optimizer, multiplier: float) -> None:
    """Scale every group's ``base_lr`` by ``multiplier``."""
    for group in optimizer.param_groups:
        group["lr"] = group["base_lr"] * multiplier
