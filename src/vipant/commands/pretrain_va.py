"""``vipant pretrain-va``: VA pretraining of g_A (docs/design.md, Stages: pretrain_va) from cached frame embeddings."""

from __future__ import annotations

import json
import logging
import os
from contextlib import nullcontext
from pathlib import Path

from vipant.commands.common import tracked, train_logged, vt_spec

log = logging.getLogger(__name__)


def run(args) -> None:
    import pandas as pd
    import torch

    from vipant.datasets.audioset import read_clip_labels
    from vipant.embed.table import EmbeddingTable
    from vipant.features.store import FbankStats, FbankStore
    from vipant.inference.model import describe  # the checkpoint names its VT model and FBANK stats
    from vipant.models.audio_encoder import save_audio_model
    from vipant.models.vt import load_vt
    from vipant.tracking import RunLogger
    from vipant.train.loop import TrainConfig, leave_distributed, steps_summary
    from vipant.train.pretrain_va import VAPretrainTask, build_encoder, random_match_warm_start

    train_cfg = json.loads(args.train_json)
    # follow-up A's run options beside the recipe (not part of the run's identity): which epochs' states a
    # Random Match run keeps, and the Random Match run a Nearest Match run starts from
    keep_epochs = train_cfg.pop("keep_epochs", [])
    warm_start_dir = train_cfg.pop("warm_start_dir", None)
    cfg = TrainConfig.from_dict(train_cfg)
    store = FbankStore(args.fbank_index, FbankStats.load(args.fbank_stats), length=args.frames_length)
    clips = pd.read_csv(args.train_clips, dtype=str, keep_default_na=False)["clip_id"].tolist()
    val = pd.read_csv(args.val_clips, dtype=str, keep_default_na=False)["clip_id"].tolist()[: args.max_val]
    labels = read_clip_labels(args.val_labels) if args.val_labels else None  # figure 5's precision/recall
    frames = EmbeddingTable.load(args.frames)
    task = VAPretrainTask(
        store, frames, clips, match=args.match, val_ids=val, frames_length=args.frames_length, val_labels=labels
    )
    vt, _, vt_config = load_vt(vt_spec(args.vt_json))
    torch.manual_seed(cfg.seed)  # VA-Rand's random init draws from the global RNG: same seed, same weights
    encoder, logit_scale = build_encoder(vt, task, init=args.init, frames_length=args.frames_length)
    del vt  # only its image tower's weights were needed, and they are copied
    log.info(
        "VA pretraining (%s init, %s matching, %s readout, logit scale from %.2f): %s",
        args.init,
        args.match,
        encoder.readout,
        logit_scale,
        steps_summary(len(task), cfg),
    )
    out = Path(args.out_dir)
    # under torchrun (the rule's launch when it holds > 1 GPU) every rank trains; rank 0 alone logs and writes
    rank = int(os.environ.get("RANK", 0))
    params = dict(train=train_cfg, init=args.init, match=args.match, n_train=len(task), logit_scale_init=logit_scale)
    run_log = (
        tracked(args.track_json, system_metrics=True, **params) if rank == 0 else nullcontext(RunLogger(None, None))
    )
    inputs = [args.fbank_index, args.frames, args.train_clips, args.val_clips]
    identity = dict(
        init=args.init,
        match=args.match,
        vt=args.vt_json,
        frames_length=args.frames_length,
        inputs=inputs,
        val_labels=args.val_labels,
    )  # the history's label-set metrics depend on it
    with run_log as mlrun:
        title = f"VA pretraining ({args.init} init, {args.match} matching)"
        train_logged(
            mlrun,
            encoder,
            task,
            cfg,
            out,
            identity=identity,
            title=title,
            write=rank == 0,
            logit_scale_init=logit_scale,
            keep_epochs=keep_epochs,
            warm_start=random_match_warm_start(warm_start_dir, args.match, identity) if warm_start_dir else None,
        )
    leave_distributed()
    if rank == 0:
        description = describe(vt_spec(args.vt_json), args.fbank_stats)
        save_audio_model(out / "model.pt", encoder, vt_config, init=args.init, match=args.match, **description)


def add_parser(sub) -> None:
    p = sub.add_parser("pretrain-va", help="VA pretraining of the audio encoder against cached frame embeddings")
    p.add_argument("--vt-json", required=True, help="the VT model (its image tower initialises g_A)")
    p.add_argument("--fbank-index", required=True)
    p.add_argument("--fbank-stats", required=True)
    p.add_argument("--frames", required=True, help="frame embedding table")
    p.add_argument("--train-clips", required=True, help="CSV with clip_id (va_train.csv)")
    p.add_argument("--val-clips", required=True, help="CSV with clip_id (held-out AudioSet eval clips)")
    p.add_argument("--max-val", type=int, default=1000)
    p.add_argument("--val-labels", help="CSV with clip_id, labels (youtube_clips.csv): label-set precision/recall")
    p.add_argument("--init", choices=["clip", "random"], default="clip")
    p.add_argument("--match", default="random", help="random | nearest@N | multiframe")
    p.add_argument("--frames-length", type=int, default=1000)
    p.add_argument(
        "--train-json",
        default="{}",
        help="TrainConfig fields as JSON; also keep_epochs (a Random Match run keeps its state at the start of "
        "these epochs) and warm_start_dir (a nearest@N run starts from that Random Match run's state at epoch N, "
        "or from step 0 when it is missing or not that run's)",
    )
    p.add_argument("--out-dir", required=True)
    p.add_argument("--track-json")
    p.set_defaults(func=run)
