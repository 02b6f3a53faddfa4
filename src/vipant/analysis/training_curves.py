"""Per-epoch validation curves from the training logs (``history.json`` written by the training loop).

Figure 5 of vip-AnT plots VA retrieval quality per pretraining epoch for CLIP and random
initialisation; the numbers come from the validation the trainer already runs after every epoch, so the
figure costs no extra model evaluation and always matches the checkpoints it describes.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd

LABEL_SET_KEY = re.compile(r"^val_i2a_labelset_(?P<kind>P|R)@(?P<k>\d+)$")


class HistoryFileError(ValueError):
    """A history.json is missing, unreadable, or lacks the values a figure needs."""


def read_history(path: str | os.PathLike[str]) -> pd.DataFrame:
    """One row per epoch (``epoch`` 0-based, then every logged value), validated."""
    p = Path(path)
    if not p.is_file():
        raise HistoryFileError(f"history file not found: {p}")
    try:
        obj = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise HistoryFileError(f"{p}: cannot read history JSON: {exc}") from exc
    history = obj.get("history") if isinstance(obj, dict) else None
    if not isinstance(history, list) or not history:
        raise HistoryFileError(f"{p}: expected {{'history': [one object per epoch, ...]}} with at least one epoch")
    if not all(isinstance(r, dict) and "epoch" in r for r in history):
        raise HistoryFileError(f"{p}: every history entry must be an object with an 'epoch'")
    return pd.DataFrame(history).sort_values("epoch").reset_index(drop=True)


def label_set_curves(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Long table ``epoch, kind (P/R), k, value, chance`` of image→audio label-set precision/recall."""
    frame = read_history(path)
    rows = []
    for column in frame.columns:
        m = LABEL_SET_KEY.match(column)
        if not m:
            continue
        chance = frame.get(f"val_i2a_labelset_chance_{m['kind']}@{m['k']}")
        for i, epoch in enumerate(frame["epoch"]):
            rows.append(
                {
                    "epoch": int(epoch),
                    "kind": m["kind"],
                    "k": int(m["k"]),
                    "value": float(frame[column].iloc[i]),
                    "chance": float(chance.iloc[i]) if chance is not None else float("nan"),
                }
            )
    if not rows:
        raise HistoryFileError(
            f"{path}: no val_i2a_labelset_P@k / R@k values; it was written before label-set "
            "validation existed, so rerun its pretrain_va job"
        )
    return pd.DataFrame(rows).sort_values(["kind", "k", "epoch"]).reset_index(drop=True)
