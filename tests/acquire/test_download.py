"""download_shard over real fixture media: good and bad clips, file:// and HTTP, resume, retries."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from vipant.acquire import download as dl
from vipant.acquire.download import classify_download_error, download_shard, valid_ytid
from vipant.acquire.manifest import (
    MANIFEST_COLUMNS,
    REASONS,
    clip_id_for,
    journal_path,
    read_journal,
    read_manifest,
)
from vipant.media.ffmpeg import probe

# the fixture constants live in this folder's conftest.py; load it by path ("import conftest" is
# ambiguous when several test folders have one)
_spec = importlib.util.spec_from_file_location("_acquire_conftest", Path(__file__).with_name("conftest.py"))
_fx = importlib.util.module_from_spec(_spec)
sys.modules.setdefault(_spec.name, _fx)
_spec.loader.exec_module(_fx)
CORRUPT, END, EXPECTED, GOOD, MISSING = _fx.CORRUPT, _fx.END, _fx.EXPECTED, _fx.GOOD, _fx.MISSING
SILENT, START, STEREO, TRAVERSAL, NO_VIDEO = _fx.SILENT, _fx.START, _fx.STEREO, _fx.TRAVERSAL, _fx.NO_VIDEO
clips_frame = _fx.clips_frame


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _check_shard(manifest, out_dir: Path, manifest_path: Path, clips) -> None:
    assert list(manifest.columns) == MANIFEST_COLUMNS
    assert sorted(manifest["clip_id"]) == sorted(clips["clip_id"]) == list(manifest["clip_id"])
    pd.testing.assert_frame_equal(read_manifest(manifest_path), manifest)
    by_ytid = manifest.set_index("ytid")
    for ytid, (status, reason) in EXPECTED.items():
        row = by_ytid.loc[ytid]
        assert (row["status"], row["reason"]) == (status, reason), (ytid, row["detail"])
        assert row["reason"] == "" or row["reason"] in REASONS
        clip_id = clip_id_for(ytid, START)
        # two-character prefix folders (vipant.layout): no flat folder of millions of files
        audio = out_dir / "audio" / clip_id[:2] / f"{clip_id}.flac"
        video = out_dir / "video" / clip_id[:2] / f"{clip_id}.mp4"
        if status == "ok":
            assert Path(row["audio_path"]) == audio and Path(row["video_path"]) == video
            data, sr = sf.read(audio)
            info = sf.info(audio)
            assert sr == 16000 and info.channels == 1 and data.ndim == 1 and info.format == "FLAC"
            assert abs(len(data) / sr - (END - START)) <= 0.05
            assert abs(row["duration"] - (END - START)) <= 0.05
            assert np.abs(data).max() > 0.01
            vinfo = probe(video)
            assert vinfo.has_video and not vinfo.has_audio
            assert abs(vinfo.duration - (END - START)) <= 0.2
        else:
            assert row["audio_path"] == "" and row["video_path"] == ""
            assert row["detail"]
            assert np.isnan(row["duration"])
    stereo = by_ytid.loc[STEREO]
    assert (stereo["src_sample_rate"], stereo["src_channels"]) == (48000, 2)
    good = by_ytid.loc[GOOD]
    assert (good["src_sample_rate"], good["src_channels"]) == (44100, 1)
    assert by_ytid.loc[TRAVERSAL, "attempts"] == 0
    assert by_ytid.loc[MISSING, "attempts"] == 1  # permanent: not retried
    # exactly the good clips' outputs, no temporaries, no journal, no leftover download
    ok_ids = manifest.loc[manifest["status"] == "ok", "clip_id"]
    expected_files = {f"audio/{c[:2]}/{c}.flac" for c in ok_ids} | {f"video/{c[:2]}/{c}.mp4" for c in ok_ids}
    assert _files(out_dir) == expected_files
    assert not (out_dir / ".tmp").exists()
    assert not journal_path(manifest_path).exists()


def _run_and_check(tmp_path, sandbox, all_clips, template):
    out_dir = tmp_path / "out"
    manifest_path = tmp_path / "manifests" / "shard_000.csv"
    before = _files(tmp_path) - _files(out_dir) if out_dir.exists() else _files(tmp_path)
    manifest = download_shard(
        all_clips, url_template=template, out_dir=out_dir, manifest_path=manifest_path, retries=2, backoff=0.01
    )
    _check_shard(manifest, out_dir, manifest_path, all_clips)
    # nothing outside out_dir but the manifest itself
    after = _files(tmp_path) - {str(Path("out") / f) for f in _files(out_dir)}
    assert after - before == {"manifests/shard_000.csv"}
    assert not any(sandbox["home"].iterdir()) and not any(sandbox["systmp"].iterdir())
    return manifest


def test_shard_file_urls(tmp_path, sandbox, all_clips, file_template, media_dir, monkeypatch):
    import yt_dlp

    built = []

    class CountingYDL(yt_dlp.YoutubeDL):
        def __init__(self, *a, **k):
            built.append(1)
            super().__init__(*a, **k)

    monkeypatch.setattr(yt_dlp, "YoutubeDL", CountingYDL)
    media_before = {p.name: p.stat().st_mtime_ns for p in media_dir.iterdir()}
    manifest = _run_and_check(tmp_path, sandbox, all_clips, file_template)
    # one YoutubeDL serves every video of the shard (each still downloads into its own work folder)
    assert len(built) == 1 and manifest["ytid"].nunique() > 3
    assert {p.name: p.stat().st_mtime_ns for p in media_dir.iterdir()} == media_before


def test_shard_http(tmp_path, sandbox, all_clips, http_server):
    manifest = _run_and_check(tmp_path, sandbox, all_clips, http_server.template)
    assert "404" in manifest.set_index("ytid").loc[MISSING, "detail"]
    assert http_server.hits[f"{MISSING}.mp4"] == 1  # a 404 is not retried
    assert not any(".." in path for path in http_server.hits)


def test_invalid_ids_touch_nothing(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(dl.fetch, "fetch_video", lambda *a, **k: calls.append(a))
    clips = clips_frame([TRAVERSAL, "short", "x" * 12, "has space1!", ""])
    clips.loc[0, "clip_id"] = "../../escape_2000"
    manifest = download_shard(
        clips, url_template="file:///nonexistent/{ytid}.mp4", out_dir=tmp_path / "o", manifest_path=tmp_path / "m.csv"
    )
    assert calls == []
    assert set(manifest["reason"]) == {"invalid_id"} and set(manifest["status"]) == {"failed"}
    assert _files(tmp_path / "o") == set()
    assert not (tmp_path.parent / "escape_2000.flac").exists()
    assert valid_ytid("dQw4w9WgXcQ") and valid_ytid("-_aB3-_aB3-") and not valid_ytid("../../etc/x")


def test_valid_ytid_but_unsafe_clip_id(tmp_path, file_template):
    clips = clips_frame([GOOD])
    clips.loc[0, "clip_id"] = "../evil"
    manifest = download_shard(
        clips, url_template=file_template, out_dir=tmp_path / "o", manifest_path=tmp_path / "m.csv"
    )
    assert manifest.loc[0, "reason"] == "invalid_id"
    assert not (tmp_path / "evil.flac").exists()


_REAL_FETCH = dl.fetch_video


class SimulatedCrash(BaseException):
    """Like a kill mid-shard: not an Exception, so download_shard does not turn it into a row."""


def _counting_fetch(monkeypatch, crash_on: str | None = None):
    calls: list[str] = []
    real = _REAL_FETCH

    def fetch(url, dest_dir, ydl):
        calls.append(url.rsplit("/", 1)[-1].split(".")[0])
        if crash_on is not None and crash_on in url:
            raise SimulatedCrash
        return real(url, dest_dir, ydl)

    monkeypatch.setattr(dl.fetch, "fetch_video", fetch)
    return calls


def test_resume_after_crash(tmp_path, file_template, monkeypatch):
    ytids = [GOOD, MISSING, STEREO, SILENT, CORRUPT]
    clips = clips_frame(ytids)
    out_dir, manifest_path = tmp_path / "out", tmp_path / "shard.csv"
    jpath = journal_path(manifest_path)

    # first run dies on the 4th video, after three clips were journalled
    calls = _counting_fetch(monkeypatch, crash_on=SILENT)
    with pytest.raises(SimulatedCrash):
        download_shard(clips, url_template=file_template, out_dir=out_dir, manifest_path=manifest_path, backoff=0.01)
    assert calls == [GOOD, MISSING, STEREO, SILENT]
    assert not manifest_path.exists()
    journalled = read_journal(jpath)
    assert {r["ytid"] for r in journalled.values()} == {GOOD, MISSING, STEREO}

    # the crash also tore the journal's last line, and one finished output got lost
    with open(jpath, "a") as fh:
        fh.write('{"clip_id": "' + clip_id_for(SILENT, START) + '", "status": "o')
    good_audio = out_dir / "audio" / GOOD[:2] / f"{clip_id_for(GOOD, START)}.flac"
    good_audio.unlink()

    calls = _counting_fetch(monkeypatch)
    manifest = download_shard(
        clips, url_template=file_template, out_dir=out_dir, manifest_path=manifest_path, backoff=0.01
    )
    # STEREO (ok, files present) and MISSING (permanent failure) are not downloaded again
    assert sorted(calls) == sorted([GOOD, SILENT, CORRUPT])
    assert len(manifest) == len(ytids)
    status = manifest.set_index("ytid")[["status", "reason"]].apply(tuple, axis=1).to_dict()
    assert status == {y: EXPECTED[y] for y in ytids}
    assert good_audio.is_file()
    assert not jpath.exists()
    assert {p.name for p in (out_dir / "audio").rglob("*") if p.is_file()} == {
        f"{clip_id_for(y, START)}.flac" for y in (GOOD, STEREO)
    }

    # a finished shard reruns without any download
    calls = _counting_fetch(monkeypatch)
    again = download_shard(clips, url_template=file_template, out_dir=out_dir, manifest_path=manifest_path)
    assert calls == []
    assert again.equals(manifest)


def test_network_failures_are_retried_on_rerun(tmp_path, file_template, monkeypatch):
    clips = clips_frame([GOOD])
    monkeypatch.setattr(dl.fetch, "_sleep", lambda s: None)

    def flaky(url, dest_dir, ydl):
        raise TimeoutError("The read operation timed out")

    monkeypatch.setattr(dl.fetch, "fetch_video", flaky)
    m = download_shard(
        clips, url_template=file_template, out_dir=tmp_path / "o", manifest_path=tmp_path / "m.csv", retries=1
    )
    assert (m.loc[0, "reason"], m.loc[0, "attempts"]) == ("network", 2)
    monkeypatch.undo()
    m = download_shard(clips, url_template=file_template, out_dir=tmp_path / "o", manifest_path=tmp_path / "m.csv")
    assert m.loc[0, "status"] == "ok"


def test_transient_http_error_is_retried_with_backoff(tmp_path, http_server, monkeypatch):
    sleeps: list[float] = []
    real_sleep = time.sleep
    monkeypatch.setattr(dl.fetch, "_sleep", lambda s: (sleeps.append(s), real_sleep(s)))
    http_server.fail_first[f"{GOOD}.mp4"] = (2, 503)
    http_server.fail_first[f"{STEREO}.mp4"] = (100, 503)
    clips = clips_frame([GOOD, STEREO, MISSING])
    manifest = download_shard(
        clips,
        url_template=http_server.template,
        out_dir=tmp_path / "o",
        manifest_path=tmp_path / "m.csv",
        retries=3,
        backoff=0.01,
    )
    rows = manifest.set_index("ytid")
    assert (rows.loc[GOOD, "status"], rows.loc[GOOD, "attempts"]) == ("ok", 3)
    assert (rows.loc[STEREO, "reason"], rows.loc[STEREO, "attempts"]) == ("network", 4)
    assert "503" in rows.loc[STEREO, "detail"]
    assert (rows.loc[MISSING, "reason"], rows.loc[MISSING, "attempts"]) == ("unavailable", 1)
    assert http_server.hits[f"{MISSING}.mp4"] == 1
    # GOOD: 0.01, 0.02; STEREO: 0.01, 0.02, 0.04 — exponential, and none for the 404
    assert sorted(sleeps) == sorted([0.01, 0.02, 0.01, 0.02, 0.04])


def test_error_classification():
    from yt_dlp.networking.exceptions import HTTPError, TransportError
    from yt_dlp.utils import DownloadError, ExtractorError

    def wrapped(cause, msg):
        err = ExtractorError(msg, cause=cause)
        return DownloadError(f"ERROR: {msg}", (type(err), err, None))

    class Resp:  # minimal response for HTTPError
        def __init__(self, status):
            self.status, self.reason, self.headers, self.url = status, "x", {}, "http://x"

        def close(self):
            pass

    assert classify_download_error(DownloadError("ERROR: [youtube] abc: Video unavailable")) == "unavailable"
    assert classify_download_error(DownloadError("ERROR: [youtube] abc: Private video. Sign in")) == "unavailable"
    assert classify_download_error(DownloadError("ERROR: This video has been removed by the uploader")) == "unavailable"
    assert classify_download_error(wrapped(HTTPError(Resp(404)), "Unable to download webpage")) == "unavailable"
    assert classify_download_error(wrapped(HTTPError(Resp(503)), "Unable to download webpage")) == "network"
    assert classify_download_error(wrapped(HTTPError(Resp(429)), "Unable to download webpage")) == "blocked"
    assert classify_download_error(wrapped(HTTPError(Resp(403)), "Unable to download webpage")) == "blocked"
    assert classify_download_error(wrapped(TransportError("Read timed out."), "Unable to download")) == "network"
    assert classify_download_error(ConnectionResetError(104, "Connection reset by peer")) == "network"
    assert (
        classify_download_error(
            wrapped(TransportError("[Errno 2] No such file or directory: '/x.mp4'"), "Unable to download")
        )
        == "unavailable"
    )


def test_audio_only_shard_and_journal_rows(tmp_path, file_template):
    clips = clips_frame([GOOD, NO_VIDEO])
    manifest = download_shard(
        clips, url_template=file_template, out_dir=tmp_path / "o", manifest_path=tmp_path / "m.csv", keep_video=False
    )
    assert set(manifest["status"]) == {"ok"}
    assert set(manifest["video_path"]) == {""}
    assert not (tmp_path / "o" / "video").exists() or not any((tmp_path / "o" / "video").iterdir())
    # manifest round trip keeps ids as strings and numbers as numbers
    back = read_manifest(tmp_path / "m.csv")
    assert back["clip_id"].tolist() == manifest["clip_id"].tolist()
    assert back["attempts"].dtype.kind == "i" and back["duration"].dtype.kind == "f"
    json.dumps(back.to_dict("records"), default=str)
    assert os.path.isabs(back.loc[0, "audio_path"]) == os.path.isabs(str(tmp_path))


def test_the_job_log_shows_the_shard_moving(tmp_path, sandbox, all_clips, file_template, monkeypatch, caplog):
    """A rule sends the shard's output to its log file, where a tqdm bar shows nothing: the log must carry
    progress lines (done/total and the failures so far). Catches a progress count that never advances, a
    total that is not the clips still to do, and failures left out of the line."""
    import logging

    monkeypatch.setenv("VIPANT_PROGRESS_INTERVAL", "1e-9")  # a line per clip
    with caplog.at_level(logging.INFO, logger="vipant.progress"):
        manifest = _run_and_check(tmp_path, sandbox, all_clips, file_template)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("download shard_000: ")]
    n, failed = len(all_clips), int((manifest["status"] != "ok").sum())
    assert failed > 0
    assert lines[0].startswith(f"download shard_000: 1/{n} clips")
    assert lines[-1].startswith(f"download shard_000: {n}/{n} clips (100 %)") and f"failed={failed}" in lines[-1]


def test_a_shard_written_in_the_flat_layout_is_not_downloaded_again(tmp_path, file_template, monkeypatch):
    """Shards downloaded before the prefix folders recorded ``audio/<id>.flac``: a rerun takes the paths from
    the manifest, so it neither fetches those clips again nor rewrites their paths. Catches a rerun (or a
    reader) that rebuilds paths from the current layout instead of reading them."""
    from vipant.acquire.manifest import write_manifest

    clips = clips_frame([GOOD, STEREO])
    out_dir, manifest_path = tmp_path / "out", tmp_path / "shard.csv"
    first = download_shard(clips, url_template=file_template, out_dir=out_dir, manifest_path=manifest_path)
    flat = first.copy()
    for i, row in first.iterrows():  # move the files as the old layout had them
        for col in ("audio_path", "video_path"):
            old = Path(row[col])
            new = old.parent.parent / old.name
            old.rename(new)
            flat.loc[i, col] = str(new)
    write_manifest(manifest_path, flat)
    calls = _counting_fetch(monkeypatch)
    again = download_shard(clips, url_template=file_template, out_dir=out_dir, manifest_path=manifest_path)
    assert calls == []
    assert again["audio_path"].tolist() == flat["audio_path"].tolist()
    assert all(Path(p).is_file() for p in again["audio_path"])

    # a clip that lost its flat video is redone into the prefix folders, and its flat audio goes
    Path(flat.loc[0, "video_path"]).unlink()
    calls = _counting_fetch(monkeypatch)
    redone = download_shard(clips, url_template=file_template, out_dir=out_dir, manifest_path=manifest_path)
    assert calls == [first.loc[0, "ytid"]]
    assert redone.loc[0, "audio_path"] == first.loc[0, "audio_path"] and Path(first.loc[0, "audio_path"]).is_file()
    assert not Path(flat.loc[0, "audio_path"]).exists()  # not orphaned
    assert redone.loc[1, "audio_path"] == flat.loc[1, "audio_path"]


def test_video_cuts_that_frames_dropped_are_not_fetched_again(tmp_path, file_template, monkeypatch):
    """With ``frames.keep_video: false`` the frames stage deletes each cut once its JPEGs exist. A later run of
    the shard (forced, or for a retry ticket) must count those clips as done: no download, audio kept, and
    no retry ticket for them (else every invocation reruns the shard and fetches the whole shard again). A
    cut missing for another reason (here deleted by hand, frames never made) is still fetched. Catches a
    rerun that requires every video cut, and a record of dropped cuts that covers clips it should not."""
    from vipant.acquire.manifest import retry_token
    from vipant.cli import main

    clips = pd.concat([clips_frame([GOOD, STEREO]), clips_frame([GOOD]).assign(start=3.0, end=13.0)])
    clips["clip_id"] = [clip_id_for(y, s) for y, s in zip(clips["ytid"], clips["start"])]
    out_dir, manifest_path = tmp_path / "download", tmp_path / "download" / "shard-000.csv"
    first = download_shard(clips, url_template=file_template, out_dir=out_dir, manifest_path=manifest_path)
    assert set(first["status"]) == {"ok"} and len(first) == 3
    lost = clip_id_for(GOOD, 3.0)
    by_id = first.set_index("clip_id")
    Path(by_id.loc[lost, "video_path"]).unlink()  # missing, but not dropped after frames
    # frames as the workflow's rule runs them: the two other cuts go, the lost one fails no_video
    assert (
        main(
            [
                "frames",
                "--manifest",
                str(manifest_path),
                "--out-dir",
                str(tmp_path / "jpg"),
                "--frames-manifest",
                str(tmp_path / "frames.csv"),
                "--no-keep-video",
            ]
        )
        == 0
    )
    dropped = [c for c in first["clip_id"] if c != lost]
    assert not any(Path(by_id.loc[c, "video_path"]).exists() for c in dropped)
    assert retry_token(manifest_path).startswith("retry-1-")  # only the lost cut is work left

    calls = _counting_fetch(monkeypatch)
    again = download_shard(clips, url_template=file_template, out_dir=out_dir, manifest_path=manifest_path)
    assert calls == [GOOD]  # the lost cut's video, once
    assert set(again["status"]) == {"ok"}
    assert Path(again.set_index("clip_id").loc[lost, "video_path"]).is_file()
    for c in dropped:
        assert Path(by_id.loc[c, "audio_path"]).is_file()  # FBANK still reads it
        assert not Path(by_id.loc[c, "video_path"]).exists()
    assert not retry_token(manifest_path).startswith("retry-")
