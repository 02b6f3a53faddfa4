"""Design probe of the synthetic pivot: does g_A start VA pretraining closer to the image space when it is
initialised from the VT's image tower than when it is random?

For each initialisation, the held-out audio↔image loss L_cst(A, I) (AudioSet eval clips against their 2nd
frame, at one common logit scale so that the two are comparable) before the first step and after each of
the first epochs of the workflow's own VA recipe, with held-out A→I R@5. It reads a built work dir (FBANK,
cached frame embeddings, the VT) and sees no test table.

    python tools/probe_init.py data/synthetic --epochs 3
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path

import pandas as pd
import torch
import yaml

from vipant.embed.table import EmbeddingTable
from vipant.features.store import FbankStats, FbankStore
from vipant.models.audio_encoder import AudioEncoder
from vipant.models.vt import load_vt
from vipant.train.loop import TrainConfig, train
from vipant.train.pretrain_va import VAPretrainTask, initial_logit_scale

COMMON_SCALE = 1 / 0.07  # the loss is compared at one temperature: each init's own would differ by design


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("work_dir", type=Path)
    ap.add_argument("--config", default="config.yaml")
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    preset = yaml.safe_load(Path(args.config).read_text())["presets"]["synthetic"]
    va = preset["va"]
    w = args.work_dir
    store = FbankStore(
        w / "fbank/audioset/index.csv", FbankStats.load(w / "fbank/stats.json"), length=va["frames_length"]
    )
    clips = pd.read_csv(w / "meta/va_train.csv", dtype=str)["clip_id"].tolist()
    val = pd.read_csv(w / "meta/audioset_eval.csv", dtype=str)["clip_id"].tolist()[: va["max_val"]]
    frames = EmbeddingTable.load(w / "embed/frames.csv")
    out: dict[str, list[dict]] = {}
    for init in ("clip", "random"):
        task = VAPretrainTask(store, frames, clips, val_ids=val, frames_length=va["frames_length"])
        vt, _, _ = load_vt({"checkpoint": str(w / "models/vt/model.pt")})
        cfg = TrainConfig.from_dict({**va["train"], "epochs": args.epochs, "cpu_precision": "fp32"})
        torch.manual_seed(cfg.seed)
        encoder = AudioEncoder(vt.visual, init=init, frames=va["frames_length"])
        scale = initial_logit_scale(vt, init)
        curve = []

        def record(epoch: int, model) -> None:
            model.eval()
            with torch.no_grad():
                embed = lambda x: model(x).float()  # noqa: E731
                loss = task.validation_loss(embed, COMMON_SCALE, cfg.batch_size)
                r5 = task.validate(embed)["val_a2i_R@5"]
            model.train()
            curve.append({"epoch": epoch, "val_loss": loss, "val_a2i_R@5": r5})

        record(0, encoder)
        with tempfile.TemporaryDirectory() as tmp:  # train() updates ``encoder`` in place
            train(encoder, task, cfg, Path(tmp), on_epoch=lambda i, _r: record(i + 1, encoder), logit_scale_init=scale)
        out[init] = curve
        print(init, json.dumps(curve))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
