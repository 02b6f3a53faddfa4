"""LARS against vip-AnT's (zhaoyanpeng/vipant, ``cvap/module/lars.py``; groups from ``build_optimizer`` in
``cvap/monitor/cvap.py``): parameters with ``ndim < 2`` (``exclude_bias_or_norm``) get neither weight decay nor
adaptation; the others ``dp = g + wd * p``, ``dp *= eta * ||p|| / ||dp||`` (1 where either norm is 0); then
``mu = momentum * mu + dp`` and ``p -= lr * mu``. Group 0 holds the >= 2-D weights, group 1 the rest."""

import copy

import torch
from torch import nn

from vipant.train.lars import LARS, lars_param_groups


def reference_step(params, grads, state, *, lr_w, lr_b, wd, eta, momentum):
    """One step of the reference update, in plain tensor arithmetic."""
    for name, p in params.items():
        g = grads[name]
        lr = lr_b if p.ndim < 2 else lr_w
        dp = g.clone()
        if p.ndim >= 2:
            dp = dp + wd * p
            pn, un = p.norm(), dp.norm()
            q = eta * pn / un if pn > 0 and un > 0 else torch.tensor(1.0)
            dp = dp * q
        state[name] = momentum * state.get(name, torch.zeros_like(p)) + dp
        params[name] = p - lr * state[name]


def test_three_steps_match_the_reference():
    """Catches decay or adaptation applied to biases/norms, a trust ratio over the raw gradient instead of
    g + wd * p, momentum applied after the LR, and the two groups' rates swapped."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 4), nn.LayerNorm(4), nn.Linear(4, 3, bias=False))
    with torch.no_grad():
        model[1].weight.mul_(1.7)  # a non-trivial norm weight: its update must stay plain SGD
    lr_w, lr_b, wd, eta, momentum = 0.3, 0.05, 0.01, 0.02, 0.9
    opt = LARS(
        lars_param_groups([model], lr_weights=lr_w, lr_biases=lr_b, weight_decay=wd),
        lr=lr_w,
        momentum=momentum,
        eta=eta,
    )
    ref = {k: v.detach().clone() for k, v in model.named_parameters()}
    state: dict = {}
    for step in range(3):
        x = torch.randn(7, 5)
        loss = model(x).pow(2).sum() + step
        opt.zero_grad()
        loss.backward()
        grads = {k: v.grad.detach().clone() for k, v in model.named_parameters()}
        opt.step()
        reference_step(ref, grads, state, lr_w=lr_w, lr_b=lr_b, wd=wd, eta=eta, momentum=momentum)
        for k, v in model.named_parameters():
            assert torch.allclose(v, ref[k], atol=1e-6), (step, k)


def test_groups_are_exclude_bias_or_norm():
    """Group 0 = ``ndim >= 2`` with decay, group 1 = ``ndim < 2`` without: a scalar logit scale and a vector
    class token are excluded, a positional table is not. Catches exclusion by name or by ``ndim <= 2``."""
    m = nn.Module()
    m.w = nn.Parameter(torch.randn(3, 3))
    m.pos = nn.Parameter(torch.randn(4, 3))
    m.cls = nn.Parameter(torch.randn(3))
    m.scale = nn.Parameter(torch.tensor(2.0))
    weights, others = lars_param_groups([m], lr_weights=1.0, lr_biases=0.1, weight_decay=1e-6)
    assert {id(p) for p in weights["params"]} == {id(m.w), id(m.pos)}
    assert {id(p) for p in others["params"]} == {id(m.cls), id(m.scale)}
    assert (weights["weight_decay"], weights["lars_exclude"]) == (1e-6, False)
    assert (others["weight_decay"], others["lars_exclude"]) == (0.0, True)


def test_zero_weights_step_unadapted():
    """A zero-norm weight takes the plain step (trust ratio 1), as the reference's ``torch.where``."""
    p = nn.Parameter(torch.zeros(2, 2))
    opt = LARS(lars_param_groups([nn.ParameterList([p])], lr_weights=0.5, lr_biases=0.1, weight_decay=0.0), lr=0.5)
    p.grad = torch.full((2, 2), 2.0)
    before = copy.deepcopy(p.detach())
    opt.step()
    assert torch.allclose(p.detach(), before - 0.5 * 2.0)
