"""ESC-50-like classification set: ``esc50/ESC-50-master.zip`` with ``meta/esc50.csv`` and 5 s wavs.

File names are ``{fold}-{src_file}-{take}-{target}.wav``; clips cut from the same source file share
its fold (extra takes B, C...), as in the real set; ``esc10`` marks the ten ESC-10 classes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from vipant.synth.archives import write_zip
from vipant.synth.audio import EventSound, WavSpec, render_wav
from vipant.synth.config import WorldConfig
from vipant.synth.parallel import Mapper
from vipant.synth.seeding import rng_for, seed_for
from vipant.synth.sources import ESC10, esc50_sources
from vipant.synth.tables import csv_text

log = logging.getLogger(__name__)

ROOT = "ESC-50-master"
COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")
SAMPLE_RATE = 44100
DURATION = 5.0


@dataclass(frozen=True)
class EscClip:
    """One ESC-50 clip: its metadata row and audio."""

    filename: str  # "{fold}-{src_file}-{take}-{target}.wav"
    fold: int  # 1..5
    target: int  # class index
    category: str  # class name, lower_snake_case
    src_file: int  # id of the (imaginary) Freesound recording
    take: str  # "A", "B", ...
    wav: WavSpec  # how to render it


def plan(cfg: WorldConfig) -> tuple[EscClip, ...]:
    """All clips, sorted by file name like the real CSV."""
    rng = rng_for(cfg.seed, "esc50")
    classes = esc50_sources(cfg.esc50_classes)
    n_src = len(classes) * cfg.esc50_clips_per_class
    src_ids = iter(int(i) for i in rng.choice(range(1000, 300000), max(n_src, 1), replace=False))
    clips = []
    for target, src in enumerate(classes):
        firsts: list[int] = []
        for j in range(cfg.esc50_clips_per_class):
            fold = j % 5 + 1
            if j < 5:
                src_file, take = next(src_ids), "A"
                firsts.append(src_file)
            else:
                src_file, take = firsts[j % 5], "ABCDEFGHIJ"[min(j // 5, 9)]
            filename = f"{fold}-{src_file}-{take}-{target}.wav"
            dur = round(rng.uniform(1.5, DURATION), 3)
            onset = round(rng.uniform(0.0, DURATION - dur), 3)
            wav = WavSpec(
                DURATION,
                SAMPLE_RATE,
                1,
                (EventSound(src.name, onset, onset + dur),),
                "white",
                -36.0,
                seed_for(cfg.seed, "esc50-media", filename),
            )
            clips.append(EscClip(filename, fold, target, src.esc50, src_file, take, wav))
    return tuple(sorted(clips, key=lambda c: c.filename))


def metadata(clips: tuple[EscClip, ...]) -> dict[str, str]:
    """``meta/esc50.csv`` (as an archive member)."""
    rows = [(c.filename, c.fold, c.target, c.category, str(c.category in ESC10), c.src_file, c.take) for c in clips]
    return {f"esc50/ESC-50-master.zip!{ROOT}/meta/esc50.csv": csv_text(COLUMNS, rows)}


def write(clips: tuple[EscClip, ...], out_dir: Path, mapper: Mapper, meta: dict[str, str]) -> None:
    """Write ``esc50/ESC-50-master.zip``."""

    def members() -> Iterator[tuple[str, bytes]]:
        yield f"{ROOT}/meta/esc50.csv", meta[f"esc50/ESC-50-master.zip!{ROOT}/meta/esc50.csv"].encode()
        for c, data in zip(clips, mapper(render_wav, [c.wav for c in clips])):
            yield f"{ROOT}/audio/{c.filename}", data

    n = write_zip(out_dir / "esc50/ESC-50-master.zip", members())
    log.info("ESC-50: %d files", n)
