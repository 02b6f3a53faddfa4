"""AudioCaps-like captions of AudioSet clips: ``audiocaps/{train,val,test}.csv``.

Train clips (from the AudioSet train segments) get one caption, val/test clips (from the eval
segments) five distinct ones, each row with its own ``audiocap_id``. Captions describe the sources
sounding in the segment, in onset order, in the audio-focused register.
"""

from __future__ import annotations

import logging
from typing import Sequence

from vipant.synth.audioset import Clip
from vipant.synth.captions import audio_caption
from vipant.synth.config import WorldConfig
from vipant.synth.seeding import rng_for
from vipant.synth.sources import SCENE_BY_LABEL
from vipant.synth.tables import csv_text

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
COLUMNS = ("audiocap_id", "youtube_id", "start_time", "caption")


def rows(cfg: WorldConfig, clips: Sequence[Clip]) -> dict[str, list[tuple[int, str, int, str]]]:
    """``{split: [(audiocap_id, youtube_id, start_time, caption), ...]}``."""
    rng = rng_for(cfg.seed, "audiocaps")
    chosen = {s: [c for c in clips if c.audiocaps == s] for s in SPLITS}
    n_rows = len(chosen["train"]) + 5 * (len(chosen["val"]) + len(chosen["test"]))
    ids = iter(int(i) + 1 for i in rng.choice(max(10 * n_rows, 1000), n_rows, replace=False))
    out: dict[str, list[tuple[int, str, int, str]]] = {}
    for split in SPLITS:
        per_clip = 1 if split == "train" else 5
        table = []
        for c in chosen[split]:
            if c.start != int(c.start):
                raise AssertionError(f"AudioCaps clip {c.ytid} has a fractional start {c.start}")
            events = [(e.source, e.onset, e.offset) for e in c.events]
            scene = SCENE_BY_LABEL[c.scene]
            captions: list[str] = []
            for _ in range(50 * per_clip):
                text = audio_caption(events, rng, style="audiocaps", scene=scene)
                if text not in captions:
                    captions.append(text)
                if len(captions) == per_clip:
                    break
            while len(captions) < per_clip:  # a one-phrase source may run out of distinct wordings
                captions.append(captions[len(captions) % len(captions)])
            table += [(next(ids), c.ytid, int(c.start), text) for text in captions]
        out[split] = table
    return out


def metadata(cfg: WorldConfig, clips: Sequence[Clip]) -> dict[str, str]:
    """The three AudioCaps CSVs, by path relative to the world folder."""
    tables = rows(cfg, clips)
    log.info("AudioCaps: %s rows", {s: len(t) for s, t in tables.items()})
    return {f"audiocaps/{s}.csv": csv_text(COLUMNS, tables[s]) for s in SPLITS}
