"""Design probe of the synthetic world: are the sources seen often enough to be learnt from audio?

A supervised linear probe (one-vs-rest logistic regression) on pooled FBANK (per-bin mean and standard
deviation over each clip's real frames, padding excluded) with the ground-truth source labels, trained on
the VA training clips and scored on the AudioSet eval clips: mAP over sources and top-1 precision (the
top-scored source sounds in the clip), each beside its chance level, and how many training clips each
source sounds in. It reads a built work dir (world truth + FBANK) and sees no model and no test table.

    python tools/probe_sources.py data/synthetic
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.preprocessing import StandardScaler

from vipant.features.store import FbankStore


def pooled(store: FbankStore, clip_ids: list[str]) -> np.ndarray:
    """``[N, 256]``: per-bin mean and std over each clip's real (unpadded) frames."""
    out = []
    for cid in clip_ids:
        x = np.asarray(store.raw(cid)[: store.n_frames(cid)], dtype=np.float32)
        out.append(np.concatenate([x.mean(0), x.std(0)]))
    return np.stack(out)


def world_truth(work_dir: Path) -> tuple[dict[str, dict], list[str]]:
    """The built world's per-video truth (by YouTube id) and its sources' MIDs in catalogue order."""
    truth_dir = work_dir / "world/truth"
    truth = {t["ytid"]: t for t in map(json.loads, (truth_dir / "clips.jsonl").read_text().splitlines())}
    return truth, [s["mid"] for s in json.loads((truth_dir / "sources.json").read_text())]


def labels(truth: dict[str, dict], clip_ids: list[str], mids: list[str]) -> np.ndarray:
    """Multi-hot ``[N, sources]`` of the sources sounding inside each clip's segment."""
    y = np.zeros((len(clip_ids), len(mids)), dtype=np.int64)
    col = {m: i for i, m in enumerate(mids)}
    for r, cid in enumerate(clip_ids):
        for m in truth[cid.rsplit("_", 1)[0]]["labels"]:
            y[r, col[m]] = 1
    return y


def _decisions(x_fit: np.ndarray, y_fit: np.ndarray, x_score: np.ndarray) -> np.ndarray:
    """``[len(x_score), sources]``: one-vs-rest logistic regressions on standardised features, fitted on
    ``x_fit`` / ``y_fit`` (scaler included); a source absent (or everywhere) in ``y_fit`` scores 0."""
    scaler = StandardScaler().fit(x_fit)
    x_fit, x_score = scaler.transform(x_fit), scaler.transform(x_score)
    scores = np.zeros((len(x_score), y_fit.shape[1]))
    for j in range(y_fit.shape[1]):
        if 0 < y_fit[:, j].sum() < len(y_fit):
            scores[:, j] = LogisticRegression(C=1.0, max_iter=2000).fit(x_fit, y_fit[:, j]).decision_function(x_score)
    return scores


def source_probe(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> dict:
    """One-vs-rest logistic regression on standardised features, row i of ``x`` being clip i of ``y``
    (multi-hot sources): mAP over the test's present sources and top-1 precision, each beside its chance."""
    return _scores(y_test, _decisions(x_train, y_train, x_test))


def cross_validated_probe(x: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0) -> dict:
    """:func:`source_probe` scored on every clip of ``x`` / ``y`` from out-of-fold predictions: each fold's
    classifiers (and scaler) are fitted on the other folds only, so no evaluation set is needed and no
    clip is scored by a model that saw it."""
    order = np.random.default_rng(seed).permutation(len(x))
    scores = np.zeros(y.shape)
    for part in np.array_split(order, folds):
        fit = np.setdiff1d(order, part)
        scores[part] = _decisions(x[fit], y[fit], x[part])
    return _scores(y, scores)


def _scores(y_test: np.ndarray, scores: np.ndarray) -> dict:
    present = y_test.sum(0) > 0
    ap_per = [average_precision_score(y_test[:, j], scores[:, j]) for j in np.flatnonzero(present)]
    top1 = y_test[np.arange(len(y_test)), scores.argmax(1)].mean()
    return {
        "mAP": float(100 * np.mean(ap_per)),
        "chance_mAP": float(100 * y_test[:, present].mean(0).mean()),
        "top1_precision": float(100 * top1),
        "chance_top1": float(100 * y_test.sum(1).mean() / y_test.shape[1]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("work_dir", type=Path)
    args = ap.parse_args()
    w = args.work_dir
    truth, mids = world_truth(w)
    store = FbankStore(w / "fbank/audioset/index.csv")
    train = [c for c in pd.read_csv(w / "meta/va_train.csv")["clip_id"] if c in store]
    test = [c for c in pd.read_csv(w / "meta/audioset_eval.csv")["clip_id"] if c in store]
    x_train, x_test = pooled(store, train), pooled(store, test)
    y_train, y_test = labels(truth, train, mids), labels(truth, test, mids)
    scores = source_probe(x_train, y_train, x_test, y_test)
    per_source = y_train.sum(0)
    print(
        json.dumps(
            {
                "train_clips": len(train),
                "test_clips": len(test),
                "train_clips_per_source": {
                    "mean": float(per_source.mean()),
                    "min": int(per_source.min()),
                    "median": float(np.median(per_source)),
                },
                **scores,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
