"""``vipant table``: a results table built only from metrics.json files."""

from __future__ import annotations

from pathlib import Path


def run(args) -> None:
    from vipant.tables import build_table, write_table
    from vipant.tracking import log_to_parent

    aliases = {}
    for item in args.alias:
        key, sep, model = item.partition("=")
        if not (sep and key and model):
            raise SystemExit(f"vipant table: --alias takes KEY=MODEL, got {item!r}")
        aliases[key] = model
    write_table(args.out, build_table(args.name, [Path(p) for p in args.metrics], aliases))
    log_to_parent([args.out], "tables")  # the invocation's run carries its tables


def add_parser(sub) -> None:
    p = sub.add_parser("table", help="build a results table (table3, table4, ...) from metrics.json files")
    p.add_argument("--name", required=True)
    p.add_argument("--out", required=True)
    p.add_argument(
        "--alias",
        action="append",
        default=[],
        metavar="KEY=MODEL",
        help="read MODEL's metrics as KEY's (a follow-up A run that is the same run as MODEL); repeatable",
    )
    p.add_argument("metrics", nargs="+")
    p.set_defaults(func=run)
