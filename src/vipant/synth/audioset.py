"""AudioSet-like YouTube clips: the videos under ``web/videos/``, the segment CSVs, labels, ontology
and the ground truth of what sounds and shows when.

Each clip is a video longer than its 10 s segment (the segment starts at a varying offset), holding
1-3 sounding events inside the segment, sometimes an unlabelled event before or after it, and
sometimes silent visual distractors. A source's object is on screen exactly while it sounds. A clip's
labels are the sources that sound in its segment. Some clips carry in-the-wild defects (deleted video,
no audio stream, too short, corrupt, silent), recorded in ``truth/clips.jsonl``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from vipant.atomic import write_bytes
from vipant.synth.audio import EventSound, mix_scene
from vipant.synth.config import WorldConfig
from vipant.synth.render import DrawnObject, background, frames_bytes, place_boxes
from vipant.synth.seeding import rng_for, seed_for
from vipant.synth.sources import PARENTS, SCENE_BY_LABEL, SCENES, SOURCES, parent_mid, source
from vipant.synth.tables import csv_text, json_text, jsonl_text
from vipant.synth.video import write_mp4

log = logging.getLogger(__name__)

SPLITS = ("balanced_train", "unbalanced_train", "eval")
CSV_NAMES = {s: f"{s}_segments.csv" for s in SPLITS}
DEFECTS = ("missing", "no_audio", "short", "corrupt", "silent")
_YTID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_CSV_CREATED = "# Segments csv created Sun Mar  5 10:54:31 2017"


@dataclass(frozen=True)
class Event:
    """A source sounding from ``onset`` to ``offset`` (seconds of video time)."""

    source: str  # source name
    onset: float  # start (video s)
    offset: float  # end (video s)


@dataclass(frozen=True)
class Clip:
    """Everything about one AudioSet row and its video."""

    ytid: str  # YouTube id, 11 characters of [A-Za-z0-9_-]
    split: str  # one of SPLITS
    start: float  # segment start in the video (s)
    end: float  # segment end (s)
    duration: float  # length of the video file (s); shorter than ``end`` for the "short" defect
    width: int  # frame width (px)
    height: int  # frame height (px)
    fps: int  # frame rate
    sample_rate: int | None  # audio sample rate; None when the video has no audio stream
    channels: int | None  # audio channels; None when the video has no audio stream
    scene: str  # scene label deciding background look and noise
    events: tuple[Event, ...]  # events sounding inside the segment (they make the labels)
    outside: tuple[Event, ...]  # unlabelled events before / after the segment
    objects: tuple[DrawnObject, ...]  # every object drawn, with its box and visible interval
    defect: str | None  # one of DEFECTS or None
    corruption: str | None  # "truncated" or "garbage" for the corrupt defect
    seed: int  # seed of the media renderer for this clip
    audiocaps: str | None  # AudioCaps split using this clip ("train", "val", "test") or None
    textured: bool = False  # drawn in the textured world's look

    @property
    def labels(self) -> tuple[str, ...]:
        """Machine ids of the sources sounding in the segment, in catalogue order."""
        names = {e.source for e in self.events}
        return tuple(s.mid for s in SOURCES if s.name in names)


# ------------------------------------------------------------------------------------ planning


def _ytids(n: int, rng: np.random.Generator) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        chars = [_YTID_ALPHABET[i] for i in rng.integers(0, len(_YTID_ALPHABET), 11)]
        if rng.random() < 0.08:  # real AudioSet has many ids starting with '-'
            chars[0] = "-"
        ytid = "".join(chars)
        if ytid not in seen:
            seen.add(ytid)
            out.append(ytid)
    return out


def _primaries(split: str, n: int, rng: np.random.Generator) -> list[str]:
    """Main source of each clip: cycled through every source (balanced / eval) or Zipf-like (unbalanced)."""
    names = [s.name for s in SOURCES]
    if split == "unbalanced_train":
        order = rng.permutation(len(names))
        weights = 1.0 / (np.arange(len(names)) + 1.0) ** 0.8
        picks = rng.choice(len(names), n, p=weights / weights.sum())
        return [names[order[p]] for p in picks]
    out: list[str] = []
    while len(out) < n:
        out.extend(names[i] for i in rng.permutation(len(names)))
    return out[:n]


def event_in(lo: float, hi: float, name: str, r: np.random.Generator, dur_range: tuple[float, float]) -> Event:
    # An event that fills its whole room can leave hi - dur a hair below lo in floats (1.8 - 1.6 < 0.2), or
    # rounding can lift dur past hi - lo: the onset's range is clamped to be at least [lo, lo].
    dur = min(round(r.uniform(min(dur_range[0], hi - lo), min(dur_range[1], hi - lo)), 3), hi - lo)
    onset = round(r.uniform(lo, max(lo, hi - dur)), 3)
    return Event(name, onset, round(onset + dur, 3))


def _plan_clip(
    cfg: WorldConfig,
    index: int,
    ytid: str,
    split: str,
    primary: str,
    audiocaps: str | None,
    defect: str | None,
    corruption: str | None,
) -> Clip:
    r = rng_for(cfg.seed, "audioset-clip", index)
    seg, fps = cfg.segment_seconds, cfg.fps
    duration = round(r.uniform(cfg.video_min_seconds, cfg.video_max_seconds) * fps) / fps
    max_start = max(0.0, min(cfg.segment_max_start, duration - seg))
    start = float(r.integers(0, int(max_start) + 1)) if audiocaps else round(r.uniform(0.0, max_start), 3)
    end = round(start + seg, 3)
    width, height = cfg.frame_sizes[int(r.integers(len(cfg.frame_sizes)))]
    sample_rate = int(cfg.audio_rates[int(r.integers(len(cfg.audio_rates)))])
    channels = int(cfg.audio_channels[int(r.integers(len(cfg.audio_channels)))])
    scene = SCENES[int(r.integers(len(SCENES)))].label

    all_names = [s.name for s in SOURCES]
    k = int(r.integers(cfg.events_min, cfg.events_max + 1))
    others = [n for n in all_names if n != primary]
    names = [primary] + [others[i] for i in r.choice(len(others), k - 1, replace=False)]
    dur_range = (cfg.event_min_seconds, cfg.event_max_seconds)
    events = tuple(event_in(start, end, n, r, dur_range) for n in names)
    used = set(names)

    def unused() -> str:
        free = [n for n in all_names if n not in used]
        name = free[int(r.integers(len(free)))]
        used.add(name)
        return name

    outside = []
    for lo, hi in ((0.2, start - 0.2), (end + 0.2, duration - 0.2)):
        if hi - lo >= 1.5 and r.random() < cfg.outside_event_prob:
            outside.append(event_in(lo, hi, unused(), r, (1.0, 4.0)))
    distractors = []
    if cfg.distractors_max and r.random() < cfg.distractor_prob:
        for _ in range(int(r.integers(1, cfg.distractors_max + 1))):
            distractors.append(event_in(start, end, unused(), r, (2.0, 6.0)))

    shown = list(events) + outside + distractors
    boxes = place_boxes(
        len(shown),
        width,
        height,
        r,
        region=((width - height) // 2, (width + height) // 2),  # the centre square survives a CLIP crop
        intervals=[(e.onset, e.offset) for e in shown],
    )
    objects = tuple(
        DrawnObject(e.source, box, e.onset, e.offset, distractor=i >= len(events) + len(outside))
        for i, (e, box) in enumerate(zip(shown, boxes))
    )
    if defect == "short":
        duration = round((start + r.uniform(3.0, 7.0)) * fps) / fps
    if defect == "no_audio":
        sample_rate_out, channels_out = None, None
    else:
        sample_rate_out, channels_out = sample_rate, channels
    return Clip(
        ytid=ytid,
        split=split,
        start=start,
        end=end,
        duration=duration,
        width=width,
        height=height,
        fps=fps,
        sample_rate=sample_rate_out,
        channels=channels_out,
        scene=scene,
        events=events,
        outside=tuple(outside),
        objects=objects,
        defect=defect,
        corruption=corruption,
        seed=seed_for(cfg.seed, "audioset-media", index),
        audiocaps=audiocaps,
        textured=cfg.textures,
    )


def plan(cfg: WorldConfig) -> tuple[Clip, ...]:
    """All AudioSet clips of the world, balanced_train first, then unbalanced_train, then eval."""
    rng = rng_for(cfg.seed, "audioset")
    sizes = {
        "balanced_train": cfg.audioset_balanced_train,
        "unbalanced_train": cfg.audioset_unbalanced_train,
        "eval": cfg.audioset_eval,
    }
    splits = [s for s in SPLITS for _ in range(sizes[s])]
    total = len(splits)
    ytids = _ytids(total, rng)
    primaries = [p for s in SPLITS for p in _primaries(s, sizes[s], rng)]

    audiocaps: list[str | None] = [None] * total
    train_idx = [i for i, s in enumerate(splits) if s != "eval"]
    eval_idx = [i for i, s in enumerate(splits) if s == "eval"]
    for i in rng.choice(train_idx, cfg.audiocaps_train, replace=False) if train_idx else []:
        audiocaps[int(i)] = "train"
    picked = rng.choice(eval_idx, cfg.audiocaps_val + cfg.audiocaps_test, replace=False) if eval_idx else []
    for j, i in enumerate(picked):
        audiocaps[int(i)] = "val" if j < cfg.audiocaps_val else "test"

    n_missing = round(cfg.missing_video_rate * total)
    if cfg.missing_video_rate > 0 and total >= 10:
        n_missing = max(n_missing, 1)
    counts = {
        "missing": n_missing,
        "no_audio": cfg.no_audio_videos,
        "short": cfg.short_videos,
        "corrupt": cfg.corrupt_videos,
        "silent": cfg.silent_videos,
    }
    defects: list[str | None] = [None] * total
    corruption: list[str | None] = [None] * total
    order = iter(rng.permutation(total))
    for kind in DEFECTS:
        for j in range(counts[kind]):
            i = int(next(order))
            defects[i] = kind
            if kind == "corrupt":
                corruption[i] = ("truncated", "garbage")[j % 2]

    clips = tuple(
        _plan_clip(cfg, i, ytids[i], splits[i], primaries[i], audiocaps[i], defects[i], corruption[i])
        for i in range(total)
    )
    log.info("planned %d AudioSet clips (%s)", total, ", ".join(f"{k}={v}" for k, v in counts.items()))
    return clips


# ------------------------------------------------------------------------------------ metadata


def segments_csv(clips: Sequence[Clip], split: str) -> str:
    """One segment CSV in AudioSet's format (three comment lines, quoted label lists)."""
    rows = [c for c in clips if c.split == split]
    labels = [c.labels for c in rows]
    lines = [
        _CSV_CREATED,
        f"# num_ytids={len({c.ytid for c in rows})}, num_segs={len(rows)}, "
        f"num_unique_labels={len({m for ls in labels for m in ls})}, "
        f"num_positive_labels={sum(len(ls) for ls in labels)}",
        "# YTID, start_seconds, end_seconds, positive_labels",
    ]
    lines += [f'{c.ytid}, {c.start:.3f}, {c.end:.3f}, "{",".join(ls)}"' for c, ls in zip(rows, labels)]
    return "\n".join(lines) + "\n"


def class_labels_csv() -> str:
    """``class_labels_indices.csv``: ``index,mid,display_name`` for every source."""
    return csv_text(("index", "mid", "display_name"), [(i, s.mid, s.name) for i, s in enumerate(SOURCES)])


def ontology(clips: Sequence[Clip]) -> list[dict[str, Any]]:
    """AudioSet-style ontology: abstract parent categories over the sources (the labelled classes)."""
    examples: dict[str, list[str]] = {}
    for c in clips:
        if c.split == "balanced_train" and c.defect is None:
            for m in c.labels:
                if len(examples.setdefault(m, [])) < 3:
                    examples[m].append(f"youtu.be/{c.ytid}?start={int(c.start)}&end={int(c.end)}")
    out: list[dict[str, Any]] = []
    for p in PARENTS:
        out.append(
            {
                "id": parent_mid(p),
                "name": p,
                "description": f"Sounds of the category {p.lower()}.",
                "citation_uri": "",
                "positive_examples": [],
                "child_ids": [s.mid for s in SOURCES if s.parent == p],
                "restrictions": ["abstract"],
            }
        )
    for s in SOURCES:
        out.append(
            {
                "id": s.mid,
                "name": s.name,
                "description": f"The sound of {s.gerunds[0]}, as when {s.clauses[0]}.",
                "citation_uri": f"http://en.wikipedia.org/wiki/{s.noun.replace(' ', '_').title()}",
                "positive_examples": examples.get(s.mid, []),
                "child_ids": [],
                "restrictions": [],
            }
        )
    return out


def sources_truth() -> list[dict[str, Any]]:
    """``truth/sources.json``: how each source is named, looks and sounds."""
    return [
        {
            "name": s.name,
            "mid": s.mid,
            "shape": s.shape,
            "texture": s.texture.name,
            "colour": s.colour,
            "rgb": list(s.rgb),
            "noun": s.noun,
            "family": s.family,
            "parent": s.parent,
            "esc50": s.esc50,
        }
        for s in SOURCES
    ]


def clip_truth(c: Clip) -> dict[str, Any]:
    """One line of ``truth/clips.jsonl``; times are seconds relative to the segment start."""

    def rel(t: float) -> float:
        return round(t - c.start, 3)

    def ev(e: Event) -> dict[str, Any]:
        return {"source": e.source, "mid": source(e.source).mid, "onset": rel(e.onset), "offset": rel(e.offset)}

    return {
        "ytid": c.ytid,
        "split": c.split,
        "start": c.start,
        "end": c.end,
        "duration": c.duration,
        "width": c.width,
        "height": c.height,
        "fps": c.fps,
        "sample_rate": c.sample_rate,
        "channels": c.channels,
        "scene": c.scene,
        "defect": c.defect,
        "corruption": c.corruption,
        "audiocaps": c.audiocaps,
        "labels": list(c.labels),
        "events": [ev(e) for e in c.events],
        "outside_events": [ev(e) for e in c.outside],
        "objects": [
            {
                "source": o.source,
                "bbox": list(o.bbox),
                "visible": [rel(o.start), rel(o.end)],
                "distractor": o.distractor,
            }
            for o in c.objects
        ],
    }


def metadata(clips: Sequence[Clip]) -> dict[str, str]:
    """Every AudioSet metadata and truth file, by path relative to the world folder."""
    files = {f"audioset/{CSV_NAMES[s]}": segments_csv(clips, s) for s in SPLITS}
    files["audioset/class_labels_indices.csv"] = class_labels_csv()
    files["audioset/ontology.json"] = json_text(ontology(clips))
    files["truth/sources.json"] = json_text(sources_truth())
    files["truth/clips.jsonl"] = jsonl_text(clip_truth(c) for c in clips)
    return files


# --------------------------------------------------------------------------------------- media


def clip_audio(c: Clip) -> np.ndarray | None:
    """The clip's whole soundtrack ``(samples, channels)``, or None without an audio stream."""
    if c.sample_rate is None or c.channels is None:
        return None
    n = int(round(c.duration * c.sample_rate))
    if c.defect == "silent":
        return np.zeros((n, c.channels), dtype=np.float32)
    scene = SCENE_BY_LABEL[c.scene]
    rng = np.random.default_rng([c.seed, 1])
    events = [EventSound(e.source, e.onset, e.offset) for e in (*c.events, *c.outside)]
    return mix_scene(
        events, c.duration, c.sample_rate, c.channels, rng, noise_colour=scene.noise_colour, noise_db=scene.noise_db
    )


def render_clip(task: tuple[Clip, str]) -> str:
    """Write one clip's video into folder ``task[1]`` (nothing for a deleted video); return its ytid."""
    c, folder = task
    path = Path(folder) / f"{c.ytid}.mp4"
    if c.defect == "missing":
        return c.ytid
    rng = np.random.default_rng([c.seed, 0])
    if c.corruption == "garbage":
        write_bytes(path, rng.bytes(int(rng.integers(20_000, 60_000))))
        return c.ytid
    bg = background(c.width, c.height, SCENE_BY_LABEL[c.scene], rng, c.textured)
    frames = frames_bytes(bg, c.objects, int(round(c.duration * c.fps)), c.fps, c.textured)
    truncated = c.corruption == "truncated"
    write_mp4(path, frames, c.width, c.height, c.fps, clip_audio(c), c.sample_rate, faststart=not truncated)
    if truncated:  # an interrupted download: the index (moov atom, at the end here) never arrived
        write_bytes(path, path.read_bytes()[: path.stat().st_size // 2])
    return c.ytid
