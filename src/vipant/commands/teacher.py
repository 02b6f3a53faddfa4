"""``vipant teacher-subset``, ``teacher-curate``: follow-up B's teacher-driven curation.

The teacher is frozen, so its audio embeddings are computed once (rule ``teacher_embed``, through
``vipant embed-audio``) for every clip the curations and the soft-label students need;
``teacher-curate`` then builds one improvement set (DU, DS_<task> or ADS_<task>) from those cached
embeddings and the cached CLIP text embeddings.
"""

from __future__ import annotations

import json
import logging

from vipant.commands.common import tracked

log = logging.getLogger(__name__)


def _read_pairs(path: str):
    import pandas as pd

    pairs = pd.read_csv(path, dtype={"clip_id": str, "text": str}, keep_default_na=False)
    missing = {"clip_id", "text_row"} - set(pairs.columns)
    if missing:
        raise ValueError(f"{path}: pair list lacks columns {sorted(missing)}")
    if pairs.empty:
        raise ValueError(f"{path}: pair list is empty")
    return pairs


def _log_size(mlrun, name: str, summary: dict) -> None:
    mlrun.log_metrics(summary)
    log.info(
        "%s: %s", name, ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in summary.items())
    )


def run_subset(args) -> None:
    from vipant.atomic import write_csv
    from vipant.curation.teacher import subset_pairs

    pairs = _read_pairs(args.pairs)
    with tracked(args.track_json, fraction=args.fraction, seed=args.seed, source=args.pairs) as mlrun:
        subset = subset_pairs(pairs, args.fraction, seed=args.seed)
        write_csv(args.out, subset)
        _log_size(
            mlrun,
            f"subset of {args.pairs}",
            {"pairs": len(subset), "of_pairs": len(pairs), "clips": int(subset["clip_id"].nunique())},
        )


def run_curate(args) -> None:
    import pandas as pd

    from vipant.atomic import write_csv
    from vipant.curation import teacher
    from vipant.embed.table import EmbeddingTable

    kind, task = teacher.improvement_set_kind(args.set)
    threshold = json.loads(args.threshold_json)
    pool = EmbeddingTable.load(args.pool)
    texts = pool.keys["text"].tolist()
    captions = pool.tensor()
    teacher_pairs = _read_pairs(args.teacher_pairs)
    if int(teacher_pairs["text_row"].max()) >= len(texts):
        raise ValueError(
            f"{args.teacher_pairs}: text_row {int(teacher_pairs['text_row'].max())} is beyond the "
            f"{len(texts)} rows of {args.pool}"
        )
    with tracked(args.track_json, set=args.set, threshold=threshold) as mlrun:
        if kind == "DS":
            if not args.labels:
                raise ValueError("DS needs --labels (the task's 'this is a sound of <label>' embeddings)")
            labels = EmbeddingTable.load(args.labels)
            result = teacher.domain_specific(
                teacher_pairs,
                captions,
                labels.tensor(),
                labels.keys["class"].astype(str).tolist(),
                threshold,
                task=task,
            )
        else:
            audio = EmbeddingTable.load(args.teacher_audio)
            clips = pd.read_csv(args.clips, dtype=str, keep_default_na=False)["clip_id"].tolist()
            exclude = _read_pairs(args.exclude_pairs)["clip_id"].tolist() if args.exclude_pairs else []
            embedded = set(audio.keys["clip_id"])
            wild = [c for c in teacher.in_the_wild(clips, exclude) if c in embedded]
            if not wild:
                raise ValueError(
                    f"{args.clips}: no in-the-wild clip left with teacher embeddings in {args.teacher_audio}"
                )
            log.info(
                "%d in-the-wild clips (%d listed, %d of the teacher's paired data left out)",
                len(wild),
                len(set(clips)),
                len(set(clips) & set(exclude)),
            )
            wild_audio = audio.tensor(audio.rows("clip_id", wild))
            if kind == "DU":
                result = teacher.domain_unspecific(
                    wild_audio, wild, teacher_pairs, captions, texts, threshold, seed=args.seed
                )
            else:
                if not args.ds_pairs:
                    raise ValueError("ADS needs --ds-pairs (the DS set of the same teacher and task)")
                result = teacher.augmented_domain_specific(
                    wild_audio, wild, _read_pairs(args.ds_pairs), captions, texts, threshold, task=task, seed=args.seed
                )
        write_csv(args.out, result.pairs)
        _log_size(mlrun, args.set, result.summary())


def add_parsers(sub) -> None:
    p = sub.add_parser(
        "teacher-subset", help="follow-up B: a seeded fraction of a pair list (the subset teacher's data)"
    )
    p.add_argument("--pairs", required=True)
    p.add_argument("--fraction", type=float, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--track-json")
    p.set_defaults(func=run_subset)

    p = sub.add_parser("teacher-curate", help="follow-up B: one improvement set (DU, DS_<task>, ADS_<task>)")
    p.add_argument("--set", required=True, help="DU, DS_<task> or ADS_<task>")
    p.add_argument("--teacher-pairs", required=True, help="the teacher's training pairs (text_row into --pool)")
    p.add_argument("--pool", required=True, help="embedding table of the caption pool (its .csv has 'text')")
    p.add_argument("--teacher-audio", help="DU/ADS: the teacher's cached audio embeddings")
    p.add_argument("--clips", help="DU/ADS: CSV with clip_id, the in-the-wild audio")
    p.add_argument("--exclude-pairs", help="DU/ADS: pair list whose clips are not in-the-wild (AudioCaps train)")
    p.add_argument("--labels", help="DS: embedding table of the task's class prompts")
    p.add_argument("--ds-pairs", help="ADS: the DS set of the same teacher and task")
    p.add_argument("--threshold-json", required=True, help='a cosine, or {"quantile": q}')
    p.add_argument("--seed", type=int, default=0, help="row sample for quantiles of very large candidate sets")
    p.add_argument("--out", required=True)
    p.add_argument("--track-json")
    p.set_defaults(func=run_curate)
