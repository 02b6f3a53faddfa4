"""Zero-shot classification through the shared audio–text space (vip-AnT table 4).

Class names become text prompts ("the sound of dog barking"), the frozen text encoder embeds them, and a
clip is assigned the class whose prompt is most similar. No training is involved, so the k-fold protocol
of ESC-50 (5 folds) and UrbanSound8K (10 folds) reduces to scoring each fold's clips separately; the
headline number is the mean over folds, as with the standard splits.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import numpy as np

from vipant.evaluate.metrics import (
    ArrayLike,
    as_numpy,
    chance_accuracy,
    chance_map,
    mean_average_precision,
    zero_shot_correct,
    zero_shot_scores,
)

logger = logging.getLogger(__name__)

PROMPT = "the sound of "


def class_name_text(name: str) -> str:
    """Dataset category identifiers as words: ``church_bells`` → ``church bells`` (whitespace collapsed)."""
    return re.sub(r"\s+", " ", name.replace("_", " ")).strip()


def class_prompts(names: Sequence[str], prompt: bool) -> list[str]:
    """Texts to embed per class: ``"the sound of <name>"`` with the prompt, the bare name without."""
    texts = [class_name_text(n) for n in names]
    if any(not t for t in texts):
        raise ValueError(f"empty class name in {list(names)!r}")
    return [PROMPT + t for t in texts] if prompt else texts


def fold_accuracies(
    audio_emb: ArrayLike, class_text_emb: ArrayLike, labels: ArrayLike, folds: ArrayLike
) -> dict[str, float]:
    """Per-fold zero-shot accuracy (percent) plus their mean, sample std and the pooled accuracy.

    Keys: ``fold{f}`` for each fold id in ascending order, ``mean``, ``std`` (ddof=1; 0 with one fold),
    ``pooled`` (all clips together), ``n`` (clips), ``n_folds``.
    """
    correct = zero_shot_correct(audio_emb, class_text_emb, labels)
    f = as_numpy(folds)
    if f.shape != correct.shape:
        raise ValueError(f"folds have shape {f.shape}, expected {correct.shape}")
    out: dict[str, float] = {}
    per_fold = []
    for fold in np.unique(f):
        acc = float(100.0 * correct[f == fold].mean())
        out[f"fold{fold}"] = acc
        per_fold.append(acc)
    accs = np.array(per_fold)
    out["mean"] = float(accs.mean())
    out["std"] = float(accs.std(ddof=1)) if len(accs) > 1 else 0.0
    out["pooled"] = float(100.0 * correct.mean())
    out["n"] = int(len(correct))
    out["n_folds"] = int(len(accs))
    return out


def classification_task_metrics(
    audio_emb: ArrayLike,
    class_emb_prompt: ArrayLike,
    class_emb_noprompt: ArrayLike,
    labels: ArrayLike,
    folds: ArrayLike | None = None,
) -> tuple[dict[str, float], dict[str, float]]:
    """``(metrics, chance)`` for a single-label zero-shot task (``esc50_zs``, ``us8k_zs``, TUT17).

    ``metrics`` has ``acc_prompt`` / ``acc_noprompt`` (mean over folds; pooled when ``folds`` is None) and,
    with folds, ``acc_{prompt,noprompt}_fold{f}``, ``_std``, ``_pooled``. ``chance`` has ``acc``.
    """
    n_classes = len(as_numpy(class_emb_prompt))
    if len(as_numpy(class_emb_noprompt)) != n_classes:
        raise ValueError("prompt and no-prompt class embeddings differ in number of classes")
    fold_ids = np.zeros(len(as_numpy(labels)), dtype=np.int64) if folds is None else folds
    metrics: dict[str, float] = {}
    for tag, emb in (("prompt", class_emb_prompt), ("noprompt", class_emb_noprompt)):
        res = fold_accuracies(audio_emb, emb, labels, fold_ids)
        metrics[f"acc_{tag}"] = res["mean"]
        if folds is not None:
            metrics[f"acc_{tag}_std"] = res["std"]
            metrics[f"acc_{tag}_pooled"] = res["pooled"]
            metrics.update({f"acc_{tag}_{k}": v for k, v in res.items() if k.startswith("fold")})
        logger.debug("zero-shot accuracy (%s): %.2f%% over %d folds", tag, res["mean"], res["n_folds"])
    return metrics, {"acc": chance_accuracy(n_classes)}


def multilabel_task_metrics(
    audio_emb: ArrayLike, class_emb_prompt: ArrayLike, class_emb_noprompt: ArrayLike, targets: ArrayLike
) -> tuple[dict[str, float], dict[str, float]]:
    """``(metrics, chance)`` for AudioSet zero-shot tagging: cosine scores ranked per class, macro mAP.

    ``metrics``: ``mAP_prompt``, ``mAP_noprompt``, ``n_classes``, ``n_skipped_classes``. ``chance``: ``mAP``.
    """
    metrics: dict[str, float] = {}
    for tag, emb in (("prompt", class_emb_prompt), ("noprompt", class_emb_noprompt)):
        res = mean_average_precision(zero_shot_scores(audio_emb, emb), targets)
        metrics[f"mAP_{tag}"] = res["mAP"]
        metrics["n_classes"] = res["n_classes"]
        metrics["n_skipped_classes"] = res["n_skipped_classes"]
    return metrics, {"mAP": chance_map(targets)}
