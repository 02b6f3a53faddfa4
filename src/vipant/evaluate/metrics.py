"""Retrieval and classification metrics (pure numpy; torch tensors are accepted and converted).

Conventions shared by every function here:

- Scores are percentages (R@k, accuracy, mAP), as in the papers' tables.
- Embeddings are L2-normalised inside, so similarities are cosines whatever the caller passes.
- **Ties are broken against the model.** Among candidates with equal scores, every non-relevant
  candidate is ranked ahead of every relevant one. A gold candidate's rank therefore counts all
  candidates scoring strictly higher plus every tied non-gold candidate; with one gold per query this is
  "every other tied candidate". Other *gold* candidates tied with it do not push it down: whichever of
  them comes first is a hit under any tie-break, and duplicate gold captions (which AudioCaps has) would
  otherwise hurt each other. The point is that a degenerate model — a constant similarity matrix — must
  not score perfectly, which a stable argsort (ties resolved by index, and gold is often on the
  diagonal) would allow.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

ArrayLike = Any  # np.ndarray or torch.Tensor; converted by as_numpy
Gold = Sequence[Iterable[int]] | np.ndarray


def as_numpy(x: ArrayLike, dtype: type | None = None) -> np.ndarray:
    """Accept torch tensors (any device) as well as arrays."""
    if hasattr(x, "detach"):
        x = x.detach().float().cpu().numpy()
    arr = np.asarray(x)
    return arr.astype(dtype) if dtype is not None else arr


def l2_normalise(x: ArrayLike) -> np.ndarray:
    """Rows scaled to unit norm (float64), so dot products are cosines; zero rows stay zero."""
    arr = as_numpy(x, np.float64)
    if arr.ndim != 2:
        raise ValueError(f"expected a 2-D embedding matrix, got shape {arr.shape}")
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    return arr / np.where(norms > 0, norms, 1.0)


def cosine_similarity(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """``[len(a), len(b)]`` cosine similarities."""
    an, bn = l2_normalise(a), l2_normalise(b)
    if an.shape[1] != bn.shape[1]:
        raise ValueError(f"embedding widths differ: {an.shape[1]} vs {bn.shape[1]}")
    return an @ bn.T


def _gold_mask(gold: Gold, shape: tuple[int, int]) -> np.ndarray:
    """Turn any accepted gold description into a boolean ``[queries, candidates]`` mask."""
    n_q, n_c = shape
    if isinstance(gold, np.ndarray) or hasattr(gold, "detach"):
        g = as_numpy(gold)
        if g.ndim == 2:
            if g.shape != shape:
                raise ValueError(f"gold mask shape {g.shape} != similarity shape {shape}")
            return g.astype(bool)
        if g.ndim == 1:
            if len(g) != n_q:
                raise ValueError(f"{len(g)} gold indices for {n_q} queries")
            g = g.astype(np.int64)
            if g.size and (g.min() < 0 or g.max() >= n_c):
                raise ValueError(f"gold index out of range 0..{n_c - 1}")
            mask = np.zeros(shape, dtype=bool)
            mask[np.arange(n_q), g] = True
            return mask
        raise ValueError(f"gold array must be 1-D indices or a 2-D mask, got shape {g.shape}")
    if len(gold) != n_q:
        raise ValueError(f"{len(gold)} gold sets for {n_q} queries")
    mask = np.zeros(shape, dtype=bool)
    for q, cands in enumerate(gold):
        idx = np.fromiter(cands, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= n_c):
            raise ValueError(f"query {q}: gold index out of range 0..{n_c - 1}")
        mask[q, idx] = True
    return mask


def _ranked_relevance(sim: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """Relevance flags in ranked order per query, ties broken against the model (module docstring)."""
    if not np.isfinite(sim).all():
        raise ValueError("similarity matrix contains NaN or inf")
    # lexsort: last key is primary. Descending score, then non-relevant (False) before relevant (True).
    order = np.lexsort((relevant, -sim), axis=-1)
    return np.take_along_axis(relevant, order, axis=-1)


def _check_sim(sim: ArrayLike) -> np.ndarray:
    s = as_numpy(sim, np.float64)
    if s.ndim != 2 or s.shape[0] == 0 or s.shape[1] == 0:
        raise ValueError(f"similarity matrix must be 2-D and non-empty, got shape {s.shape}")
    return s


def retrieval_metrics(sim: ArrayLike, gold: Gold, ks: Sequence[int] = (1, 5, 10), map_k: int = 10) -> dict[str, float]:
    """R@k, mAP@``map_k``, median and mean rank for queries (rows) ranking candidates (columns).

    ``gold`` is one iterable of candidate indices per query, a 1-D array with one index per query, or a
    boolean mask shaped like ``sim``. A query hits at k when any gold candidate is in its top k; its rank
    is the best rank among its gold candidates. AP@K treats all gold candidates as relevant and divides by
    ``min(#gold, K)``. Returns keys ``R@{k}`` for each k, ``mAP@{map_k}``, ``medR``, ``meanR``,
    ``n_queries``.
    """
    s = _check_sim(sim)
    mask = _gold_mask(gold, s.shape)
    n_gold = mask.sum(axis=1)
    if (n_gold == 0).any():
        raise ValueError(f"{int((n_gold == 0).sum())} queries have no gold candidate (first: {int(np.argmin(n_gold))})")
    ranked = _ranked_relevance(s, mask)
    first_rank = ranked.argmax(axis=1) + 1  # 1-based rank of the best-ranked gold candidate
    out: dict[str, float] = {f"R@{k}": float(100.0 * np.mean(first_rank <= k)) for k in ks}
    top = ranked[:, :map_k].astype(np.float64)
    precision = np.cumsum(top, axis=1) / np.arange(1, top.shape[1] + 1)
    ap = (precision * top).sum(axis=1) / np.minimum(n_gold, map_k)
    out[f"mAP@{map_k}"] = float(100.0 * ap.mean())
    out["medR"] = float(np.median(first_rank))
    out["meanR"] = float(first_rank.mean())
    out["n_queries"] = int(s.shape[0])
    return out


def _prefixed(prefix: str, metrics: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}{k}": v for k, v in metrics.items()}


def audio_text_retrieval(
    audio_emb: ArrayLike, text_emb: ArrayLike, caption_clip: ArrayLike, ks: Sequence[int] = (1, 5, 10)
) -> dict[str, float]:
    """Audio→text and text→audio retrieval between clips and their captions (AudioCaps, Clotho).

    ``caption_clip[j]`` is the row of ``audio_emb`` that caption ``j`` describes. A→T: one query per clip,
    gold = all its captions. T→A: one query per caption, gold = its clip. Keys are those of
    :func:`retrieval_metrics` prefixed ``a2t_`` and ``t2a_``.
    """
    owner = as_numpy(caption_clip).astype(np.int64)
    n_clips, n_caps = len(as_numpy(audio_emb)), len(as_numpy(text_emb))
    if owner.shape != (n_caps,):
        raise ValueError(f"caption_clip has shape {owner.shape}, expected ({n_caps},)")
    if owner.size and (owner.min() < 0 or owner.max() >= n_clips):
        raise ValueError(f"caption_clip index out of range 0..{n_clips - 1}")
    sim = cosine_similarity(audio_emb, text_emb)  # [clips, captions]
    a2t_gold = owner[None, :] == np.arange(n_clips)[:, None]
    out = _prefixed("a2t_", retrieval_metrics(sim, a2t_gold, ks))
    out.update(_prefixed("t2a_", retrieval_metrics(sim.T, owner, ks)))
    return out


def chance_retrieval(n_candidates: int, n_gold: int, k: int) -> float:
    """Expected R@k (percent) of a uniformly random ranking: P(at least one of n_gold in the top k)."""
    if not 0 < n_gold <= n_candidates:
        raise ValueError(f"need 0 < n_gold <= n_candidates, got {n_gold}, {n_candidates}")
    if k >= n_candidates - n_gold + 1:
        return 100.0
    # P(miss) = C(n - g, k) / C(n, k) = prod_{i<k} (n - g - i) / (n - i), computed as a product for stability.
    p_miss = math.prod((n_candidates - n_gold - i) / (n_candidates - i) for i in range(k))
    return 100.0 * (1.0 - p_miss)


def audio_text_chance(caption_clip: ArrayLike, n_clips: int, ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """Chance R@k for :func:`audio_text_retrieval` on the same evaluation set (same ``a2t_R@k``/``t2a_R@k`` keys).

    A→T chance is averaged over clips because clips may have different numbers of captions.
    """
    owner = as_numpy(caption_clip).astype(np.int64)
    n_caps = len(owner)
    per_clip = np.bincount(owner, minlength=n_clips)
    if (per_clip == 0).any():
        raise ValueError(f"{int((per_clip == 0).sum())} clips have no caption")
    out: dict[str, float] = {}
    for k in ks:
        out[f"a2t_R@{k}"] = float(np.mean([chance_retrieval(n_caps, int(g), k) for g in per_clip]))
    for k in ks:
        out[f"t2a_R@{k}"] = chance_retrieval(n_clips, 1, k)
    return out


def zero_shot_scores(audio_emb: ArrayLike, class_text_emb: ArrayLike) -> np.ndarray:
    """``[clips, classes]`` cosine between each clip and each class's text embedding."""
    return cosine_similarity(audio_emb, class_text_emb)


def zero_shot_correct(audio_emb: ArrayLike, class_text_emb: ArrayLike, labels: ArrayLike) -> np.ndarray:
    """Per-clip correctness of argmax-cosine classification; a tie with the true class counts as wrong."""
    scores = zero_shot_scores(audio_emb, class_text_emb)
    y = as_numpy(labels).astype(np.int64)
    if y.shape != (scores.shape[0],):
        raise ValueError(f"labels have shape {y.shape}, expected ({scores.shape[0]},)")
    if y.size and (y.min() < 0 or y.max() >= scores.shape[1]):
        raise ValueError(f"label out of range 0..{scores.shape[1] - 1}")
    true = scores[np.arange(len(y)), y]
    others = scores.copy()
    others[np.arange(len(y)), y] = -np.inf
    return true > others.max(axis=1)


def zero_shot_accuracy(audio_emb: ArrayLike, class_text_emb: ArrayLike, labels: ArrayLike) -> float:
    """Zero-shot accuracy (percent): a clip is correct when its true class has the strictly highest cosine."""
    return float(100.0 * zero_shot_correct(audio_emb, class_text_emb, labels).mean())


def chance_accuracy(n_classes: int) -> float:
    """Expected accuracy (percent) of guessing a class uniformly at random."""
    return 100.0 / n_classes


def average_precision_per_class(scores: ArrayLike, targets: ArrayLike) -> np.ndarray:
    """AP per class (fraction in [0, 1]) as sklearn's ``average_precision_score``; NaN for classes without positives.

    AP = sum_n (R_n - R_{n-1}) P_n over the distinct score thresholds (tied scores enter together), so no
    interpolation and no tie-order dependence.
    """
    s = as_numpy(scores, np.float64)
    t = as_numpy(targets)
    if s.ndim != 2 or s.shape != t.shape:
        raise ValueError(f"scores {s.shape} and targets {t.shape} must be equal 2-D shapes")
    if not np.isin(t, (0, 1)).all():
        raise ValueError("targets must be binary (0/1)")
    if not np.isfinite(s).all():
        raise ValueError("scores contain NaN or inf")
    t = t.astype(bool)
    n = s.shape[0]
    order = np.argsort(-s, axis=0, kind="stable")  # every class at once: [clips, classes]
    sc, hit = np.take_along_axis(s, order, axis=0), np.take_along_axis(t, order, axis=0)
    tp = np.cumsum(hit, axis=0)
    # Tied scores enter together: precision is read at the last row of each row's block of equal scores.
    rows = np.arange(n)[:, None]
    block_end = np.r_[sc[1:] != sc[:-1], np.ones((1, s.shape[1]), dtype=bool)]
    last = np.minimum.accumulate(np.where(block_end, rows, n)[::-1], axis=0)[::-1]
    precision_at_end = np.take_along_axis(tp, last, axis=0) / (last + 1)
    n_pos = hit.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ap = (hit * precision_at_end).sum(axis=0) / n_pos  # each positive adds 1/n_pos of recall
    ap[n_pos == 0] = np.nan
    return ap.astype(np.float64)


def mean_average_precision(scores: ArrayLike, targets: ArrayLike) -> dict[str, float]:
    """Macro mAP (percent) over classes with at least one positive.

    Returns ``mAP``, ``n_classes`` (classes evaluated) and ``n_skipped_classes`` (no positives in
    ``targets``; their AP is undefined, so they are left out rather than counted as 0).
    """
    ap = average_precision_per_class(scores, targets)
    valid = ~np.isnan(ap)
    if not valid.any():
        raise ValueError("no class has a positive example")
    n_skipped = int((~valid).sum())
    if n_skipped:
        logger.info("mAP: %d of %d classes have no positives and are skipped", n_skipped, len(ap))
    return {"mAP": float(100.0 * ap[valid].mean()), "n_classes": int(valid.sum()), "n_skipped_classes": n_skipped}


def expected_random_ap(n: int, k: int) -> float:
    """Exact expected AP (fraction) of a uniformly random ranking of ``n`` items, ``k`` of them positive:
    ``H_n / n + (k - 1) / (n - 1) * (1 - H_n / n)`` with ``H_n`` the n-th harmonic number.

    It follows from AP = (1/k) sum over positives of precision at their rank: the item at rank r is positive
    with probability k/n, and then the r - 1 items above it hold (r - 1)(k - 1)/(n - 1) positives on average.
    It is not the positive rate k/n, which it approaches only for large n: one positive among 75 clips
    gives 6.5 %, not 1.3 %.
    """
    if not 0 < k <= n:
        raise ValueError(f"need 0 < k <= n, got k={k}, n={n}")
    if n == 1:
        return 1.0
    h_over_n = float(np.sum(1.0 / np.arange(1, n + 1))) / n  # vectorised: AudioSet eval has ~20k clips, 527 classes
    return h_over_n + (k - 1) / (n - 1) * (1.0 - h_over_n)


def chance_map(targets: ArrayLike) -> float:
    """Expected macro mAP (percent) of random scores over the classes that have positives
    (:func:`expected_random_ap` per class; ties in real scores aside)."""
    t = as_numpy(targets).astype(bool)
    n, positives = t.shape[0], t.sum(axis=0)
    aps = [expected_random_ap(n, int(k)) for k in positives if k > 0]
    if not aps:
        raise ValueError("no class has a positive example")
    return float(100.0 * np.mean(aps))


def modality_retrieval(
    a: ArrayLike, b: ArrayLike, ks: Sequence[int] = (1, 5), names: tuple[str, str] = ("a", "i")
) -> dict[str, float]:
    """Paired cross-modal retrieval (row i of ``a`` goes with row i of ``b``), both directions.

    Default names give follow-up A's audio–image keys ``a2i_R@1``, ``a2i_R@5``, ``i2a_R@1``, ... (plus
    the other :func:`retrieval_metrics` keys under the same prefixes).
    """
    sim = cosine_similarity(a, b)
    if sim.shape[0] != sim.shape[1]:
        raise ValueError(f"paired retrieval needs equal counts, got {sim.shape}")
    gold = np.arange(sim.shape[0])
    x, y = names
    out = _prefixed(f"{x}2{y}_", retrieval_metrics(sim, gold, ks))
    out.update(_prefixed(f"{y}2{x}_", retrieval_metrics(sim.T, gold, ks)))
    return out


def precision_recall_same_labels(
    query_labels: Sequence[Iterable[str | int]],
    cand_labels: Sequence[Iterable[str | int]],
    sim: ArrayLike,
    k: int | Sequence[int],
) -> dict[str, float]:
    """Precision@k and recall@k where a candidate is relevant iff its label set equals the query's.

    Used for VA retrieval (vip-AnT figure 5), where there is no single gold item. Precision averages over
    all queries; recall over queries with at least one relevant candidate (the others are counted in
    ``n_no_relevant``). Ties are broken against the model. Keys: ``precision@{k}``, ``recall@{k}`` for
    each k, ``n_queries``, ``n_no_relevant``.
    """
    s = _check_sim(sim)
    if (len(query_labels), len(cand_labels)) != s.shape:
        raise ValueError(f"{len(query_labels)} queries x {len(cand_labels)} candidates != similarity {s.shape}")
    ids: dict[frozenset, int] = {}
    q_ids = np.array([ids.setdefault(frozenset(x), len(ids)) for x in query_labels], dtype=np.int64)
    c_ids = np.array([ids.setdefault(frozenset(x), len(ids)) for x in cand_labels], dtype=np.int64)
    relevant = q_ids[:, None] == c_ids[None, :]
    n_rel = relevant.sum(axis=1)
    ranked = _ranked_relevance(s, relevant)
    cum = np.cumsum(ranked, axis=1)
    has_rel = n_rel > 0
    out: dict[str, float] = {}
    for kk in [k] if isinstance(k, int) else list(k):
        if kk < 1:
            raise ValueError(f"k must be >= 1, got {kk}")
        found = cum[:, min(kk, s.shape[1]) - 1]
        out[f"precision@{kk}"] = float(100.0 * np.mean(found / kk))
        out[f"recall@{kk}"] = float(100.0 * np.mean(found[has_rel] / n_rel[has_rel])) if has_rel.any() else math.nan
    out["n_queries"] = int(s.shape[0])
    out["n_no_relevant"] = int((~has_rel).sum())
    return out
