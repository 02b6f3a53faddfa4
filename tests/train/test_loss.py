import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from vipant.train.loss import ClipLoss, LogitScale, clip_loss


def test_logit_scale_init_and_clamp():
    s = LogitScale()
    assert s().item() == pytest.approx(1 / 0.07, rel=1e-5)
    with torch.no_grad():
        s.log_scale.fill_(math.log(1000.0))
    assert s().item() == pytest.approx(100.0)


def test_clip_loss_matches_hand_computation():
    torch.manual_seed(0)
    a, b = torch.randn(5, 8), torch.randn(5, 8)
    scale = torch.tensor(10.0)
    an, bn = F.normalize(a, dim=-1), F.normalize(b, dim=-1)
    logits = scale * an @ bn.T
    expected = 0.5 * (F.cross_entropy(logits, torch.arange(5)) + F.cross_entropy(logits.T, torch.arange(5)))
    assert torch.allclose(clip_loss(a, b, scale), expected)


def test_perfect_alignment_gives_low_loss():
    x = torch.eye(4)
    assert clip_loss(x, x, torch.tensor(100.0)).item() < 1e-6
    assert ClipLoss()(x, x.flip(0)).item() > 1.0


@pytest.mark.parametrize(
    "backend",
    [
        "gloo",
        pytest.param("nccl", marks=pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 CUDA GPUs")),
    ],
)
def test_ddp_gathered_loss_equals_single_process_loss(tmp_path, backend):
    """2 ranks under torchrun (gloo on CPU; nccl with one GPU per rank, as in multi-GPU training): mean of
    the ranks' losses = single-process loss on the global batch, and the DDP-averaged gradients equal the
    single-process gradients."""
    script = Path(__file__).with_name("ddp_loss_script.py")
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "NCCL_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    for attempt in range(2):  # a second try only covers a port taken between choosing and binding it
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "torch.distributed.run",
                "--nnodes",
                "1",
                "--nproc_per_node",
                "2",
                "--master_addr",
                "127.0.0.1",
                "--master_port",
                str(port),
                str(script),
                str(tmp_path),
                backend,
            ],
            capture_output=True,
            text=True,
            timeout=240,
            env=env,
        )
        if proc.returncode == 0:
            break
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    torch.manual_seed(1)
    a, b = torch.randn(8, 6), torch.randn(8, 6)
    single_a = a.clone().requires_grad_(True)
    single = clip_loss(single_a, b, torch.tensor(5.0))
    single.backward()
    assert sum(r["loss"] for r in ranks) / 2 == pytest.approx(single.item(), rel=1e-5)
    ddp_grad = torch.tensor(ranks[0]["grad"] + ranks[1]["grad"]) / 2  # DDP averages over ranks
    assert torch.allclose(ddp_grad, single_a.grad, atol=1e-5 if backend == "nccl" else 1e-6)
