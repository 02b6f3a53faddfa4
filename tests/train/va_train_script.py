"""Run by tests/train/test_loop.py in a subprocess: a tiny VA pretraining on random features.

argv: work_dir epochs crash_after_epoch [match [lr [device [max_steps eval_every]]]] (device defaults to cpu,
where resumption is bit-identical; test_loop.py's CUDA test passes cuda, and "cpu-bf16" runs on the CPU under
bf16 autocast; max_steps/eval_every give a step budget evaluated every eval_every steps)
"""

import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from vipant.embed.table import EmbeddingTable, save_table
from vipant.features.fbank import INDEX_COLUMNS
from vipant.features.store import FbankStats, FbankStore, merge_indexes
from vipant.models.audio_encoder import AudioEncoder, save_audio_model
from vipant.models.vt import build_clip
from vipant.train.loop import TrainConfig, train
from vipant.train.pretrain_va import VAPretrainTask

TINY = {
    "embed_dim": 16,
    "quick_gelu": True,
    "vision_cfg": {"image_size": 224, "layers": 1, "width": 32, "patch_size": 32, "head_width": 16},
    "text_cfg": {"context_length": 8, "vocab_size": 49408, "width": 16, "heads": 2, "layers": 1},
}


def make_data(work: Path, n: int = 24, frames: int = 200):
    rng = np.random.default_rng(0)
    ids = [f"clip{i:03d}" for i in range(n)]
    np.save(work / "shard-000.npy", rng.standard_normal((n, frames, 128)).astype(np.float16))
    pd.DataFrame(
        [
            {
                "clip_id": c,
                "shard": "shard-000.npy",
                "row": i,
                "n_frames": frames,
                "status": "ok",
                "reason": "",
                "detail": "",
            }
            for i, c in enumerate(ids)
        ],
        columns=INDEX_COLUMNS,
    ).to_csv(work / "shard-000.csv", index=False)
    merge_indexes([work / "shard-000.csv"], work / "index.csv")
    emb = rng.standard_normal((n, 4, 16)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=-1, keepdims=True)
    save_table(work / "frames", pd.DataFrame({"clip_id": ids}), emb)
    return ids


def main(
    work: Path,
    epochs: int,
    crash: int,
    match: str = "random",
    lr: float = 0.5,
    device: str = "cpu",
    max_steps: int | None = None,
    eval_every: int | None = None,
) -> None:
    ids = make_data(work)
    store = FbankStore(work / "index.csv", FbankStats(0.0, 1.0), length=200)
    task = VAPretrainTask(
        store, EmbeddingTable.load(work / "frames"), ids[:16], match=match, val_ids=ids[16:], frames_length=200
    )
    torch.manual_seed(0)
    encoder = AudioEncoder(build_clip(TINY).visual, frames=200)
    device, _, cpu_precision = device.partition("-")
    cfg = TrainConfig(
        epochs=epochs,
        batch_size=8,
        lr_weights=lr,
        lr_biases=0.01,
        warmup_epochs=1,
        crash_after_epoch=crash,
        device=device,
        cpu_precision=cpu_precision or "fp32",
        max_steps=max_steps,
        eval_every=eval_every,
    )
    train(encoder, task, cfg, work)
    save_audio_model(work / "model.pt", encoder, TINY)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main(
        Path(sys.argv[1]),
        int(sys.argv[2]),
        int(sys.argv[3]),
        *(sys.argv[4:5]),
        *map(float, sys.argv[5:6]),
        *(sys.argv[6:7]),
        *map(int, sys.argv[7:9]),
    )
