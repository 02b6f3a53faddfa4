"""``vipant embed-audio``: a cache of one audio model's g_A embeddings for named sets of clips.

Readers that need a model's embeddings of the same clips more than once (the linear probe's folds, the
pivotability curve) read these tables instead of running g_A again. One job embeds several sets so the
model is loaded once.

A set's ``"representation"`` chooses what is cached: ``"embedding"`` (default) is the L2-normalised clip
embedding in the joint space, through the readout the checkpoint records; ``"features"`` is the
representation before the projection, the linear probe's input
(:meth:`vipant.models.audio_encoder.AudioEncoder.features`).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from vipant.commands.common import tracked

log = logging.getLogger(__name__)


def select_clips(paths: str | list[str], where: list[str]) -> list[str]:
    """Distinct ``clip_id`` values of one CSV or several (in order, first occurrence kept), keeping rows where
    every ``COLUMN=VALUE`` holds."""
    import pandas as pd

    clips: list[str] = []
    for path in [paths] if isinstance(paths, str) else paths:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        if "clip_id" not in table.columns:
            raise ValueError(f"{path}: no clip_id column (columns: {list(table.columns)})")
        for condition in where:
            column, sep, value = condition.partition("=")
            if not sep or column not in table.columns:
                raise ValueError(
                    f"{path}: bad filter {condition!r} (want COLUMN=VALUE; columns: {list(table.columns)})"
                )
            table = table[table[column] == value]
        clips += table["clip_id"].tolist()
    clips = list(dict.fromkeys(clips))
    if not clips:
        raise ValueError(f"{paths}: no clip matches {where}")
    return clips


def run(args) -> None:
    import pandas as pd
    import torch

    from vipant.embed.audio import REPRESENTATIONS, embed_clips
    from vipant.embed.table import save_table
    from vipant.features.store import FbankStats, FbankStore
    from vipant.models.audio_encoder import load_audio_model

    sets = json.loads(args.sets_json)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with tracked(args.track_json, model=args.model, sets=sets) as mlrun:
        model, _ = load_audio_model(args.model, device)
        stats = FbankStats.load(args.fbank_stats)
        for name, spec in sets.items():
            missing = {"clips", "fbank", "frames_length"} - set(spec)
            if missing:
                raise ValueError(f"--sets-json: set {name!r} lacks {sorted(missing)}")
            representation = spec.get("representation", "embedding")
            if representation not in REPRESENTATIONS:
                raise ValueError(
                    f"--sets-json: set {name!r} asks for representation {representation!r}; "
                    f"known: {list(REPRESENTATIONS)}"
                )
            clips = select_clips(spec["clips"], spec.get("where", []))
            store = FbankStore(spec["fbank"], stats, length=int(spec["frames_length"]))
            have, emb = embed_clips(model, store, clips, device=device, representation=representation)
            if not have:
                raise ValueError(
                    f"{spec['clips']}: none of its {len(clips)} clips has FBANK features in {spec['fbank']}"
                )
            save_table(Path(args.out_dir) / name, pd.DataFrame({"clip_id": have}), emb.numpy())
            mlrun.log_metrics({f"{name}.n_clips": len(have), f"{name}.n_missing": len(clips) - len(have)})
            log.info(
                "%s: %s of %d of %d clips (%s readout)", name, representation, len(have), len(clips), model.readout
            )


def add_parser(sub) -> None:
    p = sub.add_parser("embed-audio", help="cache an audio model's embeddings of named sets of clips")
    p.add_argument("--model", required=True, help="audio-encoder checkpoint")
    p.add_argument(
        "--sets-json",
        required=True,
        help='{name: {"clips": CSV with clip_id (or a list of them), "where": ["COLUMN=VALUE", ...], "fbank": index.csv, '
        '"frames_length": N, '
        '"representation": "embedding" (default) or "features" (before the projection)}}',
    )
    p.add_argument("--fbank-stats", required=True)
    p.add_argument("--out-dir", required=True, help="tables <out-dir>/<name>.npy/.csv")
    p.add_argument("--track-json")
    p.set_defaults(func=run)
