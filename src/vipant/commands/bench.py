"""``vipant bench``: throughput figures of the data stages and the training loop, or the disk budget
(:mod:`vipant.bench`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def run(args: argparse.Namespace) -> None:
    from vipant import bench

    bench.run(
        args.what,
        workdir=Path(args.workdir) if args.workdir else None,
        clips=args.clips,
        device=args.device,
        batch=args.batch,
        steps=args.steps,
        measure=Path(args.measure) if args.measure else None,
    )


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="print throughput figures (data, train) or the disk budget (disk)")
    p.add_argument("what", choices=["data", "train", "disk"])
    p.add_argument(
        "--workdir",
        help="data, disk: where to build the benchmark world; train: where the loop benchmark"
        " writes its temporary feature store (default: a temp dir)",
    )
    p.add_argument("--clips", type=int, default=64, help="data: clips to time per stage; disk: clips to measure")
    p.add_argument(
        "--measure",
        help="disk: measure the files of this work dir's download and frames manifests"
        " (e.g. data/paper; only read) instead of synthetic clips",
    )
    p.add_argument("--device", default="cpu", help="train: cpu or cuda")
    p.add_argument("--batch", type=int, default=16, help="train: batch size (432 for the paper's GPU setting)")
    p.add_argument("--steps", type=int, default=3, help="train: timed steps per configuration")
    p.set_defaults(func=run)
