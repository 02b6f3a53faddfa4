"""Run under torchrun with 2 gloo processes by tests/train/test_soft_label.py: each rank takes its 4 rows of
a global batch of 8 and writes its soft-label targets, its loss and the gradient of its local audio rows.

argv: out_dir"""

import json
import sys

import torch


def ddp_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Student audio, text (= the teacher's text side) and teacher audio of the global batch of 8. Teacher
    rows 0 and 5 are alike (ranks 0 and 1) so that a target crosses ranks."""
    g = torch.Generator().manual_seed(3)
    audio, text, t_audio = (torch.randn(8, 6, generator=g) for _ in range(3))
    t_audio[5] = t_audio[0] + 0.1 * torch.randn(6, generator=g)
    return audio, text, t_audio


if __name__ == "__main__":
    import torch.distributed as dist

    from vipant.train.soft_label import soft_label_loss, soft_targets

    dist.init_process_group("gloo")
    rank = dist.get_rank()
    audio, text, t_audio = ddp_batch()
    rows = slice(4 * rank, 4 * (rank + 1))
    local_audio = audio[rows].clone().requires_grad_(True)
    loss = soft_label_loss(local_audio, text[rows], t_audio[rows], text[rows], torch.tensor(6.0), alpha=0.3)
    loss.backward()
    targets = soft_targets(t_audio[rows], alpha=0.3)
    with open(f"{sys.argv[1]}/rank{rank}.json", "w") as f:
        json.dump({"loss": loss.item(), "grad": local_audio.grad.tolist(), "targets": targets.tolist()}, f)
    dist.barrier()  # both ranks leave together (see ddp_loss_script.py)
    dist.destroy_process_group()
