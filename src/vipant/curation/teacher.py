"""Teacher-driven curation of follow-up B (Wang et al., "Unsupervised Improvement of Audio-Text Cross-Modal
Representations", section 2.2): a trained audio–text model (the *teacher*, here vip-AnT + AT fine-tuning)
builds new audio–text pairs — an *improvement set* — from audio and text that were never paired.

* **DU** (domain-unspecific): every (in-the-wild clip, teacher training caption) whose teacher audio–text
  cosine reaches τ;
* **DS** (domain-specific): the teacher's own training pairs whose caption is close (text–text cosine ≥ τ)
  to one of the target task's class prompts "this is a sound of <label>";
* **ADS** (augmented DS): the DS captions matched to in-the-wild audio by the teacher (cosine ≥ τ).

Every list has the columns of :mod:`vipant.curation.curate` (``clip_id, text_row, text, score``) with
``text_row`` pointing into the teacher's caption pool, so fine-tuning reads them like any curation.

A threshold is either a cosine (the paper: 0.75 for DU, 0.6–0.75 for DS/ADS) or ``{"quantile": q}``: τ is
the q-quantile of the cosines the rule thresholds. The synthetic preset uses quantiles because its small
CLIP's cosines live on another scale than the real one's; the rule is fixed in config, never tuned on
results. Quantiles of very large candidate sets are taken over a seeded sample of rows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

log = logging.getLogger(__name__)

IMPROVEMENT_SET = re.compile(r"^(DU|(DS|ADS)_([a-z0-9]+))$")  # the names of the improvement sets
QUANTILE_SAMPLE = 4_000_000  # most cosines a quantile threshold is computed from
CHUNK = 1024  # clips per similarity block (1024 x 50k captions = 200 MB of float32)


@dataclass(frozen=True)
class Curated:
    """An improvement set and the threshold that made it."""

    pairs: pd.DataFrame  # clip_id, text_row, text, score (+ label for DS)
    threshold: float  # the cosine threshold τ actually applied
    candidates: int  # how many (clip, caption) or caption candidates were scored

    def summary(self) -> dict[str, float]:
        """Sizes for the log and MLflow."""
        return {
            "pairs": len(self.pairs),
            "clips": int(self.pairs["clip_id"].nunique()),
            "distinct_texts": int(self.pairs["text_row"].nunique()),
            "threshold": float(self.threshold),
            "candidates": int(self.candidates),
        }


def improvement_set_kind(name: str) -> tuple[str, str | None]:
    """``(kind, task)`` of an improvement set's name: ``DU`` is ``("DU", None)``, ``DS_<task>`` and
    ``ADS_<task>`` are ``("DS", task)`` and ``("ADS", task)``."""
    match = IMPROVEMENT_SET.match(name)
    if not match:
        raise ValueError(f"unknown improvement set {name!r}; expected DU, DS_<task> or ADS_<task>")
    return (match.group(2) or "DU"), match.group(3)


def resolve_threshold(spec: float | Mapping[str, float], cosines: np.ndarray) -> float:
    """τ from a threshold spec: a number is taken as is; ``{"quantile": q}`` is the q-quantile of ``cosines``."""
    if isinstance(spec, Mapping):
        if set(spec) != {"quantile"}:
            raise ValueError(f"threshold spec {dict(spec)!r}: expected a number or {{'quantile': q}}")
        q = float(spec["quantile"])
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"threshold quantile must lie in [0, 1], got {q}")
        if cosines.size == 0:
            raise ValueError("no cosines to take a threshold quantile of")
        return float(np.quantile(cosines, q))
    if isinstance(spec, bool) or not isinstance(spec, (int, float)):
        raise ValueError(f"threshold spec {spec!r}: expected a number or {{'quantile': q}}")
    return float(spec)


def _normalised(x: torch.Tensor) -> torch.Tensor:
    return F.normalize(x.float(), dim=-1)


def _sample_cosines(audio: torch.Tensor, text: torch.Tensor, seed: int) -> np.ndarray:
    """All audio × text cosines, or those of a seeded subset of audio rows when there are too many."""
    rows = audio.shape[0]
    keep = max(1, min(rows, QUANTILE_SAMPLE // max(text.shape[0], 1)))
    pick = (
        np.sort(np.random.default_rng(seed).choice(rows, size=keep, replace=False)) if keep < rows else np.arange(rows)
    )
    out = [(audio[pick[s : s + CHUNK]] @ text.T).flatten().numpy() for s in range(0, len(pick), CHUNK)]
    return np.concatenate(out)


def match_audio_to_captions(
    audio: torch.Tensor,
    clip_ids: Sequence[str],
    captions: torch.Tensor,
    text_rows: Sequence[int],
    texts: Sequence[str],
    threshold: float | Mapping[str, float],
    *,
    name: str,
    seed: int = 0,
) -> Curated:
    """Every (clip, caption) with teacher audio–text cosine ≥ τ (DU, and ADS with the DS captions).

    ``audio``: teacher embeddings of the in-the-wild clips ``[n, D]``; ``captions``: frozen text
    embeddings ``[m, D]`` of the candidate captions, which are rows ``text_rows`` of the pool ``texts``.
    """
    if audio.shape[0] != len(clip_ids) or captions.shape[0] != len(text_rows):
        raise ValueError(
            f"{name}: {audio.shape[0]} audio rows for {len(clip_ids)} clips, "
            f"{captions.shape[0]} caption rows for {len(text_rows)} text rows"
        )
    if audio.shape[0] == 0 or captions.shape[0] == 0:
        raise ValueError(f"{name}: nothing to match ({audio.shape[0]} clips, {captions.shape[0]} captions)")
    a, t = _normalised(audio), _normalised(captions)
    tau = resolve_threshold(threshold, _sample_cosines(a, t, seed) if isinstance(threshold, Mapping) else np.zeros(0))
    clips, rows, scores, best = [], [], [], -np.inf
    for start in range(0, a.shape[0], CHUNK):
        sim = a[start : start + CHUNK] @ t.T
        best = max(best, float(sim.max()))
        i, j = torch.nonzero(sim >= tau, as_tuple=True)
        clips.extend(clip_ids[start + k] for k in i.tolist())
        rows.extend(int(text_rows[k]) for k in j.tolist())
        scores.extend(sim[i, j].tolist())
    if not clips:
        raise ValueError(
            f"{name}: no (clip, caption) pair reaches the threshold {tau:.4f} "
            f"(highest teacher cosine {best:.4f} over {a.shape[0]} clips x {t.shape[0]} captions)"
        )
    pairs = pd.DataFrame({"clip_id": clips, "text_row": rows, "text": [texts[r] for r in rows], "score": scores})
    return Curated(pairs, tau, a.shape[0] * t.shape[0])


def domain_unspecific(
    audio: torch.Tensor,
    clip_ids: Sequence[str],
    teacher_pairs: pd.DataFrame,
    pool: torch.Tensor,
    texts: Sequence[str],
    threshold: float | Mapping[str, float],
    seed: int = 0,
) -> Curated:
    """DU: the teacher's training captions matched to in-the-wild audio (section 2.2.1)."""
    rows = sorted(set(int(r) for r in teacher_pairs["text_row"]))
    return match_audio_to_captions(audio, clip_ids, pool[rows], rows, texts, threshold, name="DU", seed=seed)


def domain_specific(
    teacher_pairs: pd.DataFrame,
    pool: torch.Tensor,
    labels: torch.Tensor,
    label_names: Sequence[str],
    threshold: float | Mapping[str, float],
    *,
    task: str,
) -> Curated:
    """DS: the teacher's training pairs whose caption reaches cosine τ with a class prompt (section 2.2.2).

    ``pool``: text embeddings of the caption pool ``text_row`` points into; ``labels``: the task's class
    prompts ("this is a sound of <label>"). A quantile threshold is taken over the captions' best prompt
    cosines (one per distinct caption). ``label`` names the closest class (for inspection only).
    """
    if labels.shape[0] != len(label_names) or labels.shape[0] == 0:
        raise ValueError(f"DS_{task}: {labels.shape[0]} label prompts for {len(label_names)} class names")
    rows = sorted(set(int(r) for r in teacher_pairs["text_row"]))
    sim = _normalised(pool[rows]) @ _normalised(labels).T  # [captions, classes]
    top = sim.max(dim=1)
    tau = resolve_threshold(threshold, top.values.numpy())
    score = dict(zip(rows, top.values.tolist()))
    closest = dict(zip(rows, (label_names[k] for k in top.indices.tolist())))
    keep = teacher_pairs["text_row"].map(lambda r: score[int(r)] >= tau)
    pairs = teacher_pairs.loc[keep, ["clip_id", "text_row", "text"]].reset_index(drop=True)
    if pairs.empty:
        raise ValueError(
            f"DS_{task}: no teacher caption reaches the threshold {tau:.4f} with a class prompt "
            f"(highest cosine {float(top.values.max()):.4f} over {len(rows)} captions)"
        )
    pairs["score"] = [score[int(r)] for r in pairs["text_row"]]
    pairs["label"] = [closest[int(r)] for r in pairs["text_row"]]
    return Curated(pairs, tau, len(rows))


def augmented_domain_specific(
    audio: torch.Tensor,
    clip_ids: Sequence[str],
    ds_pairs: pd.DataFrame,
    pool: torch.Tensor,
    texts: Sequence[str],
    threshold: float | Mapping[str, float],
    *,
    task: str,
    seed: int = 0,
) -> Curated:
    """ADS: the DS captions matched to in-the-wild audio by the teacher (section 2.2.2, figure 4)."""
    rows = sorted(set(int(r) for r in ds_pairs["text_row"]))
    return match_audio_to_captions(audio, clip_ids, pool[rows], rows, texts, threshold, name=f"ADS_{task}", seed=seed)


def subset_pairs(pairs: pd.DataFrame, fraction: float, seed: int = 0) -> pd.DataFrame:
    """A seeded random ``fraction`` of a pair list (follow-up B table 3's teacher: 10 % of its pairs).

    At least 2 pairs are kept: a contrastive batch of one pair has nothing to contrast and never learns.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"subset fraction must lie in (0, 1], got {fraction}")
    if len(pairs) < 2:
        raise ValueError(f"cannot take a trainable subset of {len(pairs)} pairs")
    n = max(2, int(round(fraction * len(pairs))))
    pick = np.sort(np.random.default_rng(seed).choice(len(pairs), size=n, replace=False))
    return pairs.iloc[pick].reset_index(drop=True)


def in_the_wild(clips: Sequence[str], exclude: Sequence[str]) -> list[str]:
    """In-the-wild audio: the given clips minus those of the teacher's paired data (the paper leaves out
    AudioSet clips that AudioCaps, the teacher's training data, contains)."""
    gone = set(exclude)
    return [c for c in dict.fromkeys(clips) if c not in gone]
