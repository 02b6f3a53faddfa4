"""Run by tests/train/test_loss.py under torchrun (2 gloo processes): each rank writes its loss and the
gradient of its local rows, computed with negatives gathered from both ranks."""

import json
import sys

import torch
import torch.distributed as dist

from vipant.train.loss import clip_loss

dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
torch.manual_seed(1)
a, b = torch.randn(8, 6), torch.randn(8, 6)
n = a.shape[0] // world
local_a = a[rank * n:(rank + 1) * n].clone().requires_grad_(True)
loss = clip_loss(local_a, b[rank * n:(rank + 1) * n], torch.tensor(5.0))
loss.backward()
with open(f"{sys.argv[1]}/rank{rank}.json", "w") as f:
    json.dump({"loss": loss.item(), "grad": local_a.grad.tolist()}, f)
dist.destroy_process_group()
