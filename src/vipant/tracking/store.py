"""The tracking store and the experiment: opening (and on a fresh SQLite file, migrating) the database
under an exclusive file lock, switching it to WAL journal mode, and creating or restoring the experiment,
with its artifacts next to the SQLite file. :func:`setup_tracking` is the one-off setup step; jobs go
through :func:`_ensure_experiment`."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import logging
import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from vipant.tracking.config import DISABLED, ENV_URI, _sqlite_path, resolve_experiment, resolve_tracking_uri
from vipant.tracking.retry import _client, _with_retry

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)


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
