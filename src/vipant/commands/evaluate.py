"""``vipant evaluate``: every task of one model in one job, one ``metrics.json`` per (model, task).

The tasks, their clips and their scorers are :mod:`vipant.evaluate.tasks`: the audio side is embedded
with the model's g_A (or, for OracleAV-CLIP, taken from the cached 2nd-frame embeddings); the text side
always comes from the text-embedding cache.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from vipant.commands.common import tracked

log = logging.getLogger(__name__)


def run(args) -> None:
    import torch

    from vipant.evaluate.tasks import TASKS, evaluate_task, task_audio
    from vipant.tables import write_metrics
    from vipant.tracking import git_commit

    inputs = json.loads(args.inputs_json)
    lengths = json.loads(args.frames_json)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.model == "frames":
        model = "frames"
    else:
        from vipant.models.audio_encoder import load_audio_model

        model, _ = load_audio_model(args.model, device)
        log.info("%s: read through its recorded %s readout", args.model, model.readout)
    out_dir = Path(args.out_dir)
    commit = git_commit()
    with tracked(args.track_json, model=args.model_name, tasks=args.tasks) as mlrun:
        from vipant.progress import track

        embedded: dict = {}  # clips shared by tasks are embedded once
        for task in track(args.tasks.split(","), f"evaluate {args.model_name}", unit="tasks"):
            collection = TASKS[task][0]
            # a task may ask for its own input length (Table 8's 10 s Clotho); else the collection's
            clip_ids, audio = task_audio(
                task, inputs, model, int(lengths.get(task, lengths[collection])), device, embedded
            )
            metrics, chance, p = evaluate_task(task, clip_ids, audio, inputs, args.permutations)
            write_metrics(
                out_dir / task / "metrics.json",
                args.model_name,
                task,
                metrics,
                chance,
                len(clip_ids),
                p=p,
                commit=commit,
            )
            mlrun.log_artifact(out_dir / task / "metrics.json", artifact_path=task)
            mlrun.log_metrics({f"{task}.{k}": v for k, v in metrics.items() if isinstance(v, (int, float))})
            mlrun.log_metrics({f"{task}.p.{k}": v for k, v in (p or {}).items()})
            log.info(
                "%s / %s: %s",
                args.model_name,
                task,
                ", ".join(f"{k}={v:.1f}" for k, v in metrics.items() if isinstance(v, float))[:300],
            )


def add_parser(sub) -> None:
    from vipant.evaluate.tasks import TASKS

    p = sub.add_parser("evaluate", help="evaluate one model on a list of tasks (one metrics.json each)")
    p.add_argument("--model-name", required=True, help="row key, e.g. vipant, at_AC, oracle_av_clip")
    p.add_argument("--model", required=True, help="audio-encoder checkpoint, or 'frames' (OracleAV-CLIP)")
    p.add_argument("--tasks", required=True, help="comma-separated: " + ", ".join(TASKS))
    p.add_argument("--inputs-json", required=True, help="named input files (fbank_<collection>, captions_<task>, ...)")
    p.add_argument("--frames-json", required=True, help="FBANK frames fed to g_A per collection (a task key overrides)")
    p.add_argument("--out-dir", required=True, help="metrics go to <out-dir>/<task>/metrics.json")
    p.add_argument(
        "--permutations",
        type=int,
        default=0,
        help="shuffles of the clip pairing for each score's p-value against chance (0: none)",
    )
    p.add_argument("--track-json")
    p.set_defaults(func=run)
