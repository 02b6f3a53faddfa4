"""``vipant curate``, ``text-pools``, ``free-captions``: the pair lists of docs/design.md (Curation) and the texts behind them."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from vipant.commands.common import tracked

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

CURATIONS = ("AC", "FC", "VC", "RC", "GL", "GC")


def _audiocaps_train(path: str) -> pd.DataFrame:
    from vipant.datasets import audiocaps

    return audiocaps.read_split(path, on_error="skip")[0]


def run_curate(args) -> None:
    import pandas as pd

    from vipant.atomic import write_csv
    from vipant.curation import curate
    from vipant.datasets.audioset import read_clip_labels
    from vipant.embed.table import EmbeddingTable

    raw_pool = pd.read_csv(args.raw_pool, keep_default_na=False, dtype=str)
    texts = raw_pool["text"].tolist()
    with tracked(args.track_json, curation=args.name) as mlrun:
        if args.name in curate.UNSUPERVISED_POOLS:
            clips = pd.read_csv(args.train_clips, dtype=str, keep_default_na=False)["clip_id"].tolist()
            pairs = curate.retrieval_curation(
                EmbeddingTable.load(args.frames), clips, EmbeddingTable.load(args.prompted), texts
            )
        elif args.name == "RC":
            clips = _audiocaps_train(args.audiocaps_train)["clip_id"].drop_duplicates().tolist()
            pairs = curate.random_captions(clips, len(texts), texts, seed=args.seed)
        elif args.name == "GC":
            pairs = curate.gold_captions(_audiocaps_train(args.audiocaps_train), texts)
        elif curate.gold_subset_size(args.name) is not None:  # GC@N (few-shot scaling)
            from vipant.features.store import FbankStore

            if not args.fbank_index:
                raise ValueError(f"{args.name}: --fbank-index is required (only clips with features are drawn)")
            gold = curate.gold_captions(_audiocaps_train(args.audiocaps_train), texts)
            try:
                pairs = curate.gold_subset(
                    gold, curate.gold_subset_size(args.name), FbankStore(args.fbank_index).clip_ids, seed=args.seed
                )
            except ValueError as exc:
                raise ValueError(f"{args.audiocaps_train} with {args.fbank_index}: {exc}") from exc
        elif args.name == "GL":
            clips = _audiocaps_train(args.audiocaps_train)["clip_id"].drop_duplicates().tolist()
            labels = read_clip_labels(args.youtube_clips)
            rows = {m: i for i, m in enumerate(raw_pool["mid"])}
            pairs = curate.gold_labels(clips, labels, rows, texts)
        else:
            raise ValueError(f"unknown curation {args.name!r}; expected one of {CURATIONS}")
        write_csv(args.out, pairs)
        mlrun.log_metrics(
            {"pairs": len(pairs), "clips": pairs["clip_id"].nunique(), "distinct_texts": pairs["text_row"].nunique()}
        )
    log.info(
        "%s: %d pairs over %d clips, %d distinct texts",
        args.name,
        len(pairs),
        pairs["clip_id"].nunique(),
        pairs["text_row"].nunique(),
    )


def run_text_pools(args) -> None:
    from vipant.curation.text_pools import build_text_pools

    build_text_pools(Path(args.raw), json.loads(args.layout_json), Path(args.out_dir))


def run_free_captions(args) -> None:
    import pandas as pd

    from vipant.atomic import write_csv
    from vipant.curation.free_captions import generate_transformers, generate_trigram
    from vipant.curation.text_pools import PHOTO_PROMPT
    from vipant.datasets import coco

    captions = coco.read_captions(args.coco, on_error="skip")[1]["caption"].tolist()
    if args.generator == "trigram":
        generated = generate_trigram(captions, args.n, seed=args.seed)
    else:
        out = Path(args.out)
        chunk_dir = Path(args.chunk_dir) if args.chunk_dir else out.with_name(out.stem + "_chunks")
        generated = generate_transformers(
            captions, args.n, chunk_dir=chunk_dir, model_name=args.generator, seed=args.seed, batch_size=args.batch_size
        )
    out = Path(args.out)
    write_csv(out, pd.DataFrame({"text": generated}))
    write_csv(out.with_name(out.stem + "_prompted.csv"), pd.DataFrame({"text": [PHOTO_PROMPT + t for t in generated]}))


def add_parsers(sub) -> None:
    p = sub.add_parser("curate", help="build one curated audio-text pair list (AC, FC, VC, RC, GL, GC)")
    p.add_argument("--name", required=True, help=f"one of {', '.join(CURATIONS)}, or GC@N (N gold pairs)")
    p.add_argument("--raw-pool", required=True, help="the text pool the pairs point into")
    p.add_argument("--prompted", help="AC/FC/VC: embedding table of the prompted pool")
    p.add_argument("--frames", help="AC/FC/VC: frame embedding table")
    p.add_argument("--train-clips", help="AC/FC/VC: clips to caption (va_train.csv)")
    p.add_argument("--audiocaps-train", help="RC/GL/GC: AudioCaps train.csv")
    p.add_argument("--youtube-clips", help="GL: youtube_clips.csv with AudioSet labels")
    p.add_argument("--fbank-index", help="GC@N: FBANK index of AudioSet (pairs are drawn among clips with features)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--track-json")
    p.set_defaults(func=run_curate)

    p = sub.add_parser("text-pools", help="write every text pool (captions, prompted candidates, class names)")
    p.add_argument("--raw", required=True)
    p.add_argument("--layout-json", required=True)
    p.add_argument("--out-dir", required=True)
    p.set_defaults(func=run_text_pools)

    p = sub.add_parser("free-captions", help="FC: generate captions with a causal LM primed with COCO captions")
    p.add_argument("--coco", required=True, help="captions_train2017.json")
    p.add_argument("--generator", default="trigram", help="'trigram' or a Hugging Face causal LM name (GPT-J)")
    p.add_argument("--n", type=int, default=5000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="fc.csv (fc_prompted.csv is written beside it)")
    p.add_argument("--batch-size", type=int, default=32, help="LM: prompts sampled in one generate call")
    p.add_argument("--chunk-dir", help="LM: finished chunks, read back by a rerun (default: <out>_chunks beside --out)")
    p.set_defaults(func=run_free_captions)
