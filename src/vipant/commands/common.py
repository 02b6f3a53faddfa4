"""Pieces every stage command shares: the job's MLflow run and the VT model description."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, Iterator

from vipant.tracking import RunLogger, job_run


@contextlib.contextmanager
def tracked(track_json: str | None, *, system_metrics: bool = False, **extra_params: Any) -> Iterator[RunLogger]:
    """The job's MLflow run. ``track_json`` (from the rule) holds rule, wildcards, preset and params;
    ``system_metrics`` (training jobs) records CPU, memory and GPU use alongside."""
    info = json.loads(track_json) if track_json else {"rule": "manual", "wildcards": {}, "preset": "none", "params": {}}
    params = {**info.get("params", {}), **extra_params}
    with job_run(
        rule=info["rule"],
        wildcards=info.get("wildcards", {}),
        params=params,
        preset=info.get("preset", "none"),
        job_info=info.get("job"),
        system_metrics=system_metrics,
    ) as run:
        yield run


def vt_spec(spec_json: str) -> dict[str, Any]:
    """The VT model to load: ``{"name", "pretrained"}`` (open_clip) or ``{"checkpoint"}`` (pretrain_vt)."""
    return json.loads(spec_json)


def write_history(path: str | Path, history: list[dict]) -> None:
    from vipant.atomic import write_json

    write_json(path, {"history": history})


def log_training_artifacts(mlrun: RunLogger, history_path: Path, history: list[dict], title: str) -> None:
    """A training run's ``history.json`` and its curves (PNG + PDF) as the run's artifacts."""
    if not mlrun.enabled or not history:
        return
    import tempfile

    from vipant.analysis.figures import history_figure, save_figure

    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "history.png"
        save_figure(history_figure(history, title), png)
        mlrun.log_artifacts([history_path, png, png.with_suffix(".pdf")])


def train_logged(
    mlrun: RunLogger, encoder, task, cfg, out: Path, *, identity: dict, title: str, write: bool = True, **kw
):
    """Train ``encoder`` on ``task`` with every epoch's and step's metrics in the job's MLflow run, then record
    the final metrics and (``write``: the process that writes outputs) ``out/history.json`` with its curves.
    Returns the history."""
    from vipant.train.loop import train

    history = train(
        encoder,
        task,
        cfg,
        out,
        identity=identity,
        on_epoch=lambda e, m: mlrun.log_metrics(m, step=e),
        on_step=lambda s, m: mlrun.log_metrics(m, step=s),
        **kw,
    )
    mlrun.log_metrics({f"final_{k}": v for k, v in history[-1].items() if k != "epoch"})
    if write:
        write_history(out / "history.json", history)
        log_training_artifacts(mlrun, out / "history.json", history, title)
    return history
