"""``vipant embed-frames``, ``embed-text``, ``embed-merge``: the frozen-encoder embedding caches; ``vt-weights``:
the frozen encoder's weights, resolved once into a local file."""

from __future__ import annotations

import logging
from pathlib import Path

from vipant.commands.common import tracked, vt_spec

log = logging.getLogger(__name__)


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def embed_frames(args) -> None:
    from vipant.embed.frames import embed_frames_shard
    from vipant.features.frames import read_frames_manifest
    from vipant.models.vt import load_vt

    with tracked(args.track_json):
        model, _, cfg = load_vt(vt_spec(args.vt_json), _device())
        embed_frames_shard(
            model,
            read_frames_manifest(args.frames_manifest),
            args.out,
            n_frames=args.n_frames,
            device=_device(),
            image_size=cfg["vision_cfg"]["image_size"],
        )


def embed_text(args) -> None:
    """All pools in one job: the text encoder is loaded once."""
    from vipant.embed.text import embed_pool
    from vipant.models.vt import load_vt

    model, tokenizer, _ = load_vt(vt_spec(args.vt_json), _device())
    for pool in args.pools.split(","):
        embed_pool(model, tokenizer, Path(args.pools_dir) / f"{pool}.csv", Path(args.out_dir) / pool, device=_device())


def vt_weights(args) -> None:
    from vipant.models.vt import resolve_vt_weights

    resolve_vt_weights(args.name, args.pretrained, args.out)


def embed_merge(args) -> None:
    from vipant.embed.table import merge_tables

    merge_tables(args.shards, args.out)


def add_parsers(sub) -> None:
    p = sub.add_parser("embed-frames", help="embed one shard's frames with the frozen VT image encoder")
    p.add_argument("--vt-json", required=True)
    p.add_argument("--frames-manifest", required=True)
    p.add_argument("--n-frames", type=int, default=4)
    p.add_argument("--out", required=True, help="table path (without suffix: .npy and .csv are written)")
    p.add_argument("--track-json")
    p.set_defaults(func=embed_frames)

    p = sub.add_parser("embed-text", help="embed text pools with the frozen VT text encoder")
    p.add_argument("--vt-json", required=True)
    p.add_argument("--pools", required=True, help="comma-separated pool names (<pools-dir>/<name>.csv, text column)")
    p.add_argument("--pools-dir", required=True)
    p.add_argument("--out-dir", required=True, help="tables <out-dir>/<name>.npy/.csv")
    p.set_defaults(func=embed_text)

    p = sub.add_parser("vt-weights", help="resolve the VT model's weights once into a local file (no Hub in jobs)")
    p.add_argument("--name", required=True, help="open_clip model name, e.g. ViT-B-32-quickgelu")
    p.add_argument("--pretrained", required=True, help="open_clip tag (e.g. openai) or a weights file")
    p.add_argument("--out", required=True)
    p.set_defaults(func=vt_weights)

    p = sub.add_parser("embed-merge", help="concatenate embedding-table shards")
    p.add_argument("--out", required=True)
    p.add_argument("shards", nargs="+")
    p.set_defaults(func=embed_merge)
