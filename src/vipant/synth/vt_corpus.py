"""The image-caption corpus the synthetic preset trains its small CLIP on: ``vt_corpus/images/*.jpg``
and ``vt_corpus/{train,val}.csv`` in open_clip's CSV format (tab-separated ``filepath``, ``title``;
paths relative to ``vt_corpus/``). Captions are web alt-text mixing the vision and audio registers.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from vipant.atomic import write_bytes
from vipant.synth.captions import web_caption
from vipant.synth.coco import random_objects
from vipant.synth.config import WorldConfig
from vipant.synth.parallel import Mapper
from vipant.synth.render import ImageSpec, render_image
from vipant.synth.seeding import rng_for, seed_for
from vipant.synth.sources import SCENE_BY_LABEL, SCENES
from vipant.synth.tables import csv_text

log = logging.getLogger(__name__)

COLUMNS = ("filepath", "title")


@dataclass(frozen=True)
class Pair:
    """One image-caption pair."""

    filepath: str  # "images/000123.jpg", relative to vt_corpus/
    title: str  # caption
    split: str  # "train" or "val"
    image: ImageSpec  # how to render it


def plan(cfg: WorldConfig) -> tuple[Pair, ...]:
    """All pairs, in file order."""
    rng = rng_for(cfg.seed, "vt_corpus")
    n_val = max(1, round(cfg.vt_pairs * cfg.vt_val_fraction)) if cfg.vt_pairs > 1 else 0
    val = {int(i) for i in rng.choice(cfg.vt_pairs, n_val, replace=False)} if n_val else set()
    size = cfg.vt_image_size
    out = []
    for i in range(cfg.vt_pairs):
        scene = SCENES[int(rng.integers(len(SCENES)))].label
        objects = random_objects(rng, size, size)
        title = web_caption([(o.source, o.bbox) for o in objects], SCENE_BY_LABEL[scene], rng, cfg.pattern_words)
        spec = ImageSpec(size, size, scene, objects, seed_for(cfg.seed, "vt-media", i), cfg.textures)
        out.append(Pair(f"images/{i:06d}.jpg", title, "val" if i in val else "train", spec))
    return tuple(out)


def metadata(pairs: tuple[Pair, ...]) -> dict[str, str]:
    """``train.csv`` and ``val.csv``, and ``style.json``: whether the images are textured, which the VT's
    naming probe renders its own images by."""
    out = {
        f"vt_corpus/{s}.csv": csv_text(COLUMNS, [(p.filepath, p.title) for p in pairs if p.split == s], delimiter="\t")
        for s in ("train", "val")
    }
    out["vt_corpus/style.json"] = json.dumps({"textured": any(p.image.textured for p in pairs)}) + "\n"
    return out


def write(pairs: tuple[Pair, ...], out_dir: Path, mapper: Mapper) -> None:
    """Write the images."""
    for p, data in zip(pairs, mapper(render_image, [p.image for p in pairs])):
        write_bytes(out_dir / "vt_corpus" / p.filepath, data)
    log.info("VT corpus: %d images", len(pairs))
