"""Pivotability (vip-AnT appendix F, figure 10): how well images pivot an audio clip to its captions.

A two-step retrieval probe on aligned (image, audio, captions) triplets, AudioCaps test in the paper:
start at a clip's audio, retrieve its k nearest images (g_A audio vs. CLIP image embeddings of the test
clips' frames), then for each of those images retrieve its 5 nearest captions with the frozen CLIP
(image → text over the test captions). A clip's pivotability at k is the share of its gold captions
(5 in AudioCaps) found anywhere along those paths; a caption found through several images counts once,
so the value lies in [0, 1]. The curve is its mean over clips, for each k.

Only the first step depends on the audio model; the image → caption step is CLIP's and the same for
every model. The candidate images are all test clips' frames, the clip's own frame included: the
appendix retrieves "k nearest image neighbors" among the test triplets and excludes nothing.
``exclude_own_image`` drops the clip's own frame from its candidates (a stricter variant, reported
beside it). Chance is exact: with a uniformly random set of k images, gold caption g is missed with
probability C(n - s_g, k) / C(n, k), where s_g images have g among their top captions.
Ties in similarity keep index order (a stable sort); with real-valued embeddings they do not occur.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from vipant.evaluate.metrics import ArrayLike, as_numpy, chance_retrieval, cosine_similarity

log = logging.getLogger(__name__)

PIVOTABLE_AT = 0.6  # appendix F: a pair is "pivotable" when >= 3 of its 5 gold captions are found (k = 5)


def top_captions(image_emb: ArrayLike, text_emb: ArrayLike, n: int = 5) -> np.ndarray:
    """``[images, n]`` indices of each image's ``n`` most similar captions (CLIP image → text), best first."""
    sim = cosine_similarity(image_emb, text_emb)
    n = min(n, sim.shape[1])
    return np.argsort(-sim, axis=1, kind="stable")[:, :n]


def _check(audio: np.ndarray, images: np.ndarray, owner: np.ndarray, n_texts: int) -> None:
    if len(audio) != len(images):
        raise ValueError(f"{len(audio)} audio clips but {len(images)} images: the triplets must be row-aligned")
    if owner.shape != (n_texts,):
        raise ValueError(f"caption_clip has shape {owner.shape}, expected ({n_texts},)")
    if owner.size and (owner.min() < 0 or owner.max() >= len(audio)):
        raise ValueError(f"caption_clip index out of range 0..{len(audio) - 1}")
    missing = np.setdiff1d(np.arange(len(audio)), owner)
    if missing.size:
        raise ValueError(f"{missing.size} clips have no gold caption (first: row {int(missing[0])})")


def _valid_ks(ks: Sequence[int], n_candidates: int) -> list[int]:
    ks = [int(k) for k in ks]
    if not ks or min(ks) < 1:
        raise ValueError(f"k values must be >= 1, got {ks}")
    if max(ks) > n_candidates:
        raise ValueError(f"k = {max(ks)} exceeds the {n_candidates} candidate images")
    return ks


def pivotability_per_clip(
    audio_emb: ArrayLike,
    image_emb: ArrayLike,
    text_emb: ArrayLike,
    caption_clip: ArrayLike,
    ks: Sequence[int],
    *,
    n_captions: int = 5,
    exclude_own_image: bool = False,
) -> np.ndarray:
    """``[clips, len(ks)]`` pivotability of each clip at each k.

    Row i of ``audio_emb`` and ``image_emb`` is clip i (its audio and its frame); ``caption_clip[j]`` is the
    clip caption j describes (its gold captions).
    """
    audio, images = as_numpy(audio_emb), as_numpy(image_emb)
    owner = as_numpy(caption_clip).astype(np.int64)
    _check(audio, images, owner, len(as_numpy(text_emb)))
    n = len(audio)
    ks = _valid_ks(ks, n - 1 if exclude_own_image else n)
    depth = max(ks)
    contains = np.zeros((n, len(owner)), dtype=bool)  # image j has caption g among its top captions
    np.put_along_axis(contains, top_captions(images, text_emb, n_captions), True, axis=1)
    sim = cosine_similarity(audio, images)
    if exclude_own_image:
        np.fill_diagonal(sim, -np.inf)
    ranked = np.argsort(-sim, axis=1, kind="stable")[:, :depth]
    out = np.zeros((n, len(ks)))
    at = np.asarray(ks) - 1
    for i in range(n):
        gold = np.flatnonzero(owner == i)
        found = np.logical_or.accumulate(contains[np.ix_(ranked[i], gold)], axis=0)  # [depth, gold]
        out[i] = found.sum(axis=1)[at] / len(gold)
    return out


def chance_pivotability(
    image_emb: ArrayLike,
    text_emb: ArrayLike,
    caption_clip: ArrayLike,
    ks: Sequence[int],
    *,
    n_captions: int = 5,
    exclude_own_image: bool = False,
) -> np.ndarray:
    """``[len(ks)]`` expected mean pivotability when each clip's k images are drawn uniformly at random."""
    images = as_numpy(image_emb)
    owner = as_numpy(caption_clip).astype(np.int64)
    _check(images, images, owner, len(as_numpy(text_emb)))
    n = len(images)
    ks = _valid_ks(ks, n - 1 if exclude_own_image else n)
    contains = np.zeros((n, len(owner)), dtype=bool)
    np.put_along_axis(contains, top_captions(images, text_emb, n_captions), True, axis=1)
    per_clip = np.zeros((n, len(ks)))
    for i in range(n):
        gold = np.flatnonzero(owner == i)
        hits = contains[:, gold]
        if exclude_own_image:
            hits = np.delete(hits, i, axis=0)
        s = hits.sum(axis=0)  # how many candidate images lead to each gold caption
        n_cand = len(hits)
        for col, k in enumerate(ks):
            p = [chance_retrieval(n_cand, int(sg), k) / 100.0 if sg else 0.0 for sg in s]
            per_clip[i, col] = float(np.mean(p))
    return per_clip.mean(axis=0)


def pivotability_metrics(
    audio_emb: ArrayLike,
    image_emb: ArrayLike,
    text_emb: ArrayLike,
    caption_clip: ArrayLike,
    ks: Sequence[int],
    *,
    n_captions: int = 5,
) -> tuple[dict[str, float], dict[str, float]]:
    """``(metrics, chance)`` in the ``metrics.json`` format (fractions in [0, 1], as the appendix defines).

    Keys: ``pivotability@k`` (own frame among the candidates, the paper's protocol),
    ``pivotability_other_images@k`` (own frame excluded), and ``pivotable_share@5`` (share of clips with
    pivotability >= 0.6 at k = 5, appendix F's "pivotable" pairs) when 5 is among ``ks``.
    """
    ks = [int(k) for k in ks]
    n = len(as_numpy(audio_emb))
    metrics: dict[str, float] = {}
    chance: dict[str, float] = {}
    for exclude, tag in ((False, "pivotability"), (True, "pivotability_other_images")):
        usable = [k for k in ks if k <= (n - 1 if exclude else n)]
        if not usable:
            continue
        per_clip = pivotability_per_clip(
            audio_emb, image_emb, text_emb, caption_clip, usable, n_captions=n_captions, exclude_own_image=exclude
        )
        expected = chance_pivotability(
            image_emb, text_emb, caption_clip, usable, n_captions=n_captions, exclude_own_image=exclude
        )
        for col, k in enumerate(usable):
            metrics[f"{tag}@{k}"] = float(per_clip[:, col].mean())
            chance[f"{tag}@{k}"] = float(expected[col])
        if not exclude and 5 in usable:
            metrics["pivotable_share@5"] = float((per_clip[:, usable.index(5)] >= PIVOTABLE_AT - 1e-9).mean())
    dropped = [k for k in ks if k > n]
    if dropped:
        log.warning("k values %s exceed the %d test clips and are left out", dropped, n)
    metrics["n_clips"] = n
    metrics["n_captions"] = len(as_numpy(caption_clip))
    return metrics, chance


def aligned_triplets(audio, frames, captions, eval_frame: int):
    """Clips with audio, frame and captions, row-aligned: (clip ids, audio, image, caption rows, caption_clip).

    ``audio`` is an embedding table of the model's g_A (or the string "frames": OracleAV-CLIP, the clip's
    own frame stands in for its audio); ``frames`` holds the 4 frame embeddings per clip.
    """
    cap_ids = captions.keys["clip_id"]
    have = set(frames.keys["clip_id"])
    if audio != "frames":
        have &= set(audio.keys["clip_id"])
    clip_ids = [c for c in dict.fromkeys(cap_ids) if c in have]
    if len(clip_ids) < 2:
        raise ValueError(
            f"pivotability needs at least 2 test clips with audio, frames and captions; found {len(clip_ids)}"
        )
    dropped = cap_ids.nunique() - len(clip_ids)
    if dropped:
        log.warning(
            "%d of %d captioned test clips lack audio embeddings or frames and are left out", dropped, cap_ids.nunique()
        )
    image = frames.tensor(frames.rows("clip_id", clip_ids))[:, eval_frame]
    sound = image if audio == "frames" else audio.tensor(audio.rows("clip_id", clip_ids))
    position = {c: i for i, c in enumerate(clip_ids)}
    rows = np.flatnonzero(cap_ids.isin(position).to_numpy())
    caption_clip = np.array([position[c] for c in cap_ids.iloc[rows]])
    return clip_ids, sound, image, rows, caption_clip
