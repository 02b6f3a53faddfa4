"""Diagnostic of follow-up B's teacher: how much of which source sounds do its audio embeddings carry?

The soft-label (SL) loss softens each student A->T row towards the clips the teacher hears as alike, by the
teacher's raw audio-audio cosines (``vipant.train.soft_label``). That helps when those cosines follow the
sources and dilutes the pairs when they do not. For each cached teacher embedding table
(``teacher/<name>/audio.{csv,npy}``), with the world's ground truth (which sources sound in each clip):

* mean cosine between clips that share a sounding source and between clips that share none;
* the diagonal an A->T target keeps at batch 32 and the paper's alpha 0.3, ``1 / (1 + 0.3 * sum_j max(cos_ij, 0))``
  over a batch's 31 other clips (1 for one-hot targets);
* how often a clip's nearest neighbour shares a source with it, against a random neighbour.

It reads a built synthetic work dir and sees no test table.

    python tools/probe_teacher.py data/synthetic --teachers full sub
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from vipant.train.soft_label import SOFT_LABEL_ALPHA

BATCH = 32  # the follow-up B recipe's batch


def structure(audio: np.ndarray, sources: list[frozenset[str]], seed: int = 0) -> dict[str, float]:
    """The statistics above for embeddings ``[N, D]`` and each row's set of sounding sources."""
    a = audio / np.linalg.norm(audio, axis=1, keepdims=True)
    n = len(a)
    cos = a @ a.T
    shared = np.array([[bool(s & t) for t in sources] for s in sources])
    off = ~np.eye(n, dtype=bool)
    positive = np.where(off, np.clip(cos, 0.0, None), 0.0)
    per_batch = positive.sum(axis=1) * (BATCH - 1) / (n - 1)  # expected sum over a batch's other clips
    nearest = np.where(off, cos, -np.inf).argmax(axis=1)
    rng = np.random.default_rng(seed)
    random_pick = rng.integers(0, n - 1, size=(n, 50))
    random_pick += random_pick >= np.arange(n)[:, None]  # any clip but itself
    return {
        "clips": n,
        "cos_sharing_a_source": float(cos[off & shared].mean()),
        "cos_sharing_none": float(cos[off & ~shared].mean()),
        "a2t_target_diagonal": float(np.mean(1.0 / (1.0 + SOFT_LABEL_ALPHA * per_batch))),
        "nearest_shares_a_source": 100.0 * float(shared[np.arange(n), nearest].mean()),
        "random_shares_a_source": 100.0 * float(shared[np.arange(n)[:, None], random_pick].mean()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("work_dir", type=Path)
    ap.add_argument("--teachers", nargs="+", default=["full", "sub"], help="names under <work_dir>/teacher/")
    args = ap.parse_args()
    w = args.work_dir
    truth = {t["ytid"]: t for t in map(json.loads, (w / "world/truth/clips.jsonl").read_text().splitlines())}
    for name in args.teachers:
        ids = pd.read_csv(w / f"teacher/{name}/audio.csv", dtype=str)["clip_id"].tolist()
        audio = np.load(w / f"teacher/{name}/audio.npy")
        keep = [i for i, c in enumerate(ids) if c.rsplit("_", 1)[0] in truth]
        sources = [frozenset(truth[ids[i].rsplit("_", 1)[0]]["labels"]) for i in keep]
        s = structure(audio[keep], sources)
        print(
            f"{name}: {s['clips']} clips; mean cosine {s['cos_sharing_a_source']:.3f} sharing a source, "
            f"{s['cos_sharing_none']:.3f} sharing none; A->T target diagonal at batch {BATCH}, alpha "
            f"{SOFT_LABEL_ALPHA}: {s['a2t_target_diagonal']:.3f}; nearest neighbour shares a source "
            f"{s['nearest_shares_a_source']:.1f} % (random neighbour {s['random_shares_a_source']:.1f} %)"
        )


if __name__ == "__main__":
    main()
