"""Supervised classification with a linear head on frozen g_A features (vip-AnT appendix C, table 7).

The paper adds a linear layer on top of the audio encoder and trains with cross-entropy (ESC-50, US8K:
single label) or per-label binary cross-entropy (AudioSet: multi-label). For ESC-50 and US8K it fine-tunes
the whole encoder; for balanced AudioSet it fine-tunes the last k = 4 layers, and its k = 0 point
(figure 8) is exactly this probe. Here the encoder stays frozen: clips are embedded once (a cache), and
only the head is trained, so the comparison between initialisations (random / CLIP / vip-AnT) measures
how linearly separable each encoder's representation already is. That is the faithful CPU-scale
substitute for 45 encoder fine-tunings (3 initialisations x (5 + 10) folds); README states the choice.

What is probed: the encoder's representation *before* the projection into the joint space
(:meth:`vipant.models.audio_encoder.AudioEncoder.features`: the CLS token after ``ln_post``, or the mean
of the ``ln_post``'d segment pools of a Multiframe Match model), not the projected, L2-normalised
embedding. VA training bends the projection towards the VT model's space and the paper's appendix
fine-tunes the encoder, so the projection would compare the initialisations on a map trained for another
space rather than on their features.

Protocol: ESC-50 uses its 5 folds and US8K its 10 folds (train on the other folds, test on one; the
headline number is the mean accuracy over folds, with its sample std as in the paper's "95.7±1.4");
AudioSet trains on the balanced training split and reports macro mAP on the eval split. Features are
standardised with the training part's mean and std only, so nothing from the test fold leaks in.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vipant.evaluate.metrics import ArrayLike, as_numpy, chance_accuracy, chance_map, mean_average_precision

log = logging.getLogger(__name__)


@dataclass
class ProbeConfig:
    """How the linear head is trained (Adam on mini-batches of cached embeddings)."""

    epochs: int = 100  # passes over the training part
    batch_size: int = 50  # vip-AnT table 5's batch for ESC-50 / US8K
    lr: float = 1e-3  # Adam learning rate
    weight_decay: float = 1e-4  # L2 on the head's weights (decoupled, AdamW)
    seed: int = 0  # initialisation and shuffling

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ProbeConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown probe settings {sorted(unknown)}; known: {sorted(names)}")
        return cls(**d)


class LinearHead(nn.Module):
    """Standardisation (fixed, from the training part) followed by one linear layer."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, n_outputs: int):
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)
        self.linear = nn.Linear(mean.shape[0], n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear((x - self.mean) / self.std)


def fit_linear_head(
    features: ArrayLike, targets: ArrayLike, n_outputs: int, *, multilabel: bool, cfg: ProbeConfig
) -> LinearHead:
    """Train a head on ``features`` ``[N, D]``: cross-entropy on class indices ``[N]``, or BCE on a 0/1
    matrix ``[N, n_outputs]`` when ``multilabel``."""
    x = torch.as_tensor(as_numpy(features, np.float32))
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"features must be a non-empty [N, D] matrix, got shape {tuple(x.shape)}")
    y = torch.as_tensor(as_numpy(targets, np.float32 if multilabel else np.int64))
    if multilabel and y.shape != (len(x), n_outputs):
        raise ValueError(f"multi-label targets have shape {tuple(y.shape)}, expected ({len(x)}, {n_outputs})")
    if not multilabel and (y.shape != (len(x),) or y.min() < 0 or y.max() >= n_outputs):
        raise ValueError(f"labels must be {len(x)} class indices in 0..{n_outputs - 1}")
    generator = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    mean, std = x.mean(dim=0), x.std(dim=0, unbiased=False).clamp_min(1e-6)
    head = LinearHead(mean, std, n_outputs)
    optimizer = torch.optim.AdamW(head.linear.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    loss_fn = F.binary_cross_entropy_with_logits if multilabel else F.cross_entropy
    batch = min(cfg.batch_size, len(x))
    for _ in range(cfg.epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), batch):
            index = order[start : start + batch]
            loss = loss_fn(head(x[index]), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return head.eval()


@torch.no_grad()
def head_scores(head: LinearHead, features: ArrayLike) -> np.ndarray:
    """``[N, n_outputs]`` logits of the head."""
    return head(torch.as_tensor(as_numpy(features, np.float32))).numpy()


def fold_split(clip_ids: Sequence[str], folds: ArrayLike, test_fold: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean (train, test) masks for one fold; raises if a clip would sit on both sides.

    A clip id listed twice under different folds would put the same audio in training and test (the
    metadata is then broken), so that is an error naming the clip, never a silent overlap.
    """
    f = as_numpy(folds).astype(np.int64)
    if len(f) != len(clip_ids):
        raise ValueError(f"{len(f)} folds for {len(clip_ids)} clips")
    test = f == test_fold
    train = ~test
    shared = set(np.asarray(clip_ids, dtype=object)[train]) & set(np.asarray(clip_ids, dtype=object)[test])
    if shared:
        raise ValueError(
            f"clip {sorted(shared)[0]!r} is listed in fold {test_fold} and in another fold ({len(shared)} such clips)"
        )
    if not test.any() or not train.any():
        raise ValueError(f"fold {test_fold} leaves an empty training or test part")
    return train, test


def cross_validated_accuracy(
    features: ArrayLike, labels: ArrayLike, folds: ArrayLike, clip_ids: Sequence[str], n_classes: int, cfg: ProbeConfig
) -> dict[str, float]:
    """K-fold accuracy (percent) of a linear head: ``acc`` (mean over folds), ``acc_std`` (sample std),
    ``acc_pooled`` (all test predictions together), ``acc_fold<f>`` and ``n_folds``."""
    x, y = as_numpy(features, np.float32), as_numpy(labels).astype(np.int64)
    f = as_numpy(folds).astype(np.int64)
    if not (len(x) == len(y) == len(f) == len(clip_ids)):
        raise ValueError(f"features ({len(x)}), labels ({len(y)}), folds ({len(f)}) and clips ({len(clip_ids)}) differ")
    out: dict[str, float] = {}
    correct = np.zeros(len(y), dtype=bool)
    per_fold = []
    for fold in np.unique(f):
        train, test = fold_split(clip_ids, f, int(fold))
        head = fit_linear_head(x[train], y[train], n_classes, multilabel=False, cfg=cfg)
        hit = head_scores(head, x[test]).argmax(axis=1) == y[test]
        correct[test] = hit
        out[f"acc_fold{fold}"] = float(100.0 * hit.mean())
        per_fold.append(out[f"acc_fold{fold}"])
        log.info(
            "fold %d: %d train / %d test clips, accuracy %.1f%%", fold, int(train.sum()), int(test.sum()), per_fold[-1]
        )
    out["acc"] = float(np.mean(per_fold))
    out["acc_std"] = float(np.std(per_fold, ddof=1)) if len(per_fold) > 1 else 0.0
    out["acc_pooled"] = float(100.0 * correct.mean())
    out["n_folds"] = len(per_fold)
    return out


def classification_probe(
    features: ArrayLike, labels: ArrayLike, folds: ArrayLike, clip_ids: Sequence[str], n_classes: int, cfg: ProbeConfig
) -> tuple[dict[str, float], dict[str, float]]:
    """``(metrics, chance)`` for ESC-50 / US8K in the ``metrics.json`` format."""
    return cross_validated_accuracy(features, labels, folds, clip_ids, n_classes, cfg), {
        "acc": chance_accuracy(n_classes)
    }


def multilabel_probe(
    train_features: ArrayLike,
    train_targets: ArrayLike,
    eval_features: ArrayLike,
    eval_targets: ArrayLike,
    cfg: ProbeConfig,
) -> tuple[dict[str, float], dict[str, float]]:
    """``(metrics, chance)`` for AudioSet: BCE head trained on the balanced split, macro mAP on eval.

    Classes without a positive eval clip have no AP and are left out (``n_skipped_classes`` counts them);
    a class without a positive training clip still gets a head output and is scored.
    """
    t_train = as_numpy(train_targets).astype(np.float32)
    t_eval = as_numpy(eval_targets)
    if t_train.shape[1] != t_eval.shape[1]:
        raise ValueError(f"train targets have {t_train.shape[1]} classes, eval targets {t_eval.shape[1]}")
    head = fit_linear_head(train_features, t_train, t_train.shape[1], multilabel=True, cfg=cfg)
    result = mean_average_precision(head_scores(head, eval_features), t_eval)
    metrics = {
        "mAP": result["mAP"],
        "n_classes": result["n_classes"],
        "n_skipped_classes": result["n_skipped_classes"],
        "n_train": len(t_train),
    }
    return metrics, {"mAP": chance_map(t_eval)}
