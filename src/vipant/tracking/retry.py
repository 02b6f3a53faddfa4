"""Retrying MLflow client calls through SQLite lock contention: "database is locked/busy" errors (looked for
along the exception chain) are retried with jittered exponential backoff for up to ``RETRY_SECONDS``; any
other error is raised at once. Every client the package builds is opened through :func:`_client`."""

from __future__ import annotations

import logging
import random
import re
import time
from typing import TYPE_CHECKING, Any, Callable, TypeVar

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)

RETRY_SECONDS = 60.0
_FIRST_DELAY = 0.05
_MAX_DELAY = 4.0
_TRANSIENT = re.compile(r"database( table)? is (locked|busy)", re.IGNORECASE)
_rng = random.Random()
_T = TypeVar("_T")


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
