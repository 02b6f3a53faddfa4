"""Ground truth of the tiny world for the workflow tests: which captions name a clip's true source."""

import json
import re
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest


def _phrases(name: str) -> list[str]:
    """The phrases that name a source in captions: its audio-register clauses and gerunds, and its
    vision noun as a whole word (COCO-like captions say "a red dog standing ...")."""
    from vipant.synth.sources import source

    src = source(name)
    return [p.lower() for p in (*src.clauses, *src.gerunds)] + [rf"\b{re.escape(src.noun.lower())}\b"]


@pytest.fixture(scope="session")
def names_true_source() -> Callable[[Path, pd.DataFrame], np.ndarray]:
    """``names_true_source(run, pairs)``: per pair (``clip_id``, ``text``), whether the caption names one
    of the sources that sound in the clip according to the world's truth file."""

    def check(run: Path, pairs: pd.DataFrame) -> np.ndarray:
        truth_file = run / "data" / "synthetic" / "world" / "truth" / "clips.jsonl"
        sounding = {
            t["ytid"]: {e["source"] for e in t["events"]} for t in map(json.loads, truth_file.read_text().splitlines())
        }
        patterns: dict[str, re.Pattern] = {}
        out = []
        for clip_id, text in zip(pairs["clip_id"], pairs["text"]):
            names = sounding[clip_id.rsplit("_", 1)[0]]
            for n in names:
                if n not in patterns:
                    patterns[n] = re.compile("|".join(p if p.startswith(r"\b") else re.escape(p) for p in _phrases(n)))
            out.append(any(patterns[n].search(text.lower()) for n in names))
        return np.array(out, dtype=bool)

    return check
