"""The metadata stage: read every fetched dataset through its loader and write the lists later stages
consume.

* ``youtube_clips.csv`` — every distinct YouTube segment that AudioSet or AudioCaps asks for, with its
  download shard (a stable hash of the clip id, so adding clips never reshuffles finished shards);
* ``requests.csv`` — ``dataset, split, clip_id`` for every clip of every split (the coverage report's
  denominator);
* ``audioset_eval.csv`` — AudioSet's eval segments (VA validation, zero-shot tagging);
* ``va_train.csv`` — the clips VA pretraining may use: AudioSet's training segments minus any clip that
  AudioCaps evaluates on and minus AudioSet eval (no test audio is ever seen during pretraining);
* ``audio_<collection>.csv`` — ``clip_id, path`` plus labels for each locally stored collection
  (Clotho development/evaluation, ESC-50, UrbanSound8K, TUT17);
* ``skipped.csv`` — rows the loaders dropped from known-dirty sources, with file, line and reason.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pandas as pd

from vipant.atomic import write_csv
from vipant.datasets import audiocaps, audioset, clotho, esc50, tut17, us8k
from vipant.datasets.common import Skipped

log = logging.getLogger(__name__)

AUDIOSET_SPLITS = {
    "balanced_train": "balanced_train_segments.csv",
    "unbalanced_train": "unbalanced_train_segments.csv",
    "eval": "eval_segments.csv",
}
AUDIOCAPS_SPLITS = ("train", "val", "test")
AUDIOCAPS_SEGMENT_SECONDS = 10.0


def shard_of(clip_id: str, shards: int) -> str:
    """Stable shard id (``"000"``...) of a clip: independent of list order and of other clips."""
    digest = hashlib.sha1(clip_id.encode("utf-8")).digest()
    return f"{int.from_bytes(digest[:8], 'big') % shards:03d}"


def _youtube(raw: Path, skipped: list[Skipped]) -> tuple[pd.DataFrame, pd.DataFrame, list[str], list[str]]:
    """(youtube clips, requests, va_train clip ids, AudioSet eval clip ids) from AudioSet and AudioCaps."""
    known = set(audioset.read_class_indices(raw / "audioset" / "class_labels_indices.csv")["mid"])
    known |= set(audioset.read_ontology(raw / "audioset" / "ontology.json"))
    segments, requests = [], []
    audioset_ids: dict[str, pd.Series] = {}
    for split, name in AUDIOSET_SPLITS.items():
        df, bad = audioset.read_segments(raw / "audioset" / name, on_error="skip", known_mids=known)
        skipped.extend(bad)
        segments.append(df[["clip_id", "ytid", "start", "end", "labels"]])
        audioset_ids[split] = df["clip_id"]
        requests.append(pd.DataFrame({"dataset": "audioset", "split": split, "clip_id": df["clip_id"]}))
        log.info("AudioSet %s: %d segments (%d rows skipped)", split, len(df), len(bad))
    caps = []
    for split in AUDIOCAPS_SPLITS:
        df, bad = audiocaps.read_split(raw / "audiocaps" / f"{split}.csv", on_error="skip")
        skipped.extend(bad)
        caps.append(df.assign(split=split))
        requests.append(pd.DataFrame({"dataset": "audiocaps", "split": split, "clip_id": df["clip_id"].unique()}))
        log.info("AudioCaps %s: %d captions, %d clips", split, len(df), df["clip_id"].nunique())

    clips = pd.concat(segments, ignore_index=True).drop_duplicates("clip_id")
    caps_df = pd.concat(caps, ignore_index=True)
    extra = caps_df[~caps_df["clip_id"].isin(clips["clip_id"])].drop_duplicates("clip_id")
    # AudioCaps segments not in the AudioSet lists still get downloaded (10 s from start_time).
    extra_clips = pd.DataFrame(
        {
            "clip_id": extra["clip_id"],
            "ytid": extra["ytid"],
            "start": extra["start"],
            "end": extra["start"] + AUDIOCAPS_SEGMENT_SECONDS,
            "labels": [()] * len(extra),
        }
    )
    clips = pd.concat([clips, extra_clips], ignore_index=True)
    clips["labels"] = clips["labels"].map(lambda labels: ",".join(labels))

    held_out = set(caps_df.loc[caps_df["split"].isin(["val", "test"]), "clip_id"])
    held_out |= set(audioset_ids["eval"])
    train_ids = set(audioset_ids["balanced_train"]) | set(audioset_ids["unbalanced_train"])
    va_train = sorted(train_ids - held_out)
    return clips, pd.concat(requests, ignore_index=True), va_train, sorted(set(audioset_ids["eval"]))


def _local(raw: Path, layout: dict[str, str], skipped: list[Skipped]) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Audio lists of the locally stored collections and their coverage requests."""
    lists: dict[str, pd.DataFrame] = {}
    requests = []

    for part in ("development", "evaluation"):
        caps = clotho.read_captions(raw / "clotho" / f"clotho_captions_{part}.csv", on_error="skip")
        skipped.extend(caps.attrs.get("skipped", []))
        audio = clotho.list_audio(caps, raw / "clotho" / layout[f"clotho_{part}_audio"], on_error="skip")
        skipped.extend(audio.attrs.get("skipped", []))
        lists[f"clotho_{part}"] = audio.merge(caps[["clip_id", "file_name"]], on="clip_id")
        requests.append(pd.DataFrame({"dataset": "clotho", "split": part, "clip_id": caps["clip_id"]}))

    root = raw / "esc50" / layout["esc50"]
    meta = esc50.read_meta(root / "meta" / "esc50.csv")
    audio = esc50.list_audio(meta, root / "audio")
    lists["esc50"] = audio.merge(meta[["clip_id", "fold", "target", "category"]], on="clip_id")
    requests.append(
        pd.DataFrame({"dataset": "esc50", "split": "fold" + meta["fold"].astype(str), "clip_id": meta["clip_id"]})
    )

    root = raw / "us8k" / layout["us8k"]
    meta = us8k.read_meta(root / "metadata" / "UrbanSound8K.csv")
    audio = us8k.list_audio(meta, root)
    lists["us8k"] = audio.merge(meta[["clip_id", "fold", "classID", "class"]], on="clip_id")
    requests.append(
        pd.DataFrame({"dataset": "us8k", "split": "fold" + meta["fold"].astype(str), "clip_id": meta["clip_id"]})
    )

    root = raw / "tut17" / layout["tut17"]
    meta = tut17.read_meta(root / "meta.txt")
    audio = tut17.list_audio(meta, root)
    lists["tut17"] = audio.merge(meta[["clip_id", "scene"]], on="clip_id")
    requests.append(pd.DataFrame({"dataset": "tut17", "split": "development", "clip_id": meta["clip_id"]}))
    return lists, pd.concat(requests, ignore_index=True)


def build_clip_lists(raw: Path, layout: dict[str, str], *, shards: int, out_dir: Path) -> None:
    """Write every list of this module's docstring into ``out_dir``."""
    skipped: list[Skipped] = []
    clips, yt_requests, va_train, audioset_eval = _youtube(raw, skipped)
    clips["shard"] = [shard_of(c, shards) for c in clips["clip_id"]]
    lists, local_requests = _local(raw, layout, skipped)

    write_csv(
        out_dir / "youtube_clips.csv",
        clips.sort_values("clip_id")[["clip_id", "ytid", "start", "end", "labels", "shard"]],
    )
    write_csv(out_dir / "requests.csv", pd.concat([yt_requests, local_requests], ignore_index=True))
    write_csv(out_dir / "va_train.csv", pd.DataFrame({"clip_id": va_train}))
    write_csv(out_dir / "audioset_eval.csv", pd.DataFrame({"clip_id": audioset_eval}))
    for name, frame in lists.items():
        write_csv(out_dir / f"audio_{name}.csv", frame)
    write_csv(
        out_dir / "skipped.csv",
        pd.DataFrame(
            [{"file": str(s.path), "line": s.line, "reason": s.reason} for s in skipped],
            columns=["file", "line", "reason"],
        ),
    )
    log.info(
        "%d YouTube clips in %d shards, %d for VA training; %d rows skipped",
        len(clips),
        shards,
        len(va_train),
        len(skipped),
    )
