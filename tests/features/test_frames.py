"""Frame extraction on real ffmpeg-made videos: times, size, colours, failures, resume."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from vipant.acquire.manifest import read_dropped_videos
from vipant.features import frames as fr
from vipant.features.frames import extract_frames, frame_times, frames_shard
from vipant.media.ffmpeg import run_ffmpeg

COLOURS = [("red", (255, 0, 0)), ("lime", (0, 255, 0)), ("blue", (0, 0, 255)), ("white", (255, 255, 255))]


def _colour_video(path: Path, size: str, seconds: float = 2.5) -> Path:
    """Four solid-colour segments of ``seconds`` each: the colour tells which quarter a frame is in."""
    graph = ";".join(f"color=c={name}:s={size}:r=25:d={seconds}[v{i}]" for i, (name, _) in enumerate(COLOURS))
    graph += ";" + "".join(f"[v{i}]" for i in range(len(COLOURS))) + f"concat=n={len(COLOURS)}:v=1:a=0[out]"
    run_ffmpeg(
        [
            "-filter_complex",
            graph,
            "-map",
            "[out]",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            str(path),
        ]
    )
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    d = tmp_path_factory.mktemp("videos")
    land = _colour_video(d / "land.mp4", "320x240")
    port = _colour_video(d / "port.mp4", "180x320")
    short = _colour_video(d / "short.mp4", "160x120", seconds=1.5)  # 6 s: the last frame is missing
    good = land.read_bytes()
    mdat = good.find(b"mdat")
    corrupt = d / "corrupt.mp4"
    corrupt.write_bytes(good[: mdat + 64] + random.Random(7).randbytes(len(good) - mdat - 64))
    return {"land": land, "port": port, "short": short, "corrupt": corrupt}


def test_frame_times_are_centres_of_the_audio_segments():
    assert frame_times(4, 10.0) == [1.25, 3.75, 6.25, 8.75]
    assert frame_times(1, 10.0) == [5.0]
    with pytest.raises(ValueError):
        frame_times(0, 10.0)


@pytest.mark.parametrize("name, size", [("land", (299, 224)), ("port", (224, 398))])
def test_four_frames_at_the_documented_times(videos, tmp_path, name, size):
    paths = extract_frames(videos[name], tmp_path, f"clip_{name}")
    assert [p.name for p in paths] == [f"clip_{name}_{i}.jpg" for i in range(4)]
    for p, (_, rgb) in zip(paths, COLOURS):
        with Image.open(p) as im:
            assert im.format == "JPEG" and im.mode == "RGB"
            assert min(im.size) == 224
            assert abs(im.size[0] - size[0]) <= 1 and abs(im.size[1] - size[1]) <= 1
            mean = np.asarray(im).reshape(-1, 3).mean(0)
        assert np.abs(mean - np.array(rgb)).max() < 20, (p.name, mean)
    assert sorted(x.name for x in (tmp_path / "cl").iterdir()) == [p.name for p in paths]  # no temporaries
    assert [x.name for x in tmp_path.iterdir()] == ["cl"]  # two-character prefix folders


def test_failures_write_nothing(videos, tmp_path):
    with pytest.raises(fr.FrameError) as err:
        extract_frames(videos["corrupt"], tmp_path, "bad")
    assert err.value.reason == "decode_error"
    with pytest.raises(fr.FrameError) as err:
        extract_frames(videos["short"], tmp_path, "short")
    assert err.value.reason == "too_short"
    with pytest.raises(fr.FrameError) as err:
        extract_frames(tmp_path / "nope.mp4", tmp_path, "nope")
    assert err.value.reason == "no_video"
    assert list(tmp_path.iterdir()) == []


def test_frames_shard_records_failures_and_resumes(videos, tmp_path, monkeypatch):
    manifest = pd.DataFrame(
        [
            {"clip_id": "a_0", "status": "ok", "video_path": str(videos["land"]), "start": 0.0, "end": 10.0},
            {"clip_id": "b_0", "status": "ok", "video_path": str(videos["corrupt"]), "start": 0.0, "end": 10.0},
            {"clip_id": "c_0", "status": "failed", "video_path": "", "start": 0.0, "end": 10.0},
            {"clip_id": "d_0", "status": "ok", "video_path": str(videos["port"]), "start": 0.0, "end": 10.0},
        ]
    )
    out = tmp_path / "frames"
    fm_path = tmp_path / "frames.csv"
    result = frames_shard(manifest, out, fm_path)
    assert list(result.columns) == ["clip_id", "status", "reason", "detail", "frame_paths"]
    rows = result.set_index("clip_id")
    assert list(rows.index) == ["a_0", "b_0", "d_0"]  # only the download's ok clips
    assert (rows.loc["b_0", "status"], rows.loc["b_0", "reason"]) == ("failed", "decode_error")
    assert rows.loc["b_0", "frame_paths"] == ""
    assert rows.loc["a_0", "frame_paths"].split("|") == [str(out / "a_" / f"a_0_{i}.jpg") for i in range(4)]
    assert fm_path.is_file() and len(pd.read_csv(fm_path)) == 3

    calls = []
    real = fr.run_ffmpeg
    monkeypatch.setattr(fr, "run_ffmpeg", lambda *a, **k: (calls.append(a), real(*a, **k))[1])
    (out / "d_" / "d_0_2.jpg").unlink()
    again = frames_shard(manifest, out, fm_path)
    assert len(calls) == 2  # d_0 (one frame lost) and the failed b_0; a_0 is skipped
    assert again.equals(result)


def test_duration_from_the_manifest(videos, tmp_path):
    # a 6 s clip: with duration=None the times are 0.75, 2.25, 3.75, 5.25 -> 4 frames exist
    manifest = pd.DataFrame(
        [{"clip_id": "s_0", "status": "ok", "video_path": str(videos["short"]), "start": 2.0, "end": 8.0}]
    )
    res = frames_shard(manifest, tmp_path / "f", tmp_path / "f.csv", duration=None)
    assert res.loc[0, "status"] == "ok"
    colours = []
    for p in res.loc[0, "frame_paths"].split("|"):
        with Image.open(p) as im:
            colours.append(np.asarray(im).reshape(-1, 3).mean(0).round())
    assert np.abs(np.array(colours) - np.array([c for _, c in COLOURS])).max() < 20


def test_video_cuts_go_once_their_frames_exist(videos, tmp_path):
    """``keep_video=False``: a clip whose 4 frames were written loses its video cut, a clip whose frames failed
    keeps it, and a rerun with the cut gone skips the clip (its frames exist) instead of failing it
    ``no_video``. JPEGs sit in two-character prefix folders. Catches deleting the cut before the frames are
    safe (or of a failed clip) and a rerun that needs the video again."""
    import shutil

    land, corrupt = tmp_path / "a_0.mp4", tmp_path / "b_0.mp4"
    shutil.copy(videos["land"], land), shutil.copy(videos["corrupt"], corrupt)
    manifest = pd.DataFrame(
        [
            {"clip_id": "a_0", "status": "ok", "video_path": str(land), "start": 0.0, "end": 10.0},
            {"clip_id": "b_0", "status": "ok", "video_path": str(corrupt), "start": 0.0, "end": 10.0},
        ]
    )
    out, record = tmp_path / "frames", tmp_path / "shard.video_dropped.txt"
    with pytest.raises(ValueError, match="dropped_videos"):  # a deletion nobody records is refetched
        frames_shard(manifest, out, tmp_path / "f.csv", keep_video=False)
    assert land.exists()
    first = frames_shard(manifest, out, tmp_path / "f.csv", keep_video=False, dropped_videos=record)
    assert first.set_index("clip_id")["status"].to_dict() == {"a_0": "ok", "b_0": "failed"}
    assert not land.exists() and corrupt.exists()
    assert read_dropped_videos(record) == {"a_0"}  # what the download's rerun counts as done without a cut
    assert sorted(p.name for p in (out / "a_").iterdir()) == [f"a_0_{i}.jpg" for i in range(4)]
    again = frames_shard(manifest, out, tmp_path / "f.csv", keep_video=False, dropped_videos=record)
    assert again.equals(first)
    assert read_dropped_videos(record) == {"a_0"}


def test_kept_video_cuts_are_not_recorded_as_dropped(videos, tmp_path):
    """Catches recording (or deleting) cuts while ``keep_video`` is on: a download rerun would then skip
    clips whose cut it should fetch again if the cut is lost."""
    import shutil

    land = tmp_path / "a_0.mp4"
    shutil.copy(videos["land"], land)
    manifest = pd.DataFrame([{"clip_id": "a_0", "status": "ok", "video_path": str(land), "start": 0.0, "end": 10.0}])
    record = tmp_path / "shard.video_dropped.txt"
    frames_shard(manifest, tmp_path / "frames", tmp_path / "f.csv", keep_video=True, dropped_videos=record)
    assert land.exists() and not record.exists()
