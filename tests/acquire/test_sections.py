"""Section downloads (yt-dlp ``download_ranges``) against a Range-honouring loopback server, and the
whole-video + ffmpeg-cut fallback."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

_fx = sys.modules["_acquire_conftest"]  # tests/acquire/conftest.py (see its last lines)

from vipant.acquire import download as dl  # noqa: E402
from vipant.acquire.download import download_shard  # noqa: E402

LONG, long_video_tone = _fx.LONG, _fx.long_video_tone
START, END = 20.0, 30.0


def _clip() -> pd.DataFrame:
    return pd.DataFrame([{"clip_id": f"{LONG}_20000", "ytid": LONG, "start": START, "end": END}])


def _recording_fetch(monkeypatch, fail_sections_with: str | None = None):
    """Wrap fetch_video: record (section, bytes of the fetched file) of every call."""
    calls: list[tuple[object, int]] = []
    real = dl.fetch_video

    def fetch(url, dest_dir, ydl, section=None):
        if section is not None and fail_sections_with is not None:
            from yt_dlp.utils import DownloadError

            calls.append((section, 0))
            raise DownloadError(fail_sections_with)
        path = real(url, dest_dir, ydl, section)
        calls.append((section, path.stat().st_size))
        return path

    monkeypatch.setattr(dl.fetch, "fetch_video", fetch)
    return calls


def _dominant_hz(path: Path) -> float:
    audio, sr = sf.read(path)
    spectrum = np.abs(np.fft.rfft(audio))
    return float(np.fft.rfftfreq(len(audio), 1.0 / sr)[np.argmax(spectrum)])


def test_section_download_fetches_only_the_segment(tmp_path, bad_day_server, media_dir, monkeypatch):
    """Catches a section path that is not taken (the whole 60 s video fetched), a cut offset by the section
    start (a section starts at ``start``, so cutting at ``start`` again reads past its end and fails, or
    the fallback hides it), and a section of the wrong part of the video (the tone tells 20-30 s apart)."""
    calls = _recording_fetch(monkeypatch)
    full = (media_dir / f"{LONG}.mp4").stat().st_size
    m = download_shard(
        _clip(),
        url_template=bad_day_server.template,
        out_dir=tmp_path / "o",
        manifest_path=tmp_path / "m.csv",
        sections=True,
    )
    row = m.iloc[0]
    assert row["status"] == "ok", row["detail"]
    assert [c[0] for c in calls] == [(START, END)]  # one section download, no fallback
    fetched = calls[0][1]
    assert fetched < 0.35 * full, (fetched, full)  # 10 s of a 60 s file (measured ~ a sixth)
    # ffmpeg seeked: a Range request starting about a third into the file (20 s of 60 s)
    starts = [int(r.split("=")[1].split("-")[0]) for _, r in bad_day_server.ranges]
    assert max(starts) > 0.25 * full
    assert abs(row["duration"] - 10.0) < 0.05
    assert abs(_dominant_hz(Path(row["audio_path"])) - long_video_tone(START)) < 2.0


def test_failed_section_falls_back_to_the_whole_video(tmp_path, bad_day_server, media_dir, monkeypatch):
    """Catches a section failure (yt-dlp's "cannot be partially downloaded") recorded as the clip's outcome
    instead of falling back to the whole video and the ffmpeg cut, and a fallback cut at the wrong offset."""
    calls = _recording_fetch(
        monkeypatch, fail_sections_with="ERROR: This format cannot be partially downloaded. Aborting"
    )
    full = (media_dir / f"{LONG}.mp4").stat().st_size
    m = download_shard(
        _clip(),
        url_template=bad_day_server.template,
        out_dir=tmp_path / "o",
        manifest_path=tmp_path / "m.csv",
        sections=True,
    )
    row = m.iloc[0]
    assert row["status"] == "ok", row["detail"]
    assert calls == [((START, END), 0), (None, full)]
    assert abs(_dominant_hz(Path(row["audio_path"])) - long_video_tone(START)) < 2.0


def test_blocked_section_does_not_fetch_the_whole_video(tmp_path, bad_day_server, monkeypatch):
    """Catches a fallback after a block (a rate-limited client asking again, for the whole video)."""
    calls = _recording_fetch(
        monkeypatch, fail_sections_with="ERROR: unable to download video data: HTTP Error 403: Forbidden"
    )
    m = download_shard(
        _clip(),
        url_template=bad_day_server.template,
        out_dir=tmp_path / "o",
        manifest_path=tmp_path / "m.csv",
        sections=True,
        blocked_limit=0,
    )
    assert (m.loc[0, "status"], m.loc[0, "reason"]) == ("failed", "blocked")
    assert calls == [((START, END), 0)]
    assert not list((tmp_path / "o" / "audio").iterdir())
