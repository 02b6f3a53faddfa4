"""Symmetric InfoNCE (L_cst) on L2-normalised embeddings, with negatives gathered across DDP ranks.

Under ``torchrun`` each rank embeds its share of the global batch; the loss gathers every rank's
embeddings (with gradients, via ``torch.distributed.nn``) so each local row is contrasted against the
whole global batch. Each rank returns the mean over its own rows; DDP's gradient averaging then makes
the update identical to single-process training on the global batch (tests/test_loss.py checks the
loss values with 2 gloo processes).
"""

from __future__ import annotations

import math

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

LOGIT_SCALE_INIT = 1 / 0.07
LOGIT_SCALE_MAX = 100.0


class LogitScale(nn.Module):
    """Learnable temperature, stored as a log; ``forward`` returns ``exp`` clamped at 100 (CLIP)."""

    def __init__(self, init: float = LOGIT_SCALE_INIT, max_value: float = LOGIT_SCALE_MAX):
        super().__init__()
        self.log_scale = nn.Parameter(torch.tensor(math.log(init)))
        self.max_value = max_value

    def forward(self) -> torch.Tensor:
        return self.log_scale.exp().clamp(max=self.max_value)


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """All ranks' ``x`` concatenated in rank order; gradients flow back to each rank's own rows."""
    if not _distributed():
        return x
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(x), dim=0)


def contrastive_logits(
    a: torch.Tensor, b: torch.Tensor, scale: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Local-vs-global logits in both directions and the targets (index of each local row's positive)."""
    a_all, b_all = gather_with_grad(a), gather_with_grad(b)
    offset = dist.get_rank() * a.shape[0] if _distributed() else 0
    targets = torch.arange(a.shape[0], device=a.device) + offset
    return scale * a @ b_all.T, scale * b @ a_all.T, targets


def clip_loss(a: torch.Tensor, b: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE between row-aligned ``a`` and ``b`` (normalised inside)."""
    a = F.normalize(a, dim=-1)
    b = F.normalize(b, dim=-1)
    logits_ab, logits_ba, targets = contrastive_logits(a, b, scale)
    return 0.5 * (F.cross_entropy(logits_ab, targets) + F.cross_entropy(logits_ba, targets))


class ClipLoss(nn.Module):
    """L_cst with its own learnable logit scale."""

    def __init__(self, init_scale: float = LOGIT_SCALE_INIT):
        super().__init__()
        self.logit_scale = LogitScale(init_scale)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return clip_loss(a, b, self.logit_scale())
