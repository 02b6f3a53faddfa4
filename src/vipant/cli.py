"""The ``vipant`` command: one subcommand per workflow stage (what the Snakemake rules call) plus
benchmarks. Heavy imports happen inside each command so ``vipant --help`` stays fast."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# The command modules under vipant.commands, each with add_parser(sub) or add_parsers(sub), in the order
# `vipant --help` lists their subcommands. They are imported when the parser is built, not with this module.
COMMANDS: tuple[str, ...] = (
    "data",  # synth, fetch, metadata, download, frames, fbank*, coverage-gate, coverage
    "pretrain_vt",
    "embed",
    "curate",
    "pretrain_va",
    "finetune_at",
    "evaluate",
    "tables",
    "teacher",  # follow-up B: teacher-driven curation
    "analysis",  # few-shot scaling (figure 7) and figure 5
    "user",  # classify / search / embed on your own audio
    "export",  # shareable folder for vipant.load_model
    "init_audio",  # vip-AnT appendix C: untrained g_A
    "embed_audio",  # cached g_A embeddings of clip sets
    "linear_probe",  # vip-AnT appendix C: table 7
    "pivotability",  # vip-AnT appendix F: figure 10
    "results_summary",  # results/RESULTS.md
    "bench",  # throughput figures and the disk budget
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vipant", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"vipant.commands.{name}")
        add = getattr(module, "add_parsers", None) or module.add_parser
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    args.func(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
