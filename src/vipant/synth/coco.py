"""MSCOCO-like captioned images: ``coco/annotations_trainval2017.zip`` (captions JSON in COCO's
structure, five vision-register captions per image) and ``coco/{train,val}2017.zip`` (the JPEGs).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from vipant.synth.archives import write_zip
from vipant.synth.captions import vision_caption
from vipant.synth.config import WorldConfig
from vipant.synth.parallel import Mapper
from vipant.synth.render import DrawnObject, ImageSpec, place_boxes, render_image
from vipant.synth.seeding import rng_for, seed_for
from vipant.synth.sources import SCENE_BY_LABEL, SCENES, SOURCES

log = logging.getLogger(__name__)

SPLITS = ("train", "val")
ANNOTATIONS = "coco/annotations_trainval2017.zip"
_SIZES = ((320, 240), (240, 320), (320, 214), (320, 320))
_LICENSES = [
    {
        "url": "http://creativecommons.org/licenses/by-nc-sa/2.0/",
        "id": 1,
        "name": "Attribution-NonCommercial-ShareAlike License",
    },
    {"url": "http://creativecommons.org/licenses/by-nc/2.0/", "id": 2, "name": "Attribution-NonCommercial License"},
    {"url": "http://creativecommons.org/licenses/by/2.0/", "id": 4, "name": "Attribution License"},
    {"url": "http://creativecommons.org/licenses/by-sa/2.0/", "id": 5, "name": "Attribution-ShareAlike License"},
]


@dataclass(frozen=True)
class CocoImage:
    """One image with its captions."""

    split: str  # "train" or "val"
    image_id: int  # COCO image id
    file_name: str  # "000000xxxxxx.jpg"
    image: ImageSpec  # how to render it
    captions: tuple[tuple[int, str], ...]  # (annotation id, caption) x 5
    license: int  # license id
    date_captured: str  # "YYYY-MM-DD hh:mm:ss"


def random_objects(rng: np.random.Generator, width: int, height: int, max_objects: int = 3) -> tuple[DrawnObject, ...]:
    """1..``max_objects`` distinct sources' objects at random non-overlapping places."""
    p = np.array([0.4, 0.4, 0.2][:max_objects])
    k = int(rng.choice(np.arange(1, len(p) + 1), p=p / p.sum()))
    names = [SOURCES[int(i)].name for i in rng.choice(len(SOURCES), k, replace=False)]
    side = min(width, height) / height
    boxes = place_boxes(k, width, height, rng, size_range=(0.2 * side, 0.32 * side))
    return tuple(DrawnObject(n, b) for n, b in zip(names, boxes))


def plan(cfg: WorldConfig) -> tuple[CocoImage, ...]:
    """All images, train first."""
    rng = rng_for(cfg.seed, "coco")
    sizes = {"train": cfg.coco_train, "val": cfg.coco_val}
    total = sum(sizes.values())
    image_ids = iter(int(i) + 1 for i in rng.choice(581929, total, replace=False))
    ann_ids = iter(int(i) + 1 for i in rng.choice(830000, 5 * total, replace=False))
    out = []
    for split in SPLITS:
        for _ in range(sizes[split]):
            image_id = next(image_ids)
            width, height = _SIZES[int(rng.integers(len(_SIZES)))]
            scene = SCENES[int(rng.integers(len(SCENES)))].label
            objects = random_objects(rng, width, height)
            seen = [(o.source, o.bbox) for o in objects]
            captions: list[str] = []
            for _ in range(200):
                text = vision_caption(seen, SCENE_BY_LABEL[scene], rng, cfg.pattern_words)
                if text not in captions:
                    captions.append(text)
                if len(captions) == 5:
                    break
            while len(captions) < 5:
                captions.append(captions[len(captions) % len(captions)])
            spec = ImageSpec(width, height, scene, objects, seed_for(cfg.seed, "coco-media", image_id), cfg.textures)
            date = (
                f"2013-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d} "
                f"{int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}:{int(rng.integers(0, 60)):02d}"
            )
            out.append(
                CocoImage(
                    split,
                    image_id,
                    f"{image_id:012d}.jpg",
                    spec,
                    tuple((next(ann_ids), c) for c in captions),
                    _LICENSES[int(rng.integers(len(_LICENSES)))]["id"],
                    date,
                )
            )
    return tuple(out)


def captions_json(images: tuple[CocoImage, ...], split: str) -> dict[str, Any]:
    """``captions_{split}2017.json`` content."""
    chosen = [im for im in images if im.split == split]
    return {
        "info": {
            "description": "COCO 2017 Dataset (vipant synthetic world)",
            "url": "http://cocodataset.org",
            "version": "1.0",
            "year": 2017,
            "contributor": "COCO Consortium",
            "date_created": "2017/09/01",
        },
        "licenses": _LICENSES,
        "images": [
            {
                "license": im.license,
                "file_name": im.file_name,
                "coco_url": f"http://images.cocodataset.org/{split}2017/{im.file_name}",
                "height": im.image.height,
                "width": im.image.width,
                "date_captured": im.date_captured,
                "flickr_url": f"http://farm{im.image_id % 9 + 1}.staticflickr.com/{im.image_id % 9000}/"
                f"{im.image_id}_z.jpg",
                "id": im.image_id,
            }
            for im in chosen
        ],
        "annotations": [{"image_id": im.image_id, "id": aid, "caption": c} for im in chosen for aid, c in im.captions],
    }


def metadata(images: tuple[CocoImage, ...]) -> dict[str, str]:
    """Both captions JSON files (as members of the annotations zip)."""
    return {
        f"{ANNOTATIONS}!annotations/captions_{s}2017.json": json.dumps(captions_json(images, s), separators=(",", ":"))
        for s in SPLITS
    }


def write(images: tuple[CocoImage, ...], out_dir: Path, mapper: Mapper, meta: dict[str, str]) -> None:
    """Write the annotations zip and one image zip per split."""
    write_zip(
        out_dir / ANNOTATIONS,
        [(k.split("!", 1)[1], v.encode()) for k, v in meta.items() if k.startswith(f"{ANNOTATIONS}!")],
    )
    for split in SPLITS:
        chosen = [im for im in images if im.split == split]

        def members(chosen: list[CocoImage] = chosen, split: str = split) -> Iterator[tuple[str, bytes]]:
            for im, data in zip(chosen, mapper(render_image, [im.image for im in chosen])):
                yield f"{split}2017/{im.file_name}", data

        n = write_zip(out_dir / f"coco/{split}2017.zip", members())
        log.info("COCO %s: %d images", split, n)
