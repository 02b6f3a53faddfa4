"""Where runs are logged: the environment variables that carry the tracking URI, experiment, parent run
and commit from the Snakemake process to its jobs, and how the URI and experiment name are resolved
(``VIPANT_MLFLOW_URI=off`` turns tracking off; a relative SQLite path is made absolute)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_URI = "VIPANT_MLFLOW_URI"
ENV_EXPERIMENT = "VIPANT_MLFLOW_EXPERIMENT"
ENV_PARENT_RUN = "VIPANT_MLFLOW_PARENT_RUN"
ENV_GIT_COMMIT = "VIPANT_GIT_COMMIT"

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
DEFAULT_EXPERIMENT = "vipant"
DISABLED = "off"


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
