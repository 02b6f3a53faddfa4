"""Evaluation: retrieval and classification metrics, and the zero-shot protocol (docs/design.md, Metrics).

The names below are loaded on first use: ``vipant --help`` reads the task lists of
:mod:`vipant.evaluate.tasks` and :mod:`vipant.evaluate.probe_tasks`, and importing this package must not
pull in numpy for that."""

from __future__ import annotations

import importlib
from typing import Any

# public name -> submodule defining it
_EXPORTS = {
    "audio_text_chance": "metrics",
    "audio_text_retrieval": "metrics",
    "average_precision_per_class": "metrics",
    "chance_accuracy": "metrics",
    "chance_map": "metrics",
    "chance_retrieval": "metrics",
    "mean_average_precision": "metrics",
    "modality_retrieval": "metrics",
    "precision_recall_same_labels": "metrics",
    "retrieval_metrics": "metrics",
    "zero_shot_accuracy": "metrics",
    "PROMPT": "zero_shot",
    "class_prompts": "zero_shot",
    "fold_accuracies": "zero_shot",
}

__all__ = [
    "PROMPT",
    "audio_text_chance",
    "audio_text_retrieval",
    "average_precision_per_class",
    "chance_accuracy",
    "chance_map",
    "chance_retrieval",
    "class_prompts",
    "fold_accuracies",
    "mean_average_precision",
    "modality_retrieval",
    "precision_recall_same_labels",
    "retrieval_metrics",
    "zero_shot_accuracy",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value  # later look-ups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
