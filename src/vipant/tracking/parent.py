"""The parent run of one Snakemake invocation: opened in ``onstart`` (:func:`workflow_start`, which also
exports the environment that makes every job nest under it) and ended FINISHED or FAILED in
``onsuccess``/``onerror`` (:func:`workflow_end`)."""

from __future__ import annotations

import datetime as _dt
import logging
import os
import sys
from typing import Any, Mapping

from vipant.tracking.config import (
    DISABLED,
    ENV_EXPERIMENT,
    ENV_GIT_COMMIT,
    ENV_PARENT_RUN,
    ENV_URI,
    resolve_experiment,
    resolve_tracking_uri,
)
from vipant.tracking.params import _tags
from vipant.tracking.provenance import _commit_tags, _host_tags, git_commit
from vipant.tracking.retry import _client, _with_retry
from vipant.tracking.run_logger import _note_disabled
from vipant.tracking.store import setup_tracking

log = logging.getLogger(__name__)

_TERMINAL = ("FINISHED", "FAILED", "KILLED")


def start_parent_run(
    tracking_uri: str | None = None,
    experiment: str | None = None,
    name: str | None = None,
    tags: Mapping[str, Any] | None = None,
) -> str:
    """Open the run that groups one Snakemake invocation's jobs; return its id.

    Sets up the database and experiment first (idempotent), since ``onstart`` runs before any rule.
    """
    uri = resolve_tracking_uri(tracking_uri)
    if uri is None:
        raise ValueError(f"tracking is off ({ENV_URI}={DISABLED})")
    experiment_id = setup_tracking(uri, experiment)
    client = _client(uri)
    title = name or f"snakemake {_dt.datetime.now().isoformat(timespec='seconds')}"
    all_tags = _tags(
        {
            **_host_tags(),
            **_commit_tags(git_commit()),
            "mlflow.source.type": "JOB",
            "mlflow.source.name": "snakemake",
            "snakemake.argv": " ".join(sys.argv),
            **(tags or {}),
        }
    )
    run = _with_retry("create parent run", client.create_run, experiment_id, run_name=title, tags=all_tags)
    log.info("MLflow parent run %s (%s) in experiment %s", run.info.run_id, title, experiment_id)
    return run.info.run_id


def end_parent_run(tracking_uri: str | None, run_id: str, status: str = "FINISHED") -> None:
    """Close the parent run with FINISHED, FAILED or KILLED."""
    status = status.upper()
    if status not in _TERMINAL:
        raise ValueError(f"status must be one of {_TERMINAL}, not {status!r}")
    uri = resolve_tracking_uri(tracking_uri)
    if uri is None:
        return
    client = _client(uri)
    _with_retry("end parent run", client.set_terminated, run_id, status)
    log.info("MLflow parent run %s ended %s", run_id, status)


def parent_env(
    tracking_uri: str | None, experiment: str | None, parent_run_id: str, commit: str | None = None
) -> dict[str, str]:
    """Environment that makes a job process log under ``parent_run_id`` (URI absolute, commit fixed)."""
    uri = resolve_tracking_uri(tracking_uri)
    if uri is None:
        raise ValueError(f"tracking is off ({ENV_URI}={DISABLED})")
    return {
        ENV_URI: uri,
        ENV_EXPERIMENT: resolve_experiment(experiment),
        ENV_PARENT_RUN: parent_run_id,
        ENV_GIT_COMMIT: commit or git_commit(),
    }


def workflow_start(
    name: str | None = None,
    tags: Mapping[str, Any] | None = None,
    *,
    tracking_uri: str | None = None,
    experiment: str | None = None,
) -> str | None:
    """Snakefile ``onstart`` in one line: parent run opened, its env exported to jobs; None when off."""
    uri = resolve_tracking_uri(tracking_uri)
    if uri is None:
        _note_disabled()
        return None
    commit = git_commit()
    os.environ[ENV_GIT_COMMIT] = commit
    run_id = start_parent_run(uri, experiment, name, tags)
    os.environ.update(parent_env(uri, experiment, run_id, commit))
    return run_id


def workflow_end(status: str = "FINISHED", *, tracking_uri: str | None = None) -> None:
    """Snakefile ``onsuccess``/``onerror`` in one line: end the parent run that ``workflow_start`` opened."""
    run_id = os.environ.get(ENV_PARENT_RUN)
    if resolve_tracking_uri(tracking_uri) is None or not run_id:
        return
    end_parent_run(tracking_uri, run_id, status)
