"""One Snakemake job = one MLflow run: :func:`job_run` opens it (tags for the rule, wildcards, commit and
host; the job's config as params), nests it under the invocation's parent run, records system metrics on
request, and ends it FINISHED, FAILED on an exception or KILLED on SIGTERM/Ctrl-C."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from vipant.tracking.config import ENV_PARENT_RUN, resolve_experiment, resolve_tracking_uri
from vipant.tracking.params import _tags
from vipant.tracking.provenance import _commit_tags, _host_tags, git_commit
from vipant.tracking.retry import _with_retry
from vipant.tracking.run_logger import RunLogger, _note_disabled
from vipant.tracking.store import _ensure_experiment

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)

# System metrics (CPU, memory, disk, network; GPU when nvidia-ml-py finds one): MLflow's own monitor,
# sampled every this many seconds (MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL overrides), plus one last
# sample when the job ends, so even a short job has one.
SYSTEM_METRICS_INTERVAL_S = 10.0


def run_name(rule: str, wildcards: Mapping[str, Any]) -> str:
    """``rule[k=v,...]``: the run's name in the UI, unique per job of one invocation."""
    if not wildcards:
        return rule
    return f"{rule}[{','.join(f'{k}={v}' for k, v in wildcards.items())}]"


class _Terminated(SystemExit):
    """SIGTERM turned into an exception, so a cancelled job's run ends KILLED instead of RUNNING."""


def _raise_terminated(signum: int, _frame: Any) -> None:
    raise _Terminated(128 + signum)


@contextlib.contextmanager
def _sigterm_as_exception() -> Iterator[None]:
    """While the run is open, let SIGTERM (Snakemake/SLURM cancelling the job) unwind the stack.

    Only where SIGTERM still has its default action and only in the main thread; the old handler is
    put back afterwards.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _parent_tag(client: MlflowClient, experiment_id: str) -> dict[str, str]:
    """``mlflow.parentRunId`` for the run named in the environment, if it exists in this store."""
    from mlflow.exceptions import MlflowException

    parent = os.environ.get(ENV_PARENT_RUN, "").strip()
    if not parent:
        return {}
    try:
        run = _with_retry("get parent run", client.get_run, parent)
    except MlflowException as err:
        log.warning("%s=%s is not a run in this store (%s); logging without a parent", ENV_PARENT_RUN, parent, err)
        return {}
    if run.info.experiment_id != experiment_id:
        log.warning("parent run %s belongs to experiment %s, not %s", parent, run.info.experiment_id, experiment_id)
    return {"mlflow.parentRunId": parent}


def _job_tags(
    rule: str, wildcards: Mapping[str, Any], preset: str, job_info: Mapping[str, Any] | None
) -> dict[str, Any]:
    reserved = {"rule", "preset", "git_commit", "host", "pid"}
    tags: dict[str, Any] = {"rule": rule, "preset": preset, **_commit_tags(git_commit()), **_host_tags()}
    for key, value in wildcards.items():
        tags[f"wildcard.{key}" if key in reserved or key.startswith("mlflow.") else key] = value
    tags["snakemake.wildcards"] = dict(wildcards)
    for key, value in (job_info or {}).items():
        tags[f"snakemake.{key}"] = value
    tags["mlflow.source.type"] = "JOB"
    tags["mlflow.source.name"] = f"snakemake rule {rule}"
    return tags


def _end_status(exc: BaseException | None) -> str:
    if exc is None:
        return "FINISHED"
    if isinstance(exc, Exception):
        return "FAILED"
    if isinstance(exc, SystemExit) and not isinstance(exc, _Terminated) and exc.code in (None, 0):
        return "FINISHED"
    return "KILLED"


@contextlib.contextmanager
def job_run(
    *,
    rule: str,
    wildcards: Mapping[str, Any],
    params: Mapping[str, Any],
    preset: str,
    tracking_uri: str | None = None,
    experiment: str | None = None,
    job_info: Mapping[str, Any] | None = None,
    system_metrics: bool = False,
) -> Iterator[RunLogger]:
    """One Snakemake job = one MLflow run, nested under the invocation's parent run when there is one.

    Tags: ``rule``, ``preset``, one per wildcard (``wildcard.<name>`` if the name clashes with those),
    ``git_commit``, host/pid/SLURM ids and ``snakemake.<key>`` for each ``job_info`` entry (threads,
    resources, log path...). ``params`` is the resolved config that affects the job, logged flattened.
    The run ends FINISHED, FAILED on an exception (which propagates) or KILLED on SIGTERM/Ctrl-C.
    ``system_metrics`` records CPU, memory (and GPU) use while the job runs (:func:`_system_monitor`).
    """
    uri = resolve_tracking_uri(tracking_uri)
    if uri is None:
        _note_disabled()
        yield RunLogger(None, None)
        return
    client, experiment_id = _ensure_experiment(uri, resolve_experiment(experiment))
    tags = _tags({**_job_tags(rule, wildcards, preset, job_info), **_parent_tag(client, experiment_id)})
    name = run_name(rule, wildcards)
    run = _with_retry("create run", client.create_run, experiment_id, run_name=name, tags=tags)
    run_id = run.info.run_id
    log.info("MLflow run %s (%s) in experiment %s", run_id, name, experiment_id)
    logger = RunLogger(client, run_id)
    outcome: BaseException | None = None
    monitor = _system_monitor(run_id, uri) if system_metrics else None
    try:
        with _sigterm_as_exception():
            logger.log_params(params)
            yield logger
    except BaseException as exc:
        outcome = exc
        raise
    finally:
        if monitor is not None:
            _stop_system_monitor(monitor)
        status = _end_status(outcome)
        try:
            _with_retry("end run", client.set_terminated, run_id, status)
        except Exception:
            if outcome is None:
                raise
            log.exception("could not mark MLflow run %s %s", run_id, status)  # keep the job's own error
        else:
            log.info("MLflow run %s ended %s", run_id, status)


def _system_monitor(run_id: str, tracking_uri: str):
    """MLflow's :class:`~mlflow.system_metrics.system_metrics_monitor.SystemMetricsMonitor` on this run
    (metrics ``system/...``), started; None (with a warning) when it cannot start."""
    try:
        from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor

        monitor = SystemMetricsMonitor(run_id, sampling_interval=SYSTEM_METRICS_INTERVAL_S, tracking_uri=tracking_uri)
    except Exception as err:  # e.g. psutil missing: the job runs on, without system metrics
        log.warning("MLflow system metrics off for run %s: %s", run_id, err)
        return None
    monitor.start()
    return monitor


def _stop_system_monitor(monitor) -> None:
    """Stop sampling, then log one final sample through MLflow's batching logger (a job shorter than the
    sampling interval would otherwise have none)."""
    monitor.finish()
    try:
        monitor.collect_metrics()
        monitor.publish_metrics(monitor.aggregate_metrics())
        _with_retry("log system metrics", monitor.mlflow_logger.flush)
    except Exception as err:
        log.warning("MLflow: last system-metrics sample not logged (%s)", err)
