"""Params and tags within MLflow's limits: keys made valid (allowed characters, no path tricks, at most 250
characters; ``@`` in metric names written ``_at_``), nested configs flattened to dotted params, values
written as text (JSON for containers) and cut to MLflow's maximum lengths."""

from __future__ import annotations

import hashlib
import json
import logging
import posixpath
import re
from typing import Any, Mapping

log = logging.getLogger(__name__)

# MLflow's own limits (mlflow/utils/validation.py); kept here so values are cut before MLflow rejects them.
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_KEY = 250
_BAD_KEY_CHARS = re.compile(r"[^/\w.\- :]")


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
