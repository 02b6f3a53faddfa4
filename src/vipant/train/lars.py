"""LARS (You et al. 2017) as vip-AnT trains with it: SGD with momentum where each weight matrix's step
is rescaled by the trust ratio ``eta * ||w|| / ||g + wd * w||``.

Parameters with fewer than 2 dimensions (biases, norms, the logit scale, class/positional tokens stored
as vectors) get neither weight decay nor the trust-ratio adaptation, and their own learning rate.
"""

from __future__ import annotations

from typing import Iterable

import torch
from torch import nn
from torch.optim import Optimizer


class LARS(Optimizer):
    """Each param group may set ``lars_exclude=True`` to skip weight decay and adaptation."""

    def __init__(self, params, lr: float, weight_decay: float = 0.0, momentum: float = 0.9, eta: float = 0.001):
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, eta=eta, lars_exclude=False)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad
                if not group["lars_exclude"]:
                    d_p = d_p.add(p, alpha=group["weight_decay"])
                    param_norm = torch.norm(p)
                    update_norm = torch.norm(d_p)
                    one = torch.ones_like(param_norm)
                    trust = torch.where(
                        param_norm > 0,
                        torch.where(update_norm > 0, group["eta"] * param_norm / update_norm, one),
                        one,
                    )
                    d_p = d_p.mul(trust)
                state = self.state[p]
                if "mu" not in state:
                    state["mu"] = torch.zeros_like(p)
                mu = state["mu"]
                mu.mul_(group["momentum"]).add_(d_p)
                p.add_(mu, alpha=-group["lr"])
        return loss


def lars_param_groups(
    modules: Iterable[nn.Module], *, lr_weights: float, lr_biases: float, weight_decay: float
) -> list[dict]:
    """Two groups: >=2-D weights (decay + adaptation) and everything else (neither), each with its LR."""
    weights, others = [], []
    seen: set[int] = set()
    for module in modules:
        for p in module.parameters():
            if not p.requires_grad or id(p) in seen:
                continue
            seen.add(id(p))
            (weights if p.ndim >= 2 else others).append(p)
    return [
        {
            "params": weights,
            "lr": lr_weights,
            "base_lr": lr_weights,
            "weight_decay": weight_decay,
            "lars_exclude": False,
        },
        {"params": others, "lr": lr_biases, "base_lr": lr_biases, "weight_decay": 0.0, "lars_exclude": True},
    ]
