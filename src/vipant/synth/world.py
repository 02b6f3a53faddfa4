"""Build the whole synthetic world: plan it (pure, from the config), then write metadata and media.

Layout under ``out_dir`` (every file written atomically)::

    web/videos/{ytid}.mp4                    AudioSet-like YouTube videos (some missing / defective)
    audioset/{balanced_train,unbalanced_train,eval}_segments.csv, class_labels_indices.csv, ontology.json
    audiocaps/{train,val,test}.csv
    clotho/clotho_captions_{development,evaluation}.csv, clotho_audio_{development,evaluation}.zip
    esc50/ESC-50-master.zip
    us8k/UrbanSound8K.tar.gz
    tut17/TUT-acoustic-scenes-2017-development.zip
    coco/annotations_trainval2017.zip, train2017.zip, val2017.zip
    vt_corpus/images/*.jpg, train.csv, val.csv
    truth/sources.json, truth/clips.jsonl
    world.json                               the config used; written last, so it marks a finished world

Planning draws every random choice; media tasks are pure functions of their plan entries, so the
world does not depend on ``jobs``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from vipant.atomic import write_text
from vipant.synth import audiocaps, audioset, clotho, coco, esc50, tut17, us8k, vt_corpus
from vipant.synth.config import WorldConfig
from vipant.synth.parallel import mapper
from vipant.synth.tables import json_text

log = logging.getLogger(__name__)

MARKER = "world.json"


@dataclass(frozen=True)
class WorldPlan:
    """Every decision about the world, before any media is rendered."""

    cfg: WorldConfig  # the configuration planned from
    clips: tuple[audioset.Clip, ...]  # AudioSet clips (and their videos)
    clotho: tuple[clotho.ClothoItem, ...]  # Clotho files
    esc50: tuple[esc50.EscClip, ...]  # ESC-50 clips
    us8k: tuple[us8k.Slice, ...]  # UrbanSound8K slices
    tut17: tuple[tut17.Segment, ...]  # TUT17 segments
    coco: tuple[coco.CocoImage, ...]  # MSCOCO images
    vt: tuple[vt_corpus.Pair, ...]  # VT corpus pairs


def plan_world(cfg: WorldConfig) -> WorldPlan:
    """Plan the world (no file is written)."""
    return WorldPlan(
        cfg=cfg,
        clips=audioset.plan(cfg),
        clotho=clotho.plan(cfg),
        esc50=esc50.plan(cfg),
        us8k=us8k.plan(cfg),
        tut17=tut17.plan(cfg),
        coco=coco.plan(cfg),
        vt=vt_corpus.plan(cfg),
    )


def metadata_files(plan: WorldPlan) -> dict[str, str]:
    """Every metadata / truth text of the world by relative path; ``archive!member`` for archive members."""
    files: dict[str, str] = {}
    files.update(audioset.metadata(plan.clips))
    files.update(audiocaps.metadata(plan.cfg, plan.clips))
    files.update(clotho.metadata(plan.clotho))
    files.update(esc50.metadata(plan.esc50))
    files.update(us8k.metadata(plan.us8k))
    files.update(tut17.metadata(plan.tut17))
    files.update(coco.metadata(plan.coco))
    files.update(vt_corpus.metadata(plan.vt))
    return files


def _remove_stale(folder: Path, keep: set[str]) -> None:
    """Delete files of an earlier build (another config, or temporaries of a killed run) from ``folder``."""
    if not folder.is_dir():
        return
    stale = [p for p in folder.iterdir() if p.is_file() and p.name not in keep]
    for p in stale:
        p.unlink()
    if stale:
        log.info("removed %d stale file(s) from %s", len(stale), folder)


def build_world(cfg: WorldConfig, out_dir: Path, jobs: int = 1) -> None:
    """Generate the world described by ``cfg`` under ``out_dir`` using ``jobs`` processes."""
    out_dir = Path(out_dir)
    t0 = time.monotonic()
    (out_dir / MARKER).unlink(missing_ok=True)  # an interrupted rebuild must not look finished
    plan = plan_world(cfg)
    meta = metadata_files(plan)
    for rel, text in meta.items():
        if "!" not in rel:
            write_text(out_dir / rel, text)
    log.info("metadata written (%d files) in %.1f s", sum("!" not in k for k in meta), time.monotonic() - t0)
    videos = out_dir / "web" / "videos"
    videos.mkdir(parents=True, exist_ok=True)
    _remove_stale(videos, {f"{c.ytid}.mp4" for c in plan.clips if c.defect != "missing"})
    _remove_stale(out_dir / "vt_corpus" / "images", {Path(p.filepath).name for p in plan.vt})
    with mapper(jobs) as run:
        t = time.monotonic()
        for k, _ in enumerate(run(audioset.render_clip, [(c, str(videos)) for c in plan.clips]), 1):
            if k % 100 == 0:
                log.info("AudioSet videos: %d / %d", k, len(plan.clips))
        log.info("%d AudioSet videos in %.1f s", sum(c.defect != "missing" for c in plan.clips), time.monotonic() - t)
        for name, step in (
            ("Clotho", lambda: clotho.write(plan.clotho, out_dir, run)),
            ("ESC-50", lambda: esc50.write(plan.esc50, out_dir, run, meta)),
            ("UrbanSound8K", lambda: us8k.write(plan.us8k, out_dir, run, meta)),
            ("TUT17", lambda: tut17.write(plan.tut17, out_dir, run, meta)),
            ("COCO", lambda: coco.write(plan.coco, out_dir, run, meta)),
            ("VT corpus", lambda: vt_corpus.write(plan.vt, out_dir, run)),
        ):
            t = time.monotonic()
            step()
            log.info("%s written in %.1f s", name, time.monotonic() - t)
    write_text(out_dir / MARKER, json_text({"config": cfg.to_dict(), "layout_version": 1}))
    log.info("world built in %s in %.1f s", out_dir, time.monotonic() - t0)
