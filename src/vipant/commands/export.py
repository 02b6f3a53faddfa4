"""``vipant export``: an audio-encoder checkpoint as a shareable folder (:mod:`vipant.export`)."""

from __future__ import annotations

import argparse
import json
import logging

log = logging.getLogger(__name__)


def run(args: argparse.Namespace) -> None:
    from vipant.checkpoint import CheckpointError
    from vipant.export import export_model
    from vipant.inference.locate import LocateError
    from vipant.models.vt import VTLoadError
    from vipant.tables import MetricsFileError

    try:
        out = export_model(
            args.checkpoint,
            args.out_dir,
            vt=args.vt,
            stats=args.stats,
            metrics=args.metrics or (),
            history=args.history,
            recipe=json.loads(args.recipe_json) if args.recipe_json else None,
            preset=args.preset,
        )
    except (LocateError, CheckpointError, VTLoadError, MetricsFileError) as err:
        raise SystemExit(f"vipant export: error: {err}") from err
    _log_to_training_run(out)


def _log_to_training_run(out) -> None:
    """The exported folder (or, when large, a reference to it) as an artifact of the MLflow run that
    trained the model (its id is recorded in the checkpoint)."""
    from vipant.export import CONFIG
    from vipant.tracking import log_to_run

    run_id = json.loads((out / CONFIG).read_text()).get("training", {}).get("mlflow_run_id")
    if not run_id:
        return
    try:
        log_to_run(run_id, [out], "model")
    except Exception as err:  # e.g. the run lives in another MLflow store: the export itself is complete
        log.warning("exported model not logged to MLflow run %s: %s", run_id, err)
    else:
        log.info("logged %s to MLflow run %s", out, run_id)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="write a checkpoint as a shareable folder (model.safetensors, config.json, model card)",
        description="Writes OUT_DIR/model.safetensors (audio encoder; the text tower too when the VT model was "
        "trained by the workflow), OUT_DIR/config.json (architecture, FBANK parameters and statistics, "
        "input length, readout, VT spec, prompt, weights SHA-256) and OUT_DIR/README.md (model card). "
        "vipant.load_model(OUT_DIR) loads it (docs/api.md).",
        epilog="example:\n  vipant export data/synthetic/models/at/GC/model.pt exported/at_GC \\\n"
        "      --metrics data/synthetic/eval/at_GC/*/metrics.json --history data/synthetic/models/at/GC/history.json",
    )
    p.add_argument(
        "checkpoint", help="audio-encoder checkpoint (models/at/<curation>/model.pt, models/va/<name>/model.pt)"
    )
    p.add_argument("out_dir", help="folder to write")
    p.add_argument("--vt", help="VT model, if the checkpoint's record does not resolve (as for vipant classify)")
    p.add_argument("--stats", help="FBANK stats.json, if the checkpoint does not record them")
    p.add_argument("--metrics", nargs="*", help="metrics.json files of this model's evaluations (for the model card)")
    p.add_argument("--history", help="the training run's history.json (for the model card)")
    p.add_argument("--recipe-json", help="the training configuration as JSON (for the model card)")
    p.add_argument("--preset", help="workflow preset the model was trained in (for the model card's data section)")
    p.set_defaults(func=run)
