"""UrbanSound8K-like set: ``us8k/UrbanSound8K.tar.gz`` with ``metadata/UrbanSound8K.csv`` and
``audio/fold{1..10}/`` slices of at most 4 s, at varied sample rates, channel counts and bit depths.

Slices ``{fsID}-{classID}-{occurrence}-{slice}.wav`` are consecutive cuts of one (imaginary)
Freesound recording ``fsID``, which lies in one fold. Salience 1 = foreground, 2 = background.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from vipant.synth.archives import write_tar_gz
from vipant.synth.audio import EventSound, WavSpec, render_wav
from vipant.synth.config import WorldConfig
from vipant.synth.parallel import Mapper
from vipant.synth.seeding import rng_for, seed_for
from vipant.synth.sources import US8K_CLASSES
from vipant.synth.tables import csv_text

log = logging.getLogger(__name__)

ROOT = "UrbanSound8K"
COLUMNS = ("slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class")
_RATES = (44100, 48000, 22050, 16000, 96000, 11025)
_RATE_P = (0.45, 0.25, 0.1, 0.08, 0.07, 0.05)


@dataclass(frozen=True)
class Slice:
    """One UrbanSound8K slice: its metadata row and audio."""

    name: str  # slice file name
    fs_id: int  # Freesound id of the recording
    start: float  # start inside the recording (s)
    end: float  # end inside the recording (s)
    salience: int  # 1 foreground, 2 background
    fold: int  # 1..10
    class_id: int  # 0..9
    label: str  # class name
    wav: WavSpec  # how to render it


def plan(cfg: WorldConfig) -> tuple[Slice, ...]:
    """All slices, sorted by file name."""
    rng = rng_for(cfg.seed, "us8k")
    fs_ids = iter(int(i) for i in rng.choice(range(1000, 200000), 10 * max(cfg.us8k_clips_per_class, 1), replace=False))
    slices = []
    recording = 0
    for class_id, (label, src) in enumerate(US8K_CLASSES):
        made = 0
        while made < cfg.us8k_clips_per_class:
            fs_id = next(fs_ids)
            fold = (recording + class_id) % 10 + 1
            recording += 1
            n = min(int(rng.integers(1, 5)), cfg.us8k_clips_per_class - made)
            offset = round(rng.uniform(0.0, 30.0), 6)
            salience = 1 if rng.random() < 0.65 else 2
            sample_rate = int(rng.choice(_RATES, p=_RATE_P))
            channels = 1 if rng.random() < 0.35 else 2
            subtype = "PCM_24" if rng.random() < 0.2 else "PCM_16"
            for k in range(n):
                dur = 4.0 if rng.random() < 0.6 else round(rng.uniform(1.0, 4.0), 6)
                start = round(offset + 4.0 * k, 6)
                name = f"{fs_id}-{class_id}-0-{k}.wav"
                onset = round(rng.uniform(0.0, min(0.3, dur / 4)), 3)
                wav = WavSpec(
                    dur,
                    sample_rate,
                    channels,
                    (EventSound(src, onset, dur),),
                    "pink",
                    -26.0 if salience == 1 else -8.0,
                    seed_for(cfg.seed, "us8k-media", name),
                    subtype=subtype,
                    gain_db_range=(-6.0, 0.0) if salience == 1 else (-12.0, -6.0),
                )
                slices.append(Slice(name, fs_id, start, round(start + dur, 6), salience, fold, class_id, label, wav))
            made += n
    return tuple(sorted(slices, key=lambda s: s.name))


def metadata(slices: tuple[Slice, ...]) -> dict[str, str]:
    """``metadata/UrbanSound8K.csv`` (as an archive member)."""
    rows = [(s.name, s.fs_id, s.start, s.end, s.salience, s.fold, s.class_id, s.label) for s in slices]
    return {f"us8k/UrbanSound8K.tar.gz!{ROOT}/metadata/UrbanSound8K.csv": csv_text(COLUMNS, rows)}


def write(slices: tuple[Slice, ...], out_dir: Path, mapper: Mapper, meta: dict[str, str]) -> None:
    """Write ``us8k/UrbanSound8K.tar.gz``."""
    key = f"us8k/UrbanSound8K.tar.gz!{ROOT}/metadata/UrbanSound8K.csv"

    def members() -> Iterator[tuple[str, bytes]]:
        yield f"{ROOT}/metadata/UrbanSound8K.csv", meta[key].encode()
        for s, data in zip(slices, mapper(render_wav, [s.wav for s in slices])):
            yield f"{ROOT}/audio/fold{s.fold}/{s.name}", data

    n = write_tar_gz(out_dir / "us8k/UrbanSound8K.tar.gz", members())
    log.info("UrbanSound8K: %d files", n)
