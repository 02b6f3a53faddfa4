"""``vipant pivotability``: vip-AnT appendix F's two-step probe for one model on AudioCaps test (one
``metrics.json``); ``vipant figure10``: the curves of several models from those files (PNG + CSV)."""

from __future__ import annotations

import logging

from vipant.commands.common import tracked

log = logging.getLogger(__name__)

TASK = "audiocaps_pivotability"


def run(args) -> None:
    from vipant.curation.curate import EVAL_FRAME
    from vipant.embed.table import EmbeddingTable
    from vipant.evaluate.pivotability import aligned_triplets, pivotability_metrics
    from vipant.tables import write_metrics
    from vipant.tracking import git_commit

    ks = [int(k) for k in args.ks.split(",")]
    with tracked(args.track_json, model=args.model_name, ks=args.ks, n_captions=args.n_captions) as mlrun:
        audio = "frames" if args.audio == "frames" else EmbeddingTable.load(args.audio)
        captions = EmbeddingTable.load(args.captions)
        clip_ids, sound, image, rows, caption_clip = aligned_triplets(
            audio, EmbeddingTable.load(args.frames), captions, EVAL_FRAME
        )
        metrics, chance = pivotability_metrics(
            sound, image, captions.tensor(rows), caption_clip, ks, n_captions=args.n_captions
        )
        write_metrics(args.out, args.model_name, TASK, metrics, chance, len(clip_ids), commit=git_commit())
        mlrun.log_metrics(metrics)
    log.info(
        "%s: %s",
        args.model_name,
        ", ".join(f"{k}={v:.3f}" for k, v in metrics.items() if k.startswith("pivotability@")),
    )


def figure10(args) -> None:
    from vipant.analysis.figure10 import figure10_data, plot_figure10
    from vipant.atomic import write_csv
    from vipant.tables import load_records

    data = figure10_data(load_records(args.metrics))
    write_csv(args.out_csv, data)
    plot_figure10(data, args.out_png)
    log.info("wrote %s and %s (%d models)", args.out_png, args.out_csv, data["model"].nunique())


def add_parsers(sub) -> None:
    p = sub.add_parser("pivotability", help="tri-modal pivotability curve of one model on AudioCaps test (appendix F)")
    p.add_argument("--model-name", required=True, help="row key, e.g. vipant, at_RC, at_GC, oracle_av_clip")
    p.add_argument("--audio", required=True, help="the model's cached audio embeddings of the test clips, or 'frames'")
    p.add_argument("--frames", required=True, help="frame embedding table (the 2nd frame is each clip's image)")
    p.add_argument("--captions", required=True, help="embedding table of the test captions (with clip_id)")
    p.add_argument("--ks", required=True, help="comma-separated numbers of retrieved images")
    p.add_argument("--n-captions", type=int, default=5, help="captions retrieved per image")
    p.add_argument("--out", required=True, help="metrics.json to write")
    p.add_argument("--track-json")
    p.set_defaults(func=run)

    p = sub.add_parser("figure10", help="vip-AnT figure 10 (pivotability vs. k) from pivotability metrics.json files")
    p.add_argument("--out-png", required=True)
    p.add_argument("--out-csv", required=True)
    p.add_argument("metrics", nargs="+")
    p.set_defaults(func=figure10)
