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
``--cv`` scores that probe out-of-fold over the VA training clips instead, so that a design chosen on it
has seen no evaluation clip. ``--token-mean`` reads it through the mean of the patch tokens instead of the
CLS token: do the tower's patch features transfer even where its CLS pooling does not? ``--hybrid``
keeps only the VT's patch layer, all but it, or all but its positions in the VT-initialised g_A: which part
fails on spectrograms? ``--patch-scale S`` multiplies the VT-initialised g_A's patch filters by S: is the
trained filters' magnitude beside the positions what the trained body cannot read?

``--tower-task T --tower-steps N`` screens a tower pre-stage on its own: the VT's image tower is replaced
by a fresh one after N steps of ``vipant.train.vt_tower.pretrain_tower`` (no contrastive training), so a
pre-stage can be judged before a VT is trained with it; ``--tower-cache`` keeps that tower for a rerun.

    python tools/probe_init.py data/synthetic --epochs 3
    python tools/probe_init.py data/synthetic --epochs 0 --feature-probe --cv
    python tools/probe_init.py data/synthetic --epochs 0 --feature-probe --cv --tower-task procedural --tower-steps 600
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

from vipant.embed.table import EmbeddingTable
from vipant.features.store import FbankStats, FbankStore
from vipant.models.audio_encoder import AudioEncoder
from vipant.models.vt import load_vt
from vipant.train.loop import TrainConfig, train
from vipant.train.pretrain_va import VAPretrainTask, initial_logit_scale
from vipant.train.vt_tower import pretrain_tower

COMMON_SCALE = 1 / 0.07  # the loss is compared at one temperature: each init's own would differ by design


def _probe_sources():
    spec = importlib.util.spec_from_file_location("probe_sources", Path(__file__).with_name("probe_sources.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def effective_rank(x: np.ndarray) -> float:
    """Participation ratio of the features' correlation matrix, ``(sum l)^2 / sum l^2`` over its eigenvalues:
    how many directions the (standardised, as the probe reads them) features spread over, 1 to ``width``."""
    eig = np.clip(np.linalg.eigvalsh(np.corrcoef(x, rowvar=False)), 0, None)
    return float(eig.sum() ** 2 / np.square(eig).sum())


def feature_probe(
    encoder, store: FbankStore, work_dir: Path, train_ids: list[str], test_ids: list[str], cv: bool = False
) -> dict:
    """The source probe's scores on ``encoder``'s features (:func:`probe_sources.source_probe`), or with
    ``cv`` its out-of-fold scores over ``train_ids`` alone (:func:`probe_sources.cross_validated_probe`)."""
    from vipant.embed.audio import embed_clips

    ps = _probe_sources()
    truth, mids = ps.world_truth(work_dir)
    train_ids, x_train = embed_clips(encoder, store, train_ids, representation="features")
    rank = {"effective_rank": effective_rank(x_train.numpy())}
    if cv:
        return {**ps.cross_validated_probe(x_train.numpy(), ps.labels(truth, train_ids, mids)), **rank}
    test_ids, x_test = embed_clips(encoder, store, test_ids, representation="features")
    y_train, y_test = ps.labels(truth, train_ids, mids), ps.labels(truth, test_ids, mids)
    return {**ps.source_probe(x_train.numpy(), y_train, x_test.numpy(), y_test), **rank}


def bare_tower(args: argparse.Namespace, vt_train: dict, model_cfg: dict) -> dict[str, torch.Tensor]:
    """The ``--tower-task`` tower: pre-trained with the VT recipe's batch size, learning rate, weight
    decay, grey share and seed (from ``--tower-cache`` when that file exists)."""
    if args.tower_cache and args.tower_cache.exists():
        return torch.load(args.tower_cache)
    state = pretrain_tower(
        model_cfg,
        task=args.tower_task,
        steps=args.tower_steps,
        **{k: vt_train[k] for k in ("batch_size", "lr", "weight_decay", "grey_prob", "seed")},
    )
    if args.tower_cache:
        torch.save(state, args.tower_cache)
    return state


def hybrid(encoder: AudioEncoder, visual, frames: int, seed: int, keep: str) -> AudioEncoder:
    """``encoder`` (VT-initialised) keeping its patch layer (``keep="patches"``), everything but it
    (``"body"``) or everything but its positional embedding (``"positions"``); the rest is taken from the
    random init drawn at ``seed`` (the one the random g_A gets)."""
    torch.manual_seed(seed)
    rand = AudioEncoder(visual, init="random", frames=frames)
    randomised = {
        "patches": lambda k: not k.startswith("conv1."),
        "body": lambda k: k.startswith("conv1."),
        "positions": lambda k: k == "positional_embedding",
    }[keep]
    state = {k: v for k, v in rand.state_dict().items() if randomised(k)}
    encoder.load_state_dict({**encoder.state_dict(), **state})
    return encoder


def scale_patches(encoder: AudioEncoder, scale: float) -> AudioEncoder:
    """``encoder`` with its patch layer's weights and bias multiplied by ``scale``, nothing else changed."""
    with torch.no_grad():
        for p in encoder.conv1.parameters():
            p.mul_(scale)
    return encoder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("work_dir", type=Path)
    ap.add_argument("--config", default="config.yaml")
    ap.add_argument("--epochs", type=int, default=3, help="0: only the untrained g_A")
    ap.add_argument("--feature-probe", action="store_true", help="also the linear source probe of the untrained g_A")
    ap.add_argument(
        "--token-mean", action="store_true", help="feature probe: the mean of the patch tokens instead of the CLS token"
    )
    ap.add_argument(
        "--hybrid",
        choices=("patches", "body", "positions"),
        help="the VT-initialised g_A keeps only its patch layer (patches), all but it (body) or all but its"
        " positional embedding (positions); the rest random",
    )
    ap.add_argument(
        "--patch-scale", type=float, default=1.0, help="multiply the VT-initialised g_A's patch filters by this"
    )
    ap.add_argument("--cv", action="store_true", help="feature probe: out-of-fold over the VA training clips")
    ap.add_argument("--tower-task", help="replace the VT's tower by a bare one pre-trained on this task")
    ap.add_argument("--tower-steps", type=int, default=600)
    ap.add_argument("--tower-cache", type=Path, help="load the bare tower from here if it exists, else save it")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO if args.tower_task else logging.WARNING)
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
    # one VT for both inits: AudioEncoder copies the tower it is given
    vt, _, model_cfg = load_vt({"checkpoint": str(w / "models/vt/model.pt")})
    if args.tower_task:
        vt.visual.load_state_dict(bare_tower(args, preset["vt"]["train"], model_cfg))
    for init in ("clip", "random"):
        task = VAPretrainTask(store, frames, clips, val_ids=val, frames_length=va["frames_length"])
        cfg = TrainConfig.from_dict({**va["train"], "epochs": args.epochs, "cpu_precision": "fp32"})
        torch.manual_seed(cfg.seed)
        encoder = AudioEncoder(vt.visual, init=init, frames=va["frames_length"])
        if init == "clip" and args.hybrid:
            encoder = hybrid(encoder, vt.visual, va["frames_length"], cfg.seed, args.hybrid)
        if init == "clip" and args.patch_scale != 1.0:
            scale_patches(encoder, args.patch_scale)
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
            if args.token_mean:  # a one-segment mean readout: ln_post of the mean patch token
                encoder.set_readout("segment_mean", 1)
            probes[init] = feature_probe(encoder, store, w, clips, val_all, cv=args.cv)
            print(init, "feature probe", json.dumps(probes[init]))
            encoder.set_readout("cls", None)
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
