"""``vipant linear-probe``: supervised classification with a linear head on one model's cached g_A
features (vip-AnT appendix C, table 7); one ``metrics.json`` per task (esc50_probe, us8k_probe,
audioset_probe), the format the tables read.

The tables it reads are written by ``vipant embed-audio`` with ``"representation": "features"``: the
encoder's representation before the projection (:mod:`vipant.evaluate.linear_probe` says why). The tasks
and how each is read are :mod:`vipant.evaluate.probe_tasks`."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from vipant.commands.common import tracked

log = logging.getLogger(__name__)


def run(args) -> None:
    from vipant.evaluate.linear_probe import ProbeConfig
    from vipant.evaluate.probe_tasks import TASKS, probe_task
    from vipant.tables import write_metrics
    from vipant.tracking import git_commit

    inputs = json.loads(args.inputs_json)
    probe = json.loads(args.probe_json)
    cfg = ProbeConfig.from_dict(probe)
    with tracked(args.track_json, model=args.model_name, tasks=args.tasks, probe=probe) as mlrun:
        for task in args.tasks.split(","):
            if task not in TASKS:
                raise ValueError(f"unknown probe task {task!r}; known: {sorted(TASKS)}")
            metrics, chance, n = probe_task(task, inputs, cfg)
            write_metrics(
                Path(args.out_dir) / task / "metrics.json",
                args.model_name,
                task,
                metrics,
                chance,
                n,
                commit=git_commit(),
            )
            mlrun.log_metrics({f"{task}.{k}": v for k, v in metrics.items()})
            log.info(
                "%s / %s: %s",
                args.model_name,
                task,
                ", ".join(f"{k}={v:.1f}" for k, v in metrics.items() if not k.startswith("acc_fold")),
            )


def add_parser(sub) -> None:
    from vipant.evaluate.probe_tasks import TASKS

    p = sub.add_parser(
        "linear-probe", help="linear-head classification on cached pre-projection audio features (appendix C)"
    )
    p.add_argument("--model-name", required=True, help="row key, e.g. vipant, init_clip, init_random")
    p.add_argument("--tasks", default=",".join(TASKS), help="comma-separated: " + ", ".join(TASKS))
    p.add_argument(
        "--inputs-json",
        required=True,
        help="named files: <collection> / audioset_train / audioset_eval feature tables (embed-audio "
        "with representation 'features'), "
        "labels_<collection>, classes_<collection>",
    )
    p.add_argument("--probe-json", default="{}", help="ProbeConfig fields as JSON")
    p.add_argument("--out-dir", required=True, help="metrics go to <out-dir>/<task>/metrics.json")
    p.add_argument("--track-json")
    p.set_defaults(func=run)
