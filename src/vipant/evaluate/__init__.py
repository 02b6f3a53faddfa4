"""Evaluation: retrieval and classification metrics, and the zero-shot protocol (docs/design.md, Metrics)."""

from vipant.evaluate.metrics import (
    audio_text_chance,
    audio_text_retrieval,
    average_precision_per_class,
    chance_accuracy,
    chance_map,
    chance_retrieval,
    mean_average_precision,
    modality_retrieval,
    precision_recall_same_labels,
    retrieval_metrics,
    zero_shot_accuracy,
)
from vipant.evaluate.zero_shot import PROMPT, class_prompts, fold_accuracies

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
