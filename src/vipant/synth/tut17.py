"""TUT Acoustic Scenes 2017 (development)-like set: one zip holding ``meta.txt``,
``evaluation_setup/fold{1..4}_{train,evaluate,test}.txt`` and ``audio/*.wav`` (10 s, 44.1 kHz stereo).

A scene is a mixture of its weighted sources over its background noise. Each recording gives
consecutive 10 s segments ``{recording}_{start}_{end}.wav``; a recording sits in one test fold.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from vipant.synth.archives import write_zip
from vipant.synth.audio import EventSound, WavSpec, render_wav
from vipant.synth.config import WorldConfig
from vipant.synth.parallel import Mapper
from vipant.synth.seeding import rng_for, seed_for
from vipant.synth.sources import SCENES
from vipant.synth.tables import csv_text

log = logging.getLogger(__name__)

ROOT = "TUT-acoustic-scenes-2017-development"
ARCHIVE = "tut17/TUT-acoustic-scenes-2017-development.zip"
SAMPLE_RATE = 44100
SEGMENT = 10.0
FOLDS = (1, 2, 3, 4)


@dataclass(frozen=True)
class Segment:
    """One 10 s segment of a scene recording."""

    file: str  # "audio/{recording}_{start}_{end}.wav"
    scene: str  # scene label
    recording: str  # recording id ("a012")
    fold: int  # the fold whose test set holds this recording
    wav: WavSpec  # how to render it


def plan(cfg: WorldConfig) -> tuple[Segment, ...]:
    """All segments, sorted by file."""
    rng = rng_for(cfg.seed, "tut17")
    scenes = SCENES[: min(cfg.tut17_scenes, len(SCENES))]
    per_rec = cfg.tut17_segments_per_recording
    n_recs = math.ceil(cfg.tut17_segments_per_scene / per_rec)
    numbers = iter(int(i) + 1 for i in rng.choice(999, len(scenes) * n_recs, replace=False))
    out = []
    for scene in scenes:
        names = [n for n, _ in scene.sources]
        weights = np.array([w for _, w in scene.sources], dtype=float)
        folds = [FOLDS[i % 4] for i in rng.permutation(n_recs)]
        left = cfg.tut17_segments_per_scene
        for r in range(n_recs):
            rec = f"{'ab'[int(rng.integers(2))]}{next(numbers):03d}"
            first = 10 * int(rng.integers(0, 30))
            for j in range(min(per_rec, left)):
                start = first + 10 * j
                file = f"audio/{rec}_{start}_{start + 10}.wav"
                events = []
                for _ in range(int(rng.integers(3, 7))):
                    name = names[int(rng.choice(len(names), p=weights / weights.sum()))]
                    dur = round(rng.uniform(1.0, 6.0), 3)
                    onset = round(rng.uniform(0.0, SEGMENT - dur), 3)
                    events.append(EventSound(name, onset, round(onset + dur, 3)))
                wav = WavSpec(
                    SEGMENT,
                    SAMPLE_RATE,
                    2,
                    tuple(events),
                    scene.noise_colour,
                    scene.noise_db + 6.0,
                    seed_for(cfg.seed, "tut17-media", file),
                )
                out.append(Segment(file, scene.label, rec, folds[r], wav))
            left -= min(per_rec, left)
    return tuple(sorted(out, key=lambda s: s.file))


def metadata(segments: tuple[Segment, ...]) -> dict[str, str]:
    """``meta.txt`` and the fold lists (as archive members)."""
    files = {
        f"{ARCHIVE}!{ROOT}/meta.txt": csv_text(None, [(s.file, s.scene, s.recording) for s in segments], delimiter="\t")
    }
    for k in FOLDS:
        setup = f"{ARCHIVE}!{ROOT}/evaluation_setup/fold{k}"
        train = [(s.file, s.scene) for s in segments if s.fold != k]
        held_out = [(s.file, s.scene) for s in segments if s.fold == k]
        files[f"{setup}_train.txt"] = csv_text(None, train, delimiter="\t")
        files[f"{setup}_evaluate.txt"] = csv_text(None, held_out, delimiter="\t")
        files[f"{setup}_test.txt"] = csv_text(None, [(s.file,) for s in segments if s.fold == k], delimiter="\t")
    return files


def write(segments: tuple[Segment, ...], out_dir: Path, mapper: Mapper, meta: dict[str, str]) -> None:
    """Write the development zip."""

    def members() -> Iterator[tuple[str, bytes]]:
        for key, text in meta.items():
            if key.startswith(f"{ARCHIVE}!"):
                yield key.split("!", 1)[1], text.encode()
        for s, data in zip(segments, mapper(render_wav, [s.wav for s in segments])):
            yield f"{ROOT}/{s.file}", data

    n = write_zip(out_dir / ARCHIVE, members())
    log.info("TUT17: %d files", n)
