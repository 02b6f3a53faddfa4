"""``vipant scaling``, ``figure7``, ``figure5``: vip-AnT's few-shot scaling curve and its figures.

The scaling table is built from ``metrics.json`` files; the number of gold pairs behind each model is
counted from its pair list, keeping only pairs whose clip has FBANK features (exactly what the
fine-tuning trained on), so a failed download never inflates N
(:func:`vipant.analysis.scaling.trained_pair_counts`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from vipant.commands.common import tracked

log = logging.getLogger(__name__)


def named_paths(items: list[str], what: str) -> dict[str, str]:
    """``["name=path", ...]`` (the values of option ``what``) as a dict (names may contain '@', paths may
    contain '=' after the first)."""
    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"{what}: expected NAME=PATH, got {item!r}")
        if name in out:
            raise ValueError(f"{what}: {name!r} given twice")
        out[name] = path
    return out


def run_scaling(args) -> None:
    from vipant.analysis import scaling
    from vipant.atomic import write_csv, write_json
    from vipant.features.store import FbankStore
    from vipant.paper_values import ESC50_HUMAN_ACCURACY, FIGURE7_LOG2_N_HUMAN_PARITY
    from vipant.tables import load_records

    have = set(FbankStore(args.fbank_index).clip_ids)
    n_pairs = scaling.trained_pair_counts(named_paths(args.pairs, "--pairs"), have)
    for model in args.zero_pair_models:
        n_pairs[model] = 0
    records = load_records(args.metrics)
    table = scaling.scaling_table(records, n_pairs)
    with tracked(args.track_json, models=sorted(n_pairs)) as mlrun:
        summary = scaling.summarise(table, ESC50_HUMAN_ACCURACY, FIGURE7_LOG2_N_HUMAN_PARITY, level=args.level)
        ext = summary["extrapolation"]
        table["esc50_log2_N_at_human_parity"] = ext["log2_n"]
        table["esc50_log2_N_at_human_parity_se"] = ext["se_log2_n"]
        write_csv(args.out_csv, table)
        write_json(args.out_json, summary)
        mlrun.log_metrics({f"{col}.slope": fit["slope"] for col, fit in summary["fits"].items()})
        if ext["log2_n"] is not None:
            mlrun.log_metrics({"esc50_log2_n_star": ext["log2_n"], "esc50_log2_n_star_se": ext["se_log2_n"]})
    log.info("scaling: %d models; ESC-50 human parity: %s", len(table), ext["note"])


def _log_figure(png: str) -> None:
    """A figure (PNG and its PDF) as an artifact of the Snakemake invocation's parent run."""
    from vipant.tracking import log_to_parent

    log_to_parent([png, str(Path(png).with_suffix(".pdf"))], "figures")


def run_figure7(args) -> None:
    import json

    import pandas as pd

    from vipant.analysis.figures import figure7, save_figure

    table = pd.read_csv(args.scaling_csv)
    with open(args.scaling_json) as f:
        summary = json.load(f)
    with tracked(args.track_json):
        save_figure(figure7(table, summary), args.out)
    _log_figure(args.out)
    log.info("wrote %s", args.out)


def run_figure5(args) -> None:
    from vipant.analysis.figures import figure5, save_figure
    from vipant.analysis.training_curves import label_set_curves

    curves = {label: label_set_curves(path) for label, path in named_paths(args.history, "--history").items()}
    with tracked(args.track_json):
        save_figure(figure5(curves), args.out)
    _log_figure(args.out)
    log.info("wrote %s", args.out)


def add_parsers(sub) -> None:
    p = sub.add_parser("scaling", help="GC@N scaling table + log-linear fits + ESC-50 human-parity extrapolation")
    p.add_argument("--pairs", nargs="+", required=True, help="MODEL=pair-list CSV for every fine-tuned model")
    p.add_argument(
        "--zero-pair-models", nargs="*", default=[], help="models with no pairs (reference rows, not fitted)"
    )
    p.add_argument("--fbank-index", required=True, help="AudioSet FBANK index (which pairs were trainable)")
    p.add_argument("--metrics", nargs="+", required=True, help="metrics.json files of those models")
    p.add_argument("--level", type=float, default=0.95, help="confidence level of the intervals")
    p.add_argument("--out-csv", required=True)
    p.add_argument("--out-json", required=True)
    p.add_argument("--track-json")
    p.set_defaults(func=run_scaling)

    p = sub.add_parser("figure7", help="vip-AnT figure 7 from scaling.csv/json")
    p.add_argument("--scaling-csv", required=True)
    p.add_argument("--scaling-json", required=True)
    p.add_argument("--out", required=True, help="PNG")
    p.add_argument("--track-json")
    p.set_defaults(func=run_figure7)

    p = sub.add_parser("figure5", help="vip-AnT figure 5 from VA training histories")
    p.add_argument("--history", nargs="+", required=True, help="LABEL=history.json, e.g. 'CLIP init=.../history.json'")
    p.add_argument("--out", required=True, help="PNG")
    p.add_argument("--track-json")
    p.set_defaults(func=run_figure5)
