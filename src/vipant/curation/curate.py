"""The six curations of vip-AnT Table 2. Each returns a pair list ``clip_id, text_row, text, score`` whose
``text_row`` points into the raw text pool the fine-tuning reads (``pool`` in the returned attrs).

* AC / FC / VC — unsupervised: every AudioSet training clip's 2nd frame is embedded by the frozen CLIP
  (cached), and the most similar caption of the prompted pool is paired with the clip's audio;
* RC — each AudioCaps training clip gets a random AudioCaps training caption (lower bound);
* GL — each AudioCaps training clip paired with each of its AudioSet label names (few-shot, gold);
* GC — AudioCaps training clips with their gold captions (upper bound);
* GC@N — N of those gold pairs, sampled with a fixed seed (few-shot scaling, figure 7).
"""

from __future__ import annotations

import logging
import re
from typing import Collection, Sequence

import numpy as np
import pandas as pd
import torch

from vipant.embed.table import EmbeddingTable
from vipant.progress import Progress

log = logging.getLogger(__name__)

EVAL_FRAME = 1  # the middle (2nd) frame, as at test time
UNSUPERVISED_POOLS = {"AC": "ac", "FC": "fc", "VC": "vc"}


def retrieval_curation(
    frames: EmbeddingTable,
    clip_ids: Sequence[str],
    prompted: EmbeddingTable,
    raw_texts: Sequence[str],
    *,
    chunk: int = 4096,
) -> pd.DataFrame:
    """Frame → text retrieval: the top caption of the prompted pool for each clip's middle frame."""
    have = set(frames.keys["clip_id"])
    clip_ids = [c for c in clip_ids if c in have]
    rows = frames.rows("clip_id", clip_ids)
    texts = prompted.tensor()
    best, score = [], []
    progress = Progress("curation: frame -> caption retrieval", len(rows), unit="clips")
    for start in range(0, len(rows), chunk):
        part = np.sort(rows[start : start + chunk])
        image = torch.from_numpy(np.asarray(frames.array[part][:, EVAL_FRAME], dtype=np.float32))
        sim = image @ texts.T
        top = sim.max(dim=1)
        order = np.argsort(np.argsort(rows[start : start + chunk]))  # back to the clip order of this chunk
        best.extend(top.indices.numpy()[order].tolist())
        score.extend(top.values.numpy()[order].tolist())
        progress.update(len(part))
    progress.close()
    return pd.DataFrame({"clip_id": clip_ids, "text_row": best, "text": [raw_texts[i] for i in best], "score": score})


def random_captions(clip_ids: Sequence[str], n_texts: int, raw_texts: Sequence[str], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n_texts, size=len(clip_ids))
    return pd.DataFrame(
        {"clip_id": list(clip_ids), "text_row": rows, "text": [raw_texts[i] for i in rows], "score": np.nan}
    )


def gold_captions(train: pd.DataFrame, raw_texts: Sequence[str]) -> pd.DataFrame:
    """``train``: AudioCaps train rows (clip_id, caption)."""
    row_of = {t: i for i, t in enumerate(raw_texts)}
    return pd.DataFrame(
        {
            "clip_id": train["clip_id"].to_numpy(),
            "text_row": [row_of[c] for c in train["caption"]],
            "text": train["caption"].to_numpy(),
            "score": np.nan,
        }
    )


def gold_labels(
    clip_ids: Sequence[str], clip_labels: dict[str, Sequence[str]], label_rows: dict[str, int], raw_texts: Sequence[str]
) -> pd.DataFrame:
    """One pair per (AudioCaps training clip, AudioSet label of that clip)."""
    pairs = [(c, label_rows[m]) for c in clip_ids for m in clip_labels.get(c, ()) if m in label_rows]
    rows = [r for _, r in pairs]
    return pd.DataFrame(
        {"clip_id": [c for c, _ in pairs], "text_row": rows, "text": [raw_texts[r] for r in rows], "score": np.nan}
    )


GOLD_SUBSET = re.compile(r"^GC@(?P<n>[1-9]\d*)$")


def gold_subset_size(name: str) -> int | None:
    """N of a ``GC@N`` curation name, None for any other name."""
    m = GOLD_SUBSET.match(name)
    return int(m["n"]) if m else None


def gold_subset(gold: pd.DataFrame, n: int, have_features: Collection[str], seed: int = 0) -> pd.DataFrame:
    """GC@N: N gold pairs drawn with ``seed`` from the pairs whose clip has FBANK features.

    Only trainable pairs are eligible, so N is exactly the number of pairs the fine-tuning sees. The draw
    is the first N of one seeded permutation of the eligible pairs, so the sets are nested: GC@2^k holds
    GC@2^(k-1), and a point on the scaling curve differs from the previous one only by added pairs.
    """
    eligible = gold[gold["clip_id"].isin(set(have_features))].reset_index(drop=True)
    if n > len(eligible):
        raise ValueError(
            f"GC@{n}: only {len(eligible)} of {len(gold)} gold pairs have FBANK features; "
            f"lower scaling.max_log2 in config.yaml"
        )
    order = np.random.default_rng(seed).permutation(len(eligible))
    return eligible.iloc[np.sort(order[:n])].reset_index(drop=True)
