"""``vipant pretrain-va``: VA pretraining of g_A (docs/design.md, Stages: pretrain_va) from cached frame embeddings."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path

from vipant.commands.common import log_training_artifacts, tracked, vt_spec, write_history

log = logging.getLogger(__name__)


def run(args) -> None:
    import pandas as pd
    import torch

    from vipant.embed.table import EmbeddingTable
    from vipant.features.store import FbankStats, FbankStore
    from vipant.models.audio_encoder import AudioEncoder, save_audio_model, training_readout
    from vipant.models.vt import load_vt
    from vipant.tracking import RunLogger
    from vipant.train.loop import TrainConfig, steps_summary, train
    from vipant.train.pretrain_va import VAPretrainTask, initial_logit_scale

    train_cfg = json.loads(args.train_json)
    cfg = TrainConfig.from_dict(train_cfg)
    store = FbankStore(args.fbank_index, FbankStats.load(args.fbank_stats), length=args.frames_length)
    clips = pd.read_csv(args.train_clips, dtype=str, keep_default_na=False)["clip_id"].tolist()
    val = pd.read_csv(args.val_clips, dtype=str, keep_default_na=False)["clip_id"].tolist()[: args.max_val]
    labels = None
    if args.val_labels:  # AudioSet label sets of the held-out clips: figure 5's precision/recall
        meta = pd.read_csv(args.val_labels, dtype=str, keep_default_na=False)
        if not {"clip_id", "labels"} <= set(meta.columns):
            raise ValueError(f"{args.val_labels}: needs columns clip_id and labels, has {list(meta.columns)}")
        labels = {c: frozenset(m for m in ls.split(",") if m) for c, ls in zip(meta["clip_id"], meta["labels"])}
    task = VAPretrainTask(
        store,
        EmbeddingTable.load(args.frames),
        clips,
        match=args.match,
        val_ids=val,
        frames_length=args.frames_length,
        val_labels=labels,
    )
    vt, _, vt_config = load_vt(vt_spec(args.vt_json))
    torch.manual_seed(cfg.seed)  # VA-Rand's random init draws from the global RNG: same seed, same weights
    # the readout the loss trains (Multiframe: the mean of L = n_frames segment embeddings) is saved with the
    # model, so every later reader takes the same path
    readout, segments = training_readout(task.segments)
    encoder = AudioEncoder(vt.visual, init=args.init, frames=args.frames_length, readout=readout, segments=segments)
    logit_scale = initial_logit_scale(vt, args.init)
    del vt  # only its image tower's weights were needed, and they are copied
    log.info(
        "VA pretraining (%s init, %s matching, %s readout, logit scale from %.2f): %s",
        args.init,
        args.match,
        readout,
        logit_scale,
        steps_summary(len(task), cfg),
    )
    out = Path(args.out_dir)
    # under torchrun (the rule's launch when it holds > 1 GPU) every rank trains; rank 0 alone logs and writes
    rank = int(os.environ.get("RANK", 0))
    run_log = (
        tracked(
            args.track_json,
            system_metrics=True,
            train=train_cfg,
            init=args.init,
            match=args.match,
            n_train=len(task),
            logit_scale_init=logit_scale,
        )
        if rank == 0
        else contextlib.nullcontext(RunLogger(None, None))
    )
    with run_log as mlrun:
        identity = {
            "init": args.init,
            "match": args.match,
            "vt": args.vt_json,
            "frames_length": args.frames_length,
            "inputs": [args.fbank_index, args.frames, args.train_clips, args.val_clips],
            "val_labels": args.val_labels,
        }  # the history's label-set metrics depend on it
        history = train(
            encoder,
            task,
            cfg,
            out,
            identity=identity,
            on_epoch=lambda e, m: mlrun.log_metrics(m, step=e),
            on_step=lambda s, m: mlrun.log_metrics(m, step=s),
            logit_scale_init=logit_scale,
        )
        mlrun.log_metrics({f"final_{k}": v for k, v in history[-1].items() if k != "epoch"})
        if rank == 0:
            write_history(out / "history.json", history)
            log_training_artifacts(
                mlrun, out / "history.json", history, f"VA pretraining ({args.init} init, {args.match} matching)"
            )
    if torch.distributed.is_initialized():
        # rank 0 writes the history first; the ranks leave together, or gloo may abort the one still inside
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    if rank != 0:
        return
    from vipant.inference.model import describe  # the checkpoint names its VT model and FBANK stats

    save_audio_model(
        out / "model.pt",
        encoder,
        vt_config,
        init=args.init,
        match=args.match,
        **describe(vt_spec(args.vt_json), args.fbank_stats),
    )


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
    p.add_argument("--train-json", default="{}", help="TrainConfig fields as JSON")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--track-json")
    p.set_defaults(func=run)
