"""Run under torchrun with 2 processes by tests/train/test_loss.py, with gloo on the CPU and with nccl
(one GPU per rank): each rank writes its loss and the gradient of its local rows, computed with
negatives gathered from both ranks.

argv: out_dir [backend]"""

import json
import sys

import torch
import torch.distributed as dist

from vipant.train.loss import clip_loss

backend = sys.argv[2] if len(sys.argv) > 2 else "gloo"
dist.init_process_group(backend)
rank, world = dist.get_rank(), dist.get_world_size()
device = torch.device("cuda", rank) if backend == "nccl" else torch.device("cpu")
if device.type == "cuda":
    torch.cuda.set_device(device)
torch.manual_seed(1)
a, b = torch.randn(8, 6).to(device), torch.randn(8, 6).to(device)
n = a.shape[0] // world
local_a = a[rank * n : (rank + 1) * n].clone().requires_grad_(True)
loss = clip_loss(local_a, b[rank * n : (rank + 1) * n], torch.tensor(5.0, device=device))
loss.backward()
with open(f"{sys.argv[1]}/rank{rank}.json", "w") as f:
    json.dump({"loss": loss.item(), "grad": local_a.grad.tolist()}, f)
# Both ranks leave together: a rank that tears gloo down while its peer is still finishing its last
# collective aborts the peer ("terminate called without an active exception", seen in CI).
dist.barrier()
dist.destroy_process_group()
