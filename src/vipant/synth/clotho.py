"""Clotho-like out-of-domain clips: captions CSVs and zipped 44.1 kHz mono wav files of 15-30 s.

Clips are longer than AudioSet segments and rendered with other synthesis parameters (shifted pitch,
other tempo, reverb, louder noise: :data:`vipant.synth.audio.OUT_OF_DOMAIN`). File names are free
text with spaces like real Clotho ("Church bell far away 03.wav"); each file has five captions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from vipant.synth.archives import write_zip
from vipant.synth.audio import EventSound, WavSpec, render_wav
from vipant.synth.captions import audio_caption
from vipant.synth.config import WorldConfig
from vipant.synth.parallel import Mapper
from vipant.synth.seeding import rng_for, seed_for
from vipant.synth.sources import SCENES, SOURCES
from vipant.synth.tables import csv_text

log = logging.getLogger(__name__)

SPLITS = ("development", "evaluation")
COLUMNS = ("file_name", "caption_1", "caption_2", "caption_3", "caption_4", "caption_5")
SAMPLE_RATE = 44100
_CONTEXTS = (
    "in the rain",
    "at night",
    "close up",
    "outside",
    "ambience",
    "recording",
    "far away",
    "early morning",
    "loop",
    "field recording",
    "indoors",
    "in the city",
    "from the balcony",
)


@dataclass(frozen=True)
class ClothoItem:
    """One Clotho file: its name, audio and captions."""

    split: str  # "development" or "evaluation"
    file_name: str  # wav file name (free text)
    wav: WavSpec  # how to render it
    captions: tuple[str, ...]  # five captions


def plan(cfg: WorldConfig) -> tuple[ClothoItem, ...]:
    """All Clotho files, development first."""
    rng = rng_for(cfg.seed, "clotho")
    sizes = {"development": cfg.clotho_development, "evaluation": cfg.clotho_evaluation}
    names = [s.name for s in SOURCES]
    primaries = [names[i] for _ in range(sum(sizes.values()) // len(names) + 1) for i in rng.permutation(len(names))]
    used: set[str] = set()
    items = []
    k = 0
    for split in SPLITS:
        for _ in range(sizes[split]):
            primary = primaries[k]
            k += 1
            duration = round(rng.uniform(cfg.clotho_min_seconds, cfg.clotho_max_seconds), 2)
            n_events = int(rng.integers(1, 4))
            others = [n for n in names if n != primary]
            chosen = [primary] + [others[i] for i in rng.choice(len(others), n_events - 1, replace=False)]
            events = []
            for name in chosen:
                dur = round(rng.uniform(4.0, min(14.0, duration)), 3)
                onset = round(rng.uniform(0.0, duration - dur), 3)
                events.append(EventSound(name, onset, round(onset + dur, 3)))
            scene = SCENES[int(rng.integers(len(SCENES)))]
            timed = [(e.source, e.onset, e.offset) for e in events]
            captions: list[str] = []
            for _ in range(250):
                text = audio_caption(timed, rng, style="clotho", scene=scene)
                if text not in captions:
                    captions.append(text)
                if len(captions) == 5:
                    break
            while len(captions) < 5:
                captions.append(captions[len(captions) % len(captions)])
            what = next(s.esc50 for s in SOURCES if s.name == primary).replace("_", " ")
            sep = ", " if rng.random() < 0.1 else " "  # a few real names hold commas
            base = f"{what.capitalize()}{sep}{_CONTEXTS[int(rng.integers(len(_CONTEXTS)))]}"
            number = 1
            while f"{base} {number:02d}.wav" in used:
                number += 1
            file_name = f"{base} {number:02d}.wav"
            used.add(file_name)
            wav = WavSpec(
                duration,
                SAMPLE_RATE,
                1,
                tuple(events),
                scene.noise_colour,
                scene.noise_db,
                seed_for(cfg.seed, "clotho-media", file_name),
                out_of_domain=True,
            )
            items.append(ClothoItem(split, file_name, wav, tuple(captions)))
    return tuple(items)


def metadata(items: tuple[ClothoItem, ...]) -> dict[str, str]:
    """The two captions CSVs."""
    return {
        f"clotho/clotho_captions_{split}.csv": csv_text(
            COLUMNS, [(it.file_name, *it.captions) for it in items if it.split == split]
        )
        for split in SPLITS
    }


def write(items: tuple[ClothoItem, ...], out_dir: Path, mapper: Mapper) -> None:
    """Write the CSVs' audio as ``clotho/clotho_audio_{split}.zip`` (members ``{split}/<file_name>``)."""
    for split in SPLITS:
        chosen = [it for it in items if it.split == split]

        def members(chosen: list[ClothoItem] = chosen, split: str = split) -> Iterator[tuple[str, bytes]]:
            for it, data in zip(chosen, mapper(render_wav, [it.wav for it in chosen])):
                yield f"{split}/{it.file_name}", data

        n = write_zip(out_dir / f"clotho/clotho_audio_{split}.zip", members())
        log.info("Clotho %s: %d wav files", split, n)
