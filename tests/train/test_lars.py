import math

import torch
from torch import nn

from vipant.train.lars import LARS, lars_param_groups
from vipant.train.schedule import set_lr, warmup_cosine


def test_groups_split_by_dimension():
    model = nn.Sequential(nn.Linear(4, 3), nn.LayerNorm(3))
    groups = lars_param_groups([model], lr_weights=0.2, lr_biases=0.0048, weight_decay=1e-6)
    assert [p.ndim for p in groups[0]["params"]] == [2]
    assert all(p.ndim < 2 for p in groups[1]["params"]) and len(groups[1]["params"]) == 3
    assert groups[1]["weight_decay"] == 0.0 and groups[1]["lars_exclude"]


def test_weight_step_is_trust_ratio_scaled_and_bias_step_is_plain_sgd():
    w = nn.Parameter(torch.full((2, 2), 2.0))
    b = nn.Parameter(torch.zeros(2))
    opt = LARS(
        [
            {"params": [w], "lr": 1.0, "base_lr": 1.0, "weight_decay": 0.0, "lars_exclude": False},
            {"params": [b], "lr": 1.0, "base_lr": 1.0, "weight_decay": 0.0, "lars_exclude": True},
        ],
        lr=1.0,
        momentum=0.9,
        eta=0.001,
    )
    w.grad = torch.full((2, 2), 0.5)
    b.grad = torch.full((2,), 0.5)
    opt.step()
    # trust = eta * ||w|| / ||g|| = 0.001 * 4 / 1 = 0.004 -> step 0.5 * 0.004
    assert torch.allclose(w, torch.full((2, 2), 2.0 - 0.002))
    assert torch.allclose(b, torch.full((2,), -0.5))
    w.grad = torch.full((2, 2), 0.5)
    b.grad = torch.full((2,), 0.5)
    opt.step()
    assert torch.allclose(b, torch.full((2,), -0.5 - (0.9 * 0.5 + 0.5)))  # momentum


def test_lars_trains_a_linear_model():
    torch.manual_seed(0)
    x = torch.randn(64, 5)
    y = x @ torch.randn(5, 1)
    model = nn.Linear(5, 1)
    opt = LARS(lars_param_groups([model], lr_weights=50.0, lr_biases=0.05, weight_decay=0.0), lr=1.0)
    first = None
    for _ in range(200):
        loss = (model(x) - y).pow(2).mean()
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1 * first


def test_warmup_then_cosine():
    assert warmup_cosine(0, 100, 10) == 0.1
    assert warmup_cosine(9, 100, 10) == 1.0
    assert warmup_cosine(10, 100, 10) == 1.0
    assert math.isclose(warmup_cosine(55, 100, 10), 0.5, abs_tol=1e-9)
    assert warmup_cosine(100, 100, 10) == 0.0
    opt = torch.optim.SGD([{"params": [nn.Parameter(torch.zeros(1))], "lr": 0.0, "base_lr": 0.2}])
    set_lr(opt, 0.5)
    assert opt.param_groups[0]["lr"] == 0.1
