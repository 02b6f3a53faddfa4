"""Run by tests/train/test_ddp_loop.py: the whole training loop (vipant.train.loop.train) on a tiny VA task,
once as one process and once under ``torchrun --nproc_per_node=2`` (gloo on the CPU).

argv: prepare DATA_DIR            -- write the features and frame embeddings (once, before any run)
      train DATA_DIR OUT_DIR EPOCHS -- train; rank 0 writes OUT_DIR/weights.pt and OUT_DIR/history.json
"""

import json
import logging
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from va_train_script import TINY, make_data  # same folder: python puts the script's folder on sys.path

from vipant.embed.table import EmbeddingTable
from vipant.features.store import FbankStats, FbankStore
from vipant.models.audio_encoder import AudioEncoder
from vipant.models.vt import build_clip
from vipant.train.loop import TrainConfig, train
from vipant.train.pretrain_va import VAPretrainTask


def run(data: Path, out: Path, epochs: int) -> None:
    ids = [f"clip{i:03d}" for i in range(24)]
    store = FbankStore(data / "index.csv", FbankStats(0.0, 1.0), length=200)
    task = VAPretrainTask(
        store, EmbeddingTable.load(data / "frames"), ids[:16], match="random", val_ids=ids[16:], frames_length=200
    )
    torch.manual_seed(0)
    encoder = AudioEncoder(build_clip(TINY).visual, frames=200)
    cfg = TrainConfig(
        epochs=epochs, batch_size=8, lr_weights=0.5, lr_biases=0.01, warmup_epochs=1, device="cpu", spec_augment=True
    )
    logged = []
    history = train(encoder, task, cfg, out, on_epoch=lambda e, m: logged.append(e))
    rank = dist.get_rank() if dist.is_initialized() else 0
    if rank == 0:
        torch.save(encoder.state_dict(), out / "weights.pt")
    (out / f"rank{rank}.json").write_text(json.dumps({"history": history, "on_epoch": logged}))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    if sys.argv[1] == "prepare":
        make_data(Path(sys.argv[2]))
    else:
        run(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
