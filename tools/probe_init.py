"""Design probe of the synthetic pivot: does g_A start VA pretraining closer to the image space when it is
initialised from the VT's image tower than when it is random?

For each initialisation, the held-out audio↔image loss L_cst(A, I) (AudioSet eval clips against their 2nd
frame, at one common logit scale so that the two are comparable) before the first step and after each of
the first epochs of the workflow's own VA recipe, with held-out A→I R@5. It reads a built work dir (FBANK,
cached frame embeddings, the VT) and sees no test table.

``--feature-probe`` adds a measure that no logit scale or shared offset in the joint space can move: a
linear probe (``tools/probe_sources.py``'s) of the untrained g_A's features (before the projection) with
the world's true source labels, fitted on the VA training clips and scored on the AudioSet eval clips.
It asks whether the VT's tower already separates the sources on spectrograms better than random weights.

    python tools/probe_init.py data/synthetic --epochs 3
    python tools/probe_init.py data/synthetic --epochs 0 --feature-probe
"""

from __future__ import annotations

import argparse
import importlib.util
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


def _probe_sources():
    spec = importlib.util.spec_from_file_location("probe_sources", Path(__file__).with_name("probe_sources.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def feature_probe(encoder, store: FbankStore, work_dir: Path, train_ids: list[str], test_ids: list[str]) -> dict:
    """The source probe's scores on ``encoder``'s features (:func:`probe_sources.source_probe`)."""
    from vipant.embed.audio import embed_clips

    ps = _probe_sources()
    truth, mids = ps.world_truth(work_dir)
    train_ids, x_train = embed_clips(encoder, store, train_ids, representation="features")
    test_ids, x_test = embed_clips(encoder, store, test_ids, representation="features")
    y_train, y_test = ps.labels(truth, train_ids, mids), ps.labels(truth, test_ids, mids)
    return ps.source_probe(x_train.numpy(), y_train, x_test.numpy(), y_test)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("work_dir", type=Path)
    ap.add_argument("--config", default="config.yaml")
    ap.add_argument("--epochs", type=int, default=3, help="0: only the untrained g_A")
    ap.add_argument("--feature-probe", action="store_true", help="also the linear source probe of the untrained g_A")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    preset = yaml.safe_load(Path(args.config).read_text())["presets"]["synthetic"]
    va = preset["va"]
    w = args.work_dir
    store = FbankStore(
        w / "fbank/audioset/index.csv", FbankStats.load(w / "fbank/stats.json"), length=va["frames_length"]
    )
    clips = pd.read_csv(w / "meta/va_train.csv", dtype=str)["clip_id"].tolist()
    val_all = pd.read_csv(w / "meta/audioset_eval.csv", dtype=str)["clip_id"].tolist()
    val = val_all[: va["max_val"]]
    frames = EmbeddingTable.load(w / "embed/frames.csv")
    out: dict[str, list[dict]] = {}
    probes: dict[str, dict] = {}
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

        if args.feature_probe:
            probes[init] = feature_probe(encoder, store, w, clips, val_all)
            print(init, "feature probe", json.dumps(probes[init]))
        record(0, encoder)
        if args.epochs > 0:
            with tempfile.TemporaryDirectory() as tmp:  # train() updates ``encoder`` in place
                train(
                    encoder, task, cfg, Path(tmp), on_epoch=lambda i, _r: record(i + 1, encoder), logit_scale_init=scale
                )
        out[init] = curve
        print(init, json.dumps(curve))
    print(json.dumps({**out, **({"feature_probe": probes} if probes else {})}))


if __name__ == "__main__":
    main()
