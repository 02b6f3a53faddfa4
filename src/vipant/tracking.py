"""MLflow tracking for the workflow: one parent run per Snakemake invocation, one child run per job.

Every training and evaluation job is a separate process (several may run at once, locally or on SLURM),
so this module talks to MLflow only through an explicit :class:`mlflow.tracking.MlflowClient` and never
through the fluent ``mlflow.start_run`` global state: two jobs, or two threads of one job, can never end
up sharing an "active run".

Wiring (the Snakefile does the first two in one line each; the rules' code does the third)::

    onstart:   tracking.workflow_start(name="snakemake all", tags={...})   # DB, experiment, parent run
    onsuccess: tracking.workflow_end("FINISHED")                           # onerror: "FAILED"
    with tracking.job_run(rule="train", wildcards=..., params=cfg, preset=...) as run:
        run.log_metrics({"loss": 0.3}, step=epoch)

``workflow_start`` exports ``VIPANT_MLFLOW_URI`` (made absolute), ``VIPANT_MLFLOW_EXPERIMENT``,
``VIPANT_MLFLOW_PARENT_RUN`` and ``VIPANT_GIT_COMMIT`` into the Snakemake process's environment, which
local jobs and ``sbatch`` jobs inherit, so each job nests under the invocation's parent run.

SQLite contention (several job processes write one ``mlflow.db``):

* MLflow 3.17 already runs ``PRAGMA busy_timeout = 20000`` on every session it opens
  (``mlflow/store/db/utils.py``), so a writer waits up to 20 s for the lock inside SQLite. A ``?timeout=``
  query on the URI would be overridden by that pragma, and ``MLFLOW_SQLALCHEMYSTORE_POOLCLASS=NullPool``
  only changes connection reuse, not locking, so neither is used.
* :func:`setup_tracking` switches the database to WAL journal mode (a persistent property of the file):
  readers (``mlflow ui``, ``search_runs``) no longer block the jobs' writers, and writers no longer wait
  for readers. WAL needs one machine's shared memory: on a cluster, point the URI at an ``mlflow server``.
* Every client call goes through :func:`_with_retry`: "database is locked/busy" errors that still escape
  are retried with jittered exponential backoff for up to ``RETRY_SECONDS`` (60 s). The retried calls are
  safe to repeat: a failed SQLite transaction commits nothing, MLflow accepts re-logging a param with the
  same value, and it de-duplicates an identical metric row.
* Opening the store (which migrates an empty file) runs under an exclusive file lock, so jobs started
  without the setup step cannot run the schema migrations twice at once or see a half-made schema.
* Measured here (2 cores): 6 jobs x (50 params + 20 metric steps) started at the same instant finish
  their logging in ~1.5 s with WAL against ~5 s with the default rollback journal; no lock error
  reached the retry loop in either case, nor with 12 jobs x 100 steps.

``VIPANT_MLFLOW_URI=off`` turns tracking off everywhere (unit tests of trainers): :func:`job_run` then
yields a logger that records nothing, and mlflow is not even imported.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import getpass
import hashlib
import importlib
import json
import logging
import math
import os
import posixpath
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence, TypeVar

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)

ENV_URI = "VIPANT_MLFLOW_URI"
ENV_EXPERIMENT = "VIPANT_MLFLOW_EXPERIMENT"
ENV_PARENT_RUN = "VIPANT_MLFLOW_PARENT_RUN"
ENV_GIT_COMMIT = "VIPANT_GIT_COMMIT"

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
DEFAULT_EXPERIMENT = "vipant"
DISABLED = "off"

# MLflow's own limits (mlflow/utils/validation.py); kept here so values are cut before MLflow rejects them.
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_KEY = 250
# MlflowClient.log_batch splits what it is given into MLflow's per-request limits (100 params/tags,
# 1000 metrics) itself, so each RunLogger call hands it everything at once.

# Artifacts: a folder above this size (an exported ViT-B/32 audio encoder) is logged as a reference file
# (path, size, checksum) instead of a copy, so the artifact store does not duplicate every model.
MAX_ARTIFACT_BYTES = 100 * 2**20
# System metrics (CPU, memory, disk, network; GPU when nvidia-ml-py finds one): MLflow's own monitor,
# sampled every this many seconds (MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL overrides), plus one last
# sample when the job ends, so even a short job has one.
SYSTEM_METRICS_INTERVAL_S = 10.0

RETRY_SECONDS = 60.0
_FIRST_DELAY = 0.05
_MAX_DELAY = 4.0
_TRANSIENT = re.compile(r"database( table)? is (locked|busy)", re.IGNORECASE)
_BAD_KEY_CHARS = re.compile(r"[^/\w.\- :]")
_TERMINAL = ("FINISHED", "FAILED", "KILLED")

_rng = random.Random()
_disabled_noted = False
_T = TypeVar("_T")


# --------------------------------------------------------------------------------------------- config
def resolve_tracking_uri(tracking_uri: str | None = None) -> str | None:
    """The URI to log to, or None when tracking is off.

    ``VIPANT_MLFLOW_URI=off`` wins over any argument so a test can silence every job. Otherwise an
    explicit argument beats the environment, which beats ``sqlite:///mlflow.db``. A relative SQLite path
    is made absolute (against the working directory) so jobs that run elsewhere still find the file.
    """
    env = os.environ.get(ENV_URI, "").strip()
    if env.lower() == DISABLED:
        return None
    uri = (tracking_uri or env or DEFAULT_TRACKING_URI).strip()
    if uri.lower() == DISABLED:
        return None
    return _absolute_sqlite_uri(uri)


def resolve_experiment(experiment: str | None = None) -> str:
    """Experiment name: argument, else ``VIPANT_MLFLOW_EXPERIMENT``, else ``vipant``."""
    return experiment or os.environ.get(ENV_EXPERIMENT, "").strip() or DEFAULT_EXPERIMENT


def _sqlite_path(uri: str) -> Path | None:
    """The database file behind a ``sqlite:///`` URI (None for servers and in-memory databases)."""
    if not uri.startswith("sqlite:///"):
        return None
    path = uri[len("sqlite:///") :].split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path(path)


def _absolute_sqlite_uri(uri: str) -> str:
    path = _sqlite_path(uri)
    if path is None or path.is_absolute():
        return uri
    query = uri.split("?", 1)[1] if "?" in uri else None
    absolute = f"sqlite:///{Path.cwd() / path}"
    return f"{absolute}?{query}" if query else absolute


# ---------------------------------------------------------------------------------------------- retry
def _is_transient(exc: BaseException) -> bool:
    """True for SQLite lock contention, looked for along the exception chain (MLflow wraps it)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _TRANSIENT.search(str(current)):
            return True
        current = current.__cause__ or current.__context__
    return False


def _with_retry(what: str, fn: Callable[..., _T], *args: Any, deadline_s: float | None = None, **kwargs: Any) -> _T:
    """Call ``fn``, retrying lock contention with jittered exponential backoff until ``deadline_s``.

    Jitter keeps processes that collided once from colliding again in lock step. Any other error is
    raised at once: retrying a bad request only delays the message.
    """
    deadline = RETRY_SECONDS if deadline_s is None else deadline_s
    start = time.monotonic()
    attempt = 0
    while True:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if not _is_transient(exc):
                raise
            delay = min(_MAX_DELAY, _FIRST_DELAY * 2**attempt) * _rng.uniform(0.5, 1.5)
            elapsed = time.monotonic() - start
            if elapsed + delay > deadline:
                log.error("MLflow %s: database still locked after %.1f s and %d tries", what, elapsed, attempt + 1)
                raise
            attempt += 1
            log.warning("MLflow %s: database locked (try %d), retrying in %.2f s", what, attempt, delay)
            time.sleep(delay)


def _client(tracking_uri: str) -> MlflowClient:
    """A client bound to ``tracking_uri``; building it opens the store, which may itself meet the lock."""
    from mlflow.tracking import MlflowClient

    return _with_retry("open store", MlflowClient, tracking_uri)


# ---------------------------------------------------------------------------------------------- setup
@contextlib.contextmanager
def _creation_lock(db: Path | None) -> Iterator[None]:
    """Serialise first-time database creation between processes on this machine (no-op for servers)."""
    if db is None:
        yield
        return
    digest = hashlib.sha1(str(db.resolve()).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"vipant-mlflow-{digest}.lock"
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _enable_wal(db: Path) -> None:
    """Switch the file to WAL once; the mode persists in the file for every later connection."""

    def switch() -> str:
        with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            return str(mode)

    mode = _with_retry("enable WAL", switch)
    if mode.lower() != "wal":
        log.warning("%s: SQLite kept journal mode %r (WAL unavailable on this file system?)", db, mode)


def _artifact_location(tracking_uri: str) -> str | None:
    """Artifacts next to a SQLite file (jobs in any directory agree); a server chooses its own."""
    db = _sqlite_path(tracking_uri)
    return (db.parent / "mlartifacts").resolve().as_uri() if db is not None else None


def _experiment_id(client: MlflowClient, tracking_uri: str, name: str) -> str:
    """Id of experiment ``name``, created (or restored from deletion) when needed."""
    from mlflow.exceptions import MlflowException

    found = _with_retry("get experiment", client.get_experiment_by_name, name)
    if found is not None:
        if found.lifecycle_stage == "deleted":
            log.warning("MLflow experiment %r was deleted; restoring it", name)
            _with_retry("restore experiment", client.restore_experiment, found.experiment_id)
        return found.experiment_id
    try:
        experiment_id = _with_retry(
            "create experiment", client.create_experiment, name, artifact_location=_artifact_location(tracking_uri)
        )
        log.info("Created MLflow experiment %r (id %s) at %s", name, experiment_id, tracking_uri)
        return experiment_id
    except MlflowException as err:
        if err.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        # Another process created it between our lookup and our create.
        found = _with_retry("get experiment", client.get_experiment_by_name, name)
        if found is None:
            raise
        return found.experiment_id


def _open_store(tracking_uri: str) -> MlflowClient:
    """A client whose store is fully migrated, even if another process is creating the file right now.

    For SQLite, opening the store (which runs the migrations on an empty file) happens under the
    creation lock; the slow import of the store module is done before taking it.
    """
    db = _sqlite_path(tracking_uri)
    if db is None:
        return _client(tracking_uri)
    db.parent.mkdir(parents=True, exist_ok=True)
    importlib.import_module("mlflow.store.tracking.sqlalchemy_store")  # seconds; not under the lock

    with _creation_lock(db):
        fresh = not db.exists() or db.stat().st_size == 0
        client = _client(tracking_uri)
        if fresh:
            _enable_wal(db)
    return client


def setup_tracking(tracking_uri: str | None = None, experiment: str | None = None) -> str:
    """Create the database (all schema migrations on a fresh file) and the experiment; return its id.

    Idempotent. Meant to run once, in one process, before parallel jobs start; jobs racing into a missing
    database are still safe (file lock). An existing SQLite file is switched to WAL if it is not yet. An
    existing database with an older schema is not migrated here: MLflow's error says to back it up and
    run ``mlflow db upgrade``.
    """
    uri = resolve_tracking_uri(tracking_uri)
    if uri is None:
        raise ValueError(f"tracking is off ({ENV_URI}={DISABLED}); nothing to set up")
    client = _open_store(uri)
    db = _sqlite_path(uri)
    if db is not None:
        _enable_wal(db)
    return _experiment_id(client, uri, resolve_experiment(experiment))


def _ensure_experiment(tracking_uri: str, name: str) -> tuple[MlflowClient, str]:
    """Client and experiment id for a job (the experiment is created if the setup step did not)."""
    db = _sqlite_path(tracking_uri)
    if db is not None and not db.exists():
        log.warning("%s does not exist yet; creating it from a job (the setup step should have run)", db)
    client = _open_store(tracking_uri)
    return client, _experiment_id(client, tracking_uri, name)


# ------------------------------------------------------------------------------------ params and tags
def _safe_key(key: str) -> str:
    """A key MLflow accepts: allowed characters only, no path tricks, at most 250 characters."""
    clean = _BAD_KEY_CHARS.sub("_", key)
    if posixpath.normpath(clean) != clean or clean.startswith(("/", "..")) or clean in ("", "."):
        clean = clean.replace("/", "_").lstrip(".") or "_"
    if len(clean) > MAX_KEY:
        digest = hashlib.sha1(key.encode()).hexdigest()[:8]
        clean = f"{clean[: MAX_KEY - 9]}~{digest}"
    return clean


def metric_key(key: Any) -> str:
    """MLflow refuses '@' in metric names: ``a2t_R@10`` is logged as ``a2t_R_at_10``."""
    return _safe_key(str(key).replace("@", "_at_"))


def _text(value: Any) -> str:
    """Readable text for a param or tag: JSON for containers, ``str`` for scalars."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, set, frozenset, Mapping)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return json.dumps(items if not isinstance(items, tuple) else list(items), default=str, sort_keys=True)
    return str(value)


def _cut(value: str, limit: int) -> str:
    marker = "...[truncated]"
    return value if len(value) <= limit else value[: limit - len(marker)] + marker


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested config -> ``{"train.lr": "0.001", ...}`` with keys and values within MLflow's limits.

    Lists stay one param (JSON text) so a list of datasets reads as one value in the UI. Values longer
    than 6000 characters are cut, with a warning, rather than failing the job.
    """
    flat: dict[str, str] = {}
    cut: list[str] = []

    def walk(node: Mapping[str, Any], base: str) -> None:
        for raw_key, value in node.items():
            dotted = f"{base}.{raw_key}" if base else str(raw_key)
            if isinstance(value, Mapping) and value:
                walk(value, dotted)
                continue
            key = _safe_key(dotted)
            text = _text(value)
            if len(text) > MAX_PARAM_VALUE:
                cut.append(key)
                text = _cut(text, MAX_PARAM_VALUE)
            if key in flat and flat[key] != text:  # two raw keys sanitised to one: keep both
                key = _safe_key(f"{key}~{hashlib.sha1(dotted.encode()).hexdigest()[:8]}")
            flat[key] = text

    walk(params, prefix)
    if cut:
        log.warning("MLflow params cut to %d characters: %s", MAX_PARAM_VALUE, ", ".join(cut))
    return flat


def _tags(tags: Mapping[str, Any]) -> dict[str, str]:
    return {_safe_key(str(k)): _cut(_text(v), MAX_TAG_VALUE) for k, v in tags.items() if v is not None}


def git_commit() -> str:
    """Commit of the code being run: ``VIPANT_GIT_COMMIT`` (exported by the workflow), else ``git``.

    ``git rev-parse HEAD`` is tried in the working directory and then in this package's directory; a
    ``+dirty`` suffix marks uncommitted changes to tracked files. "unknown" when neither is a checkout.
    """
    exported = os.environ.get(ENV_GIT_COMMIT, "").strip()
    if exported:
        return exported
    for where in (Path.cwd(), Path(__file__).resolve().parent):
        try:
            head = subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            dirty = subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=where,
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        if head:
            return f"{head}+dirty" if dirty else head
    return "unknown"


def _host_tags() -> dict[str, Any]:
    """Where and as whom a run happened: host, pid, user, SLURM job when there is one."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = None
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "mlflow.user": user,
        "slurm.job_id": os.environ.get("SLURM_JOB_ID"),
        "slurm.array_task_id": os.environ.get("SLURM_ARRAY_TASK_ID"),
    }


def _commit_tags(commit: str) -> dict[str, str]:
    tags = {"git_commit": commit}
    if commit != "unknown":
        tags["mlflow.source.git.commit"] = commit.removesuffix("+dirty")
    return tags


# -------------------------------------------------------------------------------------------- logger
class RunLogger:
    """What a job logs through: one MLflow run, addressed by id (no global active run).

    A logger built with ``client=None`` is the disabled one: every method returns without doing anything.
    """

    def __init__(self, client: MlflowClient | None, run_id: str | None) -> None:
        self._client = client
        self.run_id = run_id

    @property
    def enabled(self) -> bool:
        return self._client is not None and self.run_id is not None

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Log numeric metrics (Python numbers, numpy or 0-d torch values) at ``step`` (0 if None)."""
        if not self.enabled:
            return
        from mlflow.entities import Metric

        timestamp = int(time.time() * 1000)
        entries = []
        for key, value in metrics.items():
            try:
                number = float(value)
            except (TypeError, ValueError) as err:
                raise TypeError(f"metric {key!r}: {value!r} is not a number") from err
            if math.isnan(number):
                log.warning("metric %r is NaN at step %s", key, step)
            entries.append(Metric(key=metric_key(key), value=number, timestamp=timestamp, step=int(step or 0)))
        _with_retry("log metrics", self._client.log_batch, self.run_id, metrics=entries)

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log a (nested) mapping as dotted params, 100 per batch as MLflow requires."""
        if not self.enabled:
            return
        from mlflow.entities import Param

        entries = [Param(k, v) for k, v in flatten_params(params).items()]
        _with_retry("log params", self._client.log_batch, self.run_id, params=entries)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set tags (values as text, cut to MLflow's 8000 characters)."""
        if not self.enabled:
            return
        from mlflow.entities import RunTag

        entries = [RunTag(k, v) for k, v in _tags(tags).items()]
        _with_retry("set tags", self._client.log_batch, self.run_id, tags=entries)

    def log_artifact(self, path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        """Copy a file or directory into the run's artifacts (under ``artifact_path`` if given)."""
        if not self.enabled:
            return
        _with_retry("log artifact", self._client.log_artifact, self.run_id, os.fspath(path), artifact_path)

    def log_artifacts(self, paths: "Sequence[str | os.PathLike[str]]", artifact_path: str | None = None) -> None:
        """Log each existing file, and each folder (its content, under ``artifact_path/<folder name>``) or,
        above :data:`MAX_ARTIFACT_BYTES`, a ``<folder name>.reference.json`` naming where it is."""
        if not self.enabled:
            return
        for path in map(Path, paths):
            if path.is_file():
                self.log_artifact(path, artifact_path)
            elif path.is_dir():
                size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
                sub = posixpath.join(artifact_path, path.name) if artifact_path else path.name
                if size <= MAX_ARTIFACT_BYTES:
                    _with_retry("log artifacts", self._client.log_artifacts, self.run_id, os.fspath(path), sub)
                    continue
                with tempfile.TemporaryDirectory() as tmp:
                    ref = Path(tmp) / f"{path.name}.reference.json"
                    ref.write_text(json.dumps({"path": str(path.resolve()), "bytes": size, "host": socket.gethostname(),
                                               "files": sorted(str(f.relative_to(path)) for f in path.rglob("*") if f.is_file())},
                                              indent=2))
                    self.log_artifact(ref, artifact_path)
            else:
                log.warning("MLflow artifact %s does not exist; not logged", path)


def log_to_run(run_id: str | None, paths: "Sequence[str | os.PathLike[str]]", artifact_path: str | None = None,
               tracking_uri: str | None = None) -> None:
    """Log artifacts into an existing run by id (the invocation's parent run, or a finished training run
    that a later job adds its exported model to). Nothing when tracking is off or ``run_id`` is empty."""
    uri = resolve_tracking_uri(tracking_uri)
    if uri is None or not run_id:
        return
    RunLogger(_client(uri), run_id).log_artifacts(paths, artifact_path)


def log_to_parent(paths: "Sequence[str | os.PathLike[str]]", artifact_path: str | None = None) -> None:
    """Log artifacts (tables, figures) into the Snakemake invocation's parent run, when there is one."""
    log_to_run(os.environ.get(ENV_PARENT_RUN, "").strip(), paths, artifact_path)


def _note_disabled() -> None:
    global _disabled_noted
    if not _disabled_noted:
        _disabled_noted = True
        log.info("MLflow tracking is off (%s=%s): runs are not recorded", ENV_URI, DISABLED)


# ----------------------------------------------------------------------------------------- parent run
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


# -------------------------------------------------------------------------------------------- job run
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
