import csv
import io
import json
import re

import numpy as np
import pandas as pd
import pytest

from vipant.media.ffmpeg import ProbeError, probe
from vipant.synth.sources import SOURCES, source

from .conftest import decode_audio, decode_frame

SPLITS = ("balanced_train", "unbalanced_train", "eval")


def _segments(world, split):
    return pd.read_csv(
        world / f"audioset/{split}_segments.csv",
        skiprows=3,
        header=None,
        skipinitialspace=True,
        names=["YTID", "start_seconds", "end_seconds", "positive_labels"],
        dtype={"YTID": str},
    )


@pytest.mark.parametrize("split", SPLITS)
def test_segment_csv_format(tiny_world, tiny_cfg, split):
    text = (tiny_world / f"audioset/{split}_segments.csv").read_text()
    lines = text.splitlines()
    assert lines[0].startswith("# Segments csv created ")
    assert re.fullmatch(r"# num_ytids=\d+, num_segs=\d+, num_unique_labels=\d+, num_positive_labels=\d+", lines[1])
    assert lines[2] == "# YTID, start_seconds, end_seconds, positive_labels"
    for line in lines[3:]:
        assert re.fullmatch(r'[A-Za-z0-9_-]{11}, \d+\.\d{3}, \d+\.\d{3}, "/m/\w+(,/m/\w+)*"', line), line
    df = _segments(tiny_world, split)
    n = {
        "balanced_train": tiny_cfg.audioset_balanced_train,
        "unbalanced_train": tiny_cfg.audioset_unbalanced_train,
        "eval": tiny_cfg.audioset_eval,
    }[split]
    assert len(df) == n == int(re.search(r"num_segs=(\d+)", lines[1]).group(1))
    assert ((df.end_seconds - df.start_seconds).round(3) == 10.0).all()
    labels = [m for ls in df.positive_labels for m in ls.split(",")]
    assert len(labels) == int(re.search(r"num_positive_labels=(\d+)", lines[1]).group(1))


def test_project_loader_reads_the_csvs(tiny_world):
    from vipant.datasets.audioset import read_class_indices, read_segments

    classes = read_class_indices(tiny_world / "audioset/class_labels_indices.csv")
    assert len(classes) == len(SOURCES)
    for split in SPLITS:
        df, skipped = read_segments(tiny_world / f"audioset/{split}_segments.csv", known_mids=set(classes.mid))
        assert not skipped and len(df) > 0


def test_some_ytids_start_with_dash_and_all_are_unique(truth):
    ytids = [c["ytid"] for c in truth]
    assert len(set(ytids)) == len(ytids)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{11}", y) for y in ytids)
    assert any(y.startswith("-") for y in ytids)


def test_class_labels_and_ontology(tiny_world):
    text = (tiny_world / "audioset/class_labels_indices.csv").read_text()
    assert text.splitlines()[0] == "index,mid,display_name"
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert [r[2] for r in rows] == [s.name for s in SOURCES]
    assert '"Chicken, rooster"' in text
    onto = json.loads((tiny_world / "audioset/ontology.json").read_text())
    keys = {"id", "name", "description", "citation_uri", "positive_examples", "child_ids", "restrictions"}
    assert all(set(e) == keys for e in onto)
    ids = {e["id"] for e in onto}
    assert {s.mid for s in SOURCES} <= ids
    assert all(c in ids for e in onto for c in e["child_ids"])


def test_truth_matches_csv_labels_and_layout(tiny_world, truth, tiny_cfg):
    by_id = {c["ytid"]: c for c in truth}
    for split in SPLITS:
        for row in _segments(tiny_world, split).itertuples():
            clip = by_id[row.YTID]
            assert clip["split"] == split and clip["start"] == pytest.approx(row.start_seconds)
            assert set(row.positive_labels.split(",")) == {e["mid"] for e in clip["events"]} == set(clip["labels"])
    for clip in truth:
        assert tiny_cfg.events_min <= len(clip["events"]) <= tiny_cfg.events_max
        for e in clip["events"]:
            assert 0 <= e["onset"] < e["offset"] <= 10.0
        for e in clip["outside_events"]:
            assert e["offset"] <= 0 or e["onset"] >= 10.0
        visible = {(o["source"], tuple(o["visible"])) for o in clip["objects"] if not o["distractor"]}
        assert visible == {(e["source"], (e["onset"], e["offset"])) for e in clip["events"] + clip["outside_events"]}
        sounding = {e["source"] for e in clip["events"] + clip["outside_events"]}
        assert all(o["source"] not in sounding for o in clip["objects"] if o["distractor"])
    assert any(o["distractor"] for c in truth for o in c["objects"])
    assert len({c["start"] for c in truth}) > 5  # the segment sits at varying offsets


def _healthy(truth):
    return [c for c in truth if c["defect"] is None]


def test_videos_are_longer_than_their_segment_with_varied_audio(tiny_world, truth, tiny_cfg):
    rates, channels = set(), set()
    for clip in _healthy(truth):
        info = probe(tiny_world / f"web/videos/{clip['ytid']}.mp4")
        assert info.duration >= clip["end"] > clip["start"] >= 0
        assert info.duration > 10.0 + 1.0
        assert abs(info.duration - clip["duration"]) < 0.2
        assert (info.width, info.height) == (clip["width"], clip["height"])
        assert (info.sample_rate, info.channels) == (clip["sample_rate"], clip["channels"])
        rates.add(info.sample_rate)
        channels.add(info.channels)
    assert len(rates) >= 3 and channels == set(tiny_cfg.audio_channels)


def test_frame_at_event_time_shows_the_sounding_source_in_its_box(tiny_world, truth):
    checked = 0
    for clip in _healthy(truth)[:12]:
        path = tiny_world / f"web/videos/{clip['ytid']}.mp4"
        for obj in clip["objects"]:
            if obj["distractor"] or obj["visible"][0] < -clip["start"]:
                continue
            t = clip["start"] + (obj["visible"][0] + obj["visible"][1]) / 2
            frame = decode_frame(path, t, clip["width"], clip["height"])
            x0, y0, x1, y1 = obj["bbox"]
            patch = frame[y0:y1, x0:x1].reshape(-1, 3).astype(int)
            rgb = np.array(source(obj["source"]).rgb)
            share = (np.abs(patch - rgb).max(1) < 45).mean()
            assert share > 0.25, (clip["ytid"], obj, share)
            checked += 1
    assert checked >= 10


def test_defects_exist_as_recorded(tiny_world, truth, tiny_cfg):
    kinds = {}
    for clip in truth:
        kinds.setdefault(clip["defect"], []).append(clip)
    assert len(kinds["no_audio"]) == tiny_cfg.no_audio_videos
    assert len(kinds["corrupt"]) == tiny_cfg.corrupt_videos
    assert len(kinds["missing"]) >= 1
    for clip in kinds["missing"]:
        assert not (tiny_world / f"web/videos/{clip['ytid']}.mp4").exists()
    for clip in kinds["no_audio"]:
        info = probe(tiny_world / f"web/videos/{clip['ytid']}.mp4")
        assert info.has_video and not info.has_audio and clip["sample_rate"] is None
    for clip in kinds["short"]:
        info = probe(tiny_world / f"web/videos/{clip['ytid']}.mp4")
        assert info.duration < clip["end"] and clip["duration"] < clip["end"]
    for clip in kinds["corrupt"]:
        with pytest.raises(ProbeError):
            probe(tiny_world / f"web/videos/{clip['ytid']}.mp4")
    for clip in kinds["silent"]:
        samples = decode_audio(tiny_world / f"web/videos/{clip['ytid']}.mp4")
        assert len(samples) > 0 and np.abs(samples).max() == 0
    loud = decode_audio(tiny_world / f"web/videos/{_healthy(truth)[0]['ytid']}.mp4")
    assert np.abs(loud).max() > 100


def test_an_event_that_fills_its_room_stays_inside_it():
    # 1.8 - 1.6 is a hair below 0.2 in floats: the onset's range must not come out empty
    from vipant.synth.audioset import event_in

    event = event_in(0.2, 1.8, "x", np.random.default_rng(0), (1.6, 4.0))
    assert (event.onset, event.offset) == (0.2, 1.8)
    r = np.random.default_rng(1)
    for _ in range(2000):
        lo = round(float(r.uniform(0, 5)), 3)
        hi = round(lo + float(r.uniform(0.5, 3)), 3)
        event = event_in(lo, hi, "x", r, (1.0, 4.0))
        assert lo <= event.onset < event.offset <= hi + 5e-4
