"""``vipant synth``, ``fetch``, ``metadata``, ``download``, ``frames``, ``fbank``, ``fbank-index``,
``fbank-stats``, ``coverage-gate``, ``coverage``: the data stages, from the (synthetic) world to FBANK
features and the coverage checks (docs/design.md, Stages)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def run_synth(args: argparse.Namespace) -> None:
    from vipant.synth.config import WorldConfig
    from vipant.synth.world import build_world

    # build_world writes world.json last: its presence means the world is complete.
    build_world(WorldConfig.from_dict(json.loads(args.config_json)), Path(args.out), jobs=args.jobs)


def run_fetch(args: argparse.Namespace) -> None:
    from vipant.acquire.fetch import DatasetSource, fetch_dataset

    source = DatasetSource.from_dict(args.dataset, json.loads(args.spec_json), world_url=args.world_url)
    fetch_dataset(source, args.out, args.record, retries=args.retries)


def run_metadata(args: argparse.Namespace) -> None:
    from vipant.acquire.clip_list import build_clip_lists

    build_clip_lists(Path(args.raw), json.loads(args.layout_json), shards=args.shards, out_dir=Path(args.out_dir))


def run_download(args: argparse.Namespace) -> None:
    import pandas as pd

    from vipant.acquire.download import YtdlpSettings, download_shard

    clips = pd.read_csv(args.clips, dtype={"ytid": str, "shard": str}, keep_default_na=False)
    shard = clips[clips["shard"] == args.shard]
    settings = YtdlpSettings(
        sleep_interval=args.sleep_interval,
        max_sleep_interval=args.max_sleep_interval,
        sleep_interval_requests=args.sleep_interval_requests,
        cookies=args.cookies,
        proxy=args.proxy,
        rate_limit=args.rate_limit,
        js_runtime=args.js_runtime,
        js_runtime_path=args.js_runtime_path,
        socket_timeout=args.socket_timeout,
    )
    if args.cookies and not Path(args.cookies).is_file():
        raise SystemExit(f"download: cookie file {args.cookies} does not exist")
    download_shard(
        shard[["clip_id", "ytid", "start", "end"]],
        url_template=args.url_template,
        out_dir=Path(args.out_dir),
        manifest_path=Path(args.manifest),
        retries=args.retries,
        backoff=args.backoff,
        settings=settings,
        sections=args.sections,
        blocked_limit=args.blocked_limit,
        blocked_pauses=args.blocked_pauses,
        blocked_pause=args.blocked_pause,
        run_token=args.run_token,
    )


def run_coverage_gate(args: argparse.Namespace) -> None:
    import pandas as pd

    from vipant.acquire.coverage import CoverageTooLow, require_min_coverage
    from vipant.atomic import atomic_path

    frame = pd.read_csv(args.coverage, keep_default_na=False, dtype={"dataset": str, "split": str})
    frame["coverage"] = pd.to_numeric(frame["coverage"], errors="coerce")
    try:
        low = require_min_coverage(frame, args.min_coverage, allow_low=args.allow_low, source=str(args.coverage))
    except CoverageTooLow as exc:
        raise SystemExit(str(exc)) from None
    record = {
        "min_coverage": args.min_coverage,
        "allow_low": args.allow_low,
        "low_splits": [{"dataset": d, "split": s, "coverage": c} for d, s, c in low],
    }
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


def run_frames(args: argparse.Namespace) -> None:
    from vipant.acquire.manifest import dropped_videos_path, read_manifest
    from vipant.features.frames import frames_shard

    frames_shard(
        read_manifest(args.manifest),
        Path(args.out_dir),
        Path(args.frames_manifest),
        n_frames=args.n_frames,
        short_side=args.short_side,
        keep_video=args.keep_video,
        dropped_videos=dropped_videos_path(args.manifest),  # next to the download manifest, which reads it
    )


def run_fbank(args: argparse.Namespace) -> None:
    import pandas as pd

    from vipant.features.fbank import fbank_shard

    if args.manifest:
        manifest = pd.read_csv(args.manifest, keep_default_na=False)
        items = manifest.loc[manifest["status"] == "ok", ["clip_id", "audio_path"]].rename(
            columns={"audio_path": "path"}
        )
    else:
        items = pd.read_csv(args.items, keep_default_na=False)
        # local collections are split into shards by position: shard k takes rows k, k+n, k+2n, ...
        items = items.iloc[int(args.shard) :: args.shards][["clip_id", "path"]]
    fbank_shard(items, args.out_array, args.out_index, target_frames=args.target_frames)


def run_fbank_index(args: argparse.Namespace) -> None:
    from vipant.features.store import merge_indexes

    merge_indexes(args.shards, args.out)


def run_fbank_stats(args: argparse.Namespace) -> None:
    import pandas as pd

    from vipant.features.store import FbankStore, estimate_stats

    clips = pd.read_csv(args.clips, keep_default_na=False)["clip_id"]
    stats = estimate_stats(FbankStore(args.index), clips, args.sample, args.seed)
    stats.save(args.out)
    log.info(
        "FBANK stats over %d of %d clips (seed %d): mean %.4f std %.4f",
        stats.n_clips,
        stats.sample["population"],
        args.seed,
        stats.mean,
        stats.std,
    )


def run_coverage(args: argparse.Namespace) -> None:
    from vipant.acquire.coverage import check_min_coverage, coverage_from_files, write_coverage

    report = coverage_from_files(args.requests, args.manifests, args.fbank_indexes)
    write_coverage(args.out, report)
    check_min_coverage(report, args.min_coverage)


def add_parsers(sub) -> None:
    p = sub.add_parser("synth", help="generate the synthetic world in the real datasets' formats")
    p.add_argument("--config-json", default="{}", help="WorldConfig fields as JSON")
    p.add_argument("--out", required=True, help="world folder")
    p.add_argument("--jobs", type=int, default=1, help="encoding processes")
    p.set_defaults(func=run_synth)

    p = sub.add_parser("fetch", help="fetch one dataset's index files and archives from its URLs")
    p.add_argument("--dataset", required=True)
    p.add_argument("--spec-json", required=True, help='{"files": {name: url}, "archives": [url, ...]}')
    p.add_argument("--world-url", default="", help="value of {world_url} in the URLs (synthetic preset)")
    p.add_argument("--out", required=True, help="folder to fill")
    p.add_argument("--record", required=True, help="JSON record written when everything arrived")
    p.add_argument("--retries", type=int, default=3)
    p.set_defaults(func=run_fetch)

    p = sub.add_parser("metadata", help="read every dataset; list YouTube clips (sharded) and local audio")
    p.add_argument("--raw", required=True, help="folder holding one fetched folder per dataset")
    p.add_argument("--layout-json", required=True, help="where each dataset sits in its folder")
    p.add_argument("--shards", type=int, required=True)
    p.add_argument("--out-dir", required=True)
    p.set_defaults(func=run_metadata)

    p = sub.add_parser("download", help="download and cut one shard of YouTube segments")
    p.add_argument("--clips", required=True, help="youtube_clips.csv from `vipant metadata`")
    p.add_argument("--shard", required=True, help="shard id, e.g. 003")
    p.add_argument("--url-template", required=True, help="URL with {ytid}")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--manifest", required=True)
    p.add_argument("--retries", type=int, default=3, help="in-run retries of network errors")
    p.add_argument("--backoff", type=float, default=2.0)
    p.add_argument(
        "--sections",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="fetch only each clip's segment (yt-dlp download_ranges; whole video as fallback)",
    )
    p.add_argument("--sleep-interval", type=float, default=0.0, help="yt-dlp: seconds before each video")
    p.add_argument("--max-sleep-interval", type=float, default=0.0, help="yt-dlp: random sleep upper end")
    p.add_argument("--sleep-interval-requests", type=float, default=0.0, help="yt-dlp: seconds between requests")
    p.add_argument("--socket-timeout", type=float, default=30.0)
    p.add_argument("--cookies", default="", help="Netscape cookie file")
    p.add_argument("--proxy", default="", help="e.g. socks5://127.0.0.1:1080")
    p.add_argument("--rate-limit", default="", help="bytes/s, e.g. 2M")
    p.add_argument("--js-runtime", default="deno", help="yt-dlp JavaScript runtime (deno, node, bun, quickjs; '' none)")
    p.add_argument("--js-runtime-path", default="", help="the runtime's executable")
    p.add_argument("--blocked-limit", type=int, default=5, help="blocked videos in a row before a pause (0: never)")
    p.add_argument("--blocked-pauses", type=int, default=2, help="pauses before the shard stops")
    p.add_argument("--blocked-pause", type=float, default=300.0, help="seconds of the first pause, doubled each time")
    p.add_argument("--run-token", default="", help="the workflow's retry token, stored next to the manifest")
    p.set_defaults(func=run_download)

    p = sub.add_parser("frames", help="extract equally spaced JPEG frames of one download shard")
    p.add_argument("--manifest", required=True, help="download manifest of the shard")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--frames-manifest", required=True)
    p.add_argument("--n-frames", type=int, default=4)
    p.add_argument("--short-side", type=int, default=224)
    p.add_argument(
        "--keep-video",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep each video cut after its frames are written (--no-keep-video deletes it)",
    )
    p.set_defaults(func=run_frames)

    p = sub.add_parser("fbank", help="compute FBANK features of one shard into a float16 array + index")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--manifest", help="download manifest (its ok clips are used)")
    src.add_argument("--items", help="CSV with clip_id,path (a local collection)")
    p.add_argument("--shard", default="000", help="with --items: which shard of the list")
    p.add_argument("--shards", type=int, default=1, help="with --items: how many shards the list has")
    p.add_argument("--target-frames", type=int, required=True)
    p.add_argument("--out-array", required=True)
    p.add_argument("--out-index", required=True)
    p.set_defaults(func=run_fbank)

    p = sub.add_parser("fbank-index", help="merge shard indexes of a collection")
    p.add_argument("--out", required=True)
    p.add_argument("shards", nargs="+")
    p.set_defaults(func=run_fbank_index)

    p = sub.add_parser("fbank-stats", help="FBANK mean/std over the VA training split")
    p.add_argument("--index", required=True)
    p.add_argument("--clips", required=True, help="CSV with a clip_id column")
    p.add_argument("--sample", type=int, required=True, help="clips in the seeded sample (>= all clips: exact)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample")
    p.add_argument("--out", required=True)
    p.set_defaults(func=run_fbank_stats)

    p = sub.add_parser("coverage-gate", help="fail when a split's coverage is below min_coverage (before training)")
    p.add_argument("--coverage", required=True, help="results/coverage.csv")
    p.add_argument("--min-coverage", type=float, required=True)
    p.add_argument("--allow-low", action="store_true", help="only log the low splits")
    p.add_argument("--out", required=True, help="JSON record of the check, written when it passes")
    p.set_defaults(func=run_coverage_gate)

    p = sub.add_parser("coverage", help="per dataset and split: requested / ok / failed by reason")
    p.add_argument("--requests", required=True)
    p.add_argument("--manifests", nargs="+", required=True)
    p.add_argument("--fbank-indexes", nargs="+", required=True)
    p.add_argument("--min-coverage", type=float, default=0.8)
    p.add_argument("--out", required=True)
    p.set_defaults(func=run_coverage)
