"""``vipant results-summary``: ``results/RESULTS.md`` from a run's result tables (vipant.analysis.results_summary)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def run(args) -> None:
    import pandas as pd

    from vipant.analysis.results_summary import render
    from vipant.atomic import write_text
    from vipant.tables import read_metrics
    from vipant.tracking import git_commit

    tables = {}
    for path in map(Path, args.tables):
        if path.stem in tables:
            raise ValueError(f"{path}: a table named {path.stem!r} is given twice")
        try:
            tables[path.stem] = pd.read_csv(path)
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
            raise ValueError(f"{path}: not a readable table CSV ({err})") from err
    scaling = json.loads(Path(args.scaling_json).read_text()) if args.scaling_json else None
    page = render(
        tables,
        preset=args.preset,
        commit=git_commit(),
        scaling=scaling,
        figures=[Path(f).name for f in args.figure],
        score_commits=[read_metrics(m).commit for m in args.metrics],
    )
    write_text(args.out, page)
    log.info("wrote %s: %d tables, %d figures", args.out, len(tables), len(args.figure))


def add_parser(sub) -> None:
    p = sub.add_parser("results-summary", help="write results/RESULTS.md from the run's result tables")
    p.add_argument("--out", required=True)
    p.add_argument("--preset", required=True, help="the preset the tables came from (named in the page)")
    p.add_argument("--scaling-json", help="scaling.json (few-shot fits) to print beside scaling.csv")
    p.add_argument("--figure", action="append", default=[], help="a figure in the same folder as --out (repeat)")
    p.add_argument(
        "--metrics",
        nargs="*",
        default=[],
        help="the metrics.json files the tables were built from: the page says whether this commit computed them",
    )
    p.add_argument("tables", nargs="+", help="result table CSVs; each is titled by its file name")
    p.set_defaults(func=run)
