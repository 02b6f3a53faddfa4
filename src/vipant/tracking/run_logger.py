"""What a job logs through: :class:`RunLogger`, one MLflow run addressed by id (metrics, params, tags and
artifacts, with folders above ``MAX_ARTIFACT_BYTES`` logged as a reference file), and logging artifacts
into an existing run (:func:`log_to_run`) or the invocation's parent run (:func:`log_to_parent`)."""

from __future__ import annotations

import json
import logging
import math
import os
import posixpath
import socket
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from vipant.tracking.config import DISABLED, ENV_PARENT_RUN, ENV_URI, resolve_tracking_uri
from vipant.tracking.params import _tags, flatten_params, metric_key
from vipant.tracking.retry import _client, _with_retry

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)

# MlflowClient.log_batch splits what it is given into MLflow's per-request limits (100 params/tags,
# 1000 metrics) itself, so each RunLogger call hands it everything at once.

# Artifacts: a folder above this size (an exported ViT-B/32 audio encoder) is logged as a reference file
# (path, size, checksum) instead of a copy, so the artifact store does not duplicate every model.
MAX_ARTIFACT_BYTES = 100 * 2**20
_disabled_noted = False


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
                    ref.write_text(
                        json.dumps(
                            {
                                "path": str(path.resolve()),
                                "bytes": size,
                                "host": socket.gethostname(),
                                "files": sorted(str(f.relative_to(path)) for f in path.rglob("*") if f.is_file()),
                            },
                            indent=2,
                        )
                    )
                    self.log_artifact(ref, artifact_path)
            else:
                log.warning("MLflow artifact %s does not exist; not logged", path)


def log_to_run(
    run_id: str | None,
    paths: "Sequence[str | os.PathLike[str]]",
    artifact_path: str | None = None,
    tracking_uri: str | None = None,
) -> None:
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
