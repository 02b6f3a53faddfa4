"""``vipant finetune-at``: AT fine-tuning of a VA-pretrained g_A on a curated pair list (docs/design.md, Stages: finetune_at)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from vipant.commands.common import tracked, train_logged

log = logging.getLogger(__name__)


def run(args) -> None:
    import pandas as pd

    from vipant.embed.table import EmbeddingTable
    from vipant.features.store import FbankStats, FbankStore
    from vipant.inference.model import describe
    from vipant.models.audio_encoder import load_audio_model, save_audio_model
    from vipant.train.finetune_at import finetune_task, student_logit_scale, validation_captions
    from vipant.train.loop import TrainConfig, kept_record, steps_summary

    train_cfg = json.loads(args.train_json)
    cfg = TrainConfig.from_dict(train_cfg)
    store = FbankStore(args.fbank_index, FbankStats.load(args.fbank_stats), length=args.frames_length)
    pairs = pd.read_csv(args.pairs, dtype={"clip_id": str}, keep_default_na=False)
    val = validation_captions(EmbeddingTable.load(args.val_text), store.clip_ids) if args.val_text else None
    student = dict(
        replay_pairs=args.replay_pairs,
        replay_prob=args.replay_prob,
        soft_label_alpha=args.soft_label_alpha,
        teacher_audio=args.teacher_audio,
    )
    is_student = bool(args.replay_pairs or args.soft_label_alpha is not None)
    task, objective = finetune_task(
        store,
        pairs,
        pairs_path=args.pairs,
        text=args.text,
        vat_frames=args.vat_frames,
        frames_length=args.frames_length,
        val=val,
        **student,
    )
    encoder, state = load_audio_model(args.init_model)
    scale = {"logit_scale_init": student_logit_scale(state, args.init_model)} if is_student else {}
    # the loss reads the encoder through its recorded readout, and save_audio_model keeps that readout
    name = Path(args.pairs).name
    log.info(
        "%s fine-tuning on %s through the %s readout: %s",
        objective,
        name,
        encoder.readout,
        steps_summary(len(task), cfg),
    )
    identity = dict(init_model=args.init_model, pairs=args.pairs, text=args.text, frames_length=args.frames_length)
    identity.update({"vat_frames": args.vat_frames} if args.vat_frames else {}, **(student if is_student else {}))
    out = Path(args.out_dir)
    params = dict(train=train_cfg, pairs=str(args.pairs), n_pairs=len(task), objective=objective)
    with tracked(args.track_json, system_metrics=True, **params) as mlrun:
        history = train_logged(
            mlrun, encoder, task, cfg, out, identity=identity, title=f"{objective} fine-tuning on {name}", **scale
        )
    # self-describing (vipant.inference); mlflow_run_id: `vipant export` adds the exported model to this run
    save_audio_model(
        out / "model.pt",
        encoder,
        state["vt_config"],
        init="clip",
        match=state.get("match", "random"),
        finetuned_on=str(args.pairs),
        objective=objective,
        mlflow_run_id=mlrun.run_id or "",
        logit_scale=kept_record(history)["logit_scale"],  # the scale trained with the kept weights
        **describe(state.get("vt"), args.fbank_stats),
    )


def add_parser(sub) -> None:
    p = sub.add_parser("finetune-at", help="fine-tune a VA-pretrained audio encoder on curated audio-text pairs")
    p.add_argument("--init-model", required=True, help="VA-pretrained audio-encoder checkpoint")
    p.add_argument("--pairs", required=True, help="curated pair list (clip_id, text_row, ...)")
    p.add_argument("--text", required=True, help="embedding table of the pool text_row points into")
    p.add_argument("--val-text", help="embedding table of validation captions (with clip_id)")
    p.add_argument("--fbank-index", required=True)
    p.add_argument("--fbank-stats", required=True)
    p.add_argument("--frames-length", type=int, default=1000)
    p.add_argument("--train-json", default="{}")
    p.add_argument("--out-dir", required=True)
    p.add_argument(
        "--vat-frames",
        help="frame embedding table: VAT fine-tuning, adding L_cst(V, A) with a random "
        "cached frame per clip and epoch (vip-AnT appendix E)",
    )
    p.add_argument(
        "--replay-pairs",
        help="follow-up B: pair list (same text pool) that replaces a batch with "
        "probability --replay-prob (the teacher's training pairs; the DS set for ADS)",
    )
    p.add_argument("--replay-prob", type=float, default=0.5, help="probability that a batch is a replay batch")
    p.add_argument("--soft-label-alpha", type=float, help="follow-up B: soft-label loss with this alpha (paper: 0.3)")
    p.add_argument("--teacher-audio", help="with --soft-label-alpha: the teacher's cached audio embeddings (clip_id)")
    p.add_argument("--track-json")
    p.set_defaults(func=run)
