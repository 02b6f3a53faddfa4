"""The ffmpeg cut: one call turns ``[start, end]`` of a downloaded file into a 16 kHz mono FLAC (and an
H.264 mp4 without audio), written under temporary names and renamed only when the audio passed the checks
(``decode_error``, ``too_short`` beyond ``SHORT_TOLERANCE_S``, ``silent`` below ``SILENCE_PEAK``)."""

from __future__ import annotations

import re
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from vipant.acquire.download.errors import ClipFailed
from vipant.atomic import atomic_path
from vipant.media.ffmpeg import FFmpegError, MediaInfo, ffmpeg_detail, run_ffmpeg

#: Peak amplitude (full scale = 1) under which a clip's audio counts as silent.
SILENCE_PEAK = 1e-4
#: How much shorter than ``end - start`` the written audio may be.
SHORT_TOLERANCE_S = 0.5

_DECODE_TROUBLE = re.compile(
    r"invalid data found|error while decoding|decoding error|corrupt|partial file|invalid nal|"
    r"error splitting|moov atom not found|decode error rate",
    re.IGNORECASE,
)


@dataclass
class CutResult:
    audio_path: Path
    video_path: Path | None
    duration: float
    peak: float


def cut_segment(
    source: Path,
    info: MediaInfo,
    start: float,
    end: float,
    audio_out: Path,
    video_out: Path | None,
    *,
    sample_rate: int = 16000,
    timeout: float = 600.0,
) -> CutResult:
    """Cut ``[start, end]`` of ``source`` into a mono FLAC (and an H.264 mp4 without audio).

    Both outputs go to temporary names and are renamed onto ``audio_out`` / ``video_out`` only when
    the audio passed the checks; otherwise :class:`ClipFailed` is raised and nothing is left behind.
    """
    length = end - start
    if info.duration is not None and start >= info.duration:
        raise ClipFailed("too_short", f"source lasts {info.duration:.2f}s, segment starts at {start:.2f}s")
    with ExitStack() as stack:
        tmp_audio = stack.enter_context(atomic_path(audio_out))
        tmp_video = stack.enter_context(atomic_path(video_out)) if video_out is not None else None
        args = [
            "-ss",
            f"{start:.3f}",
            "-t",
            f"{length:.3f}",
            "-i",
            str(source),
            "-map",
            "0:a:0",
            "-vn",
            "-ac",
            "1",
            "-ar",
            str(sample_rate),
            "-c:a",
            "flac",
            "-sample_fmt",
            "s16",
            str(tmp_audio),
        ]
        if tmp_video is not None:
            args += [
                "-map",
                "0:v:0",
                "-an",
                "-sn",
                "-dn",
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-crf",
                "23",
                "-pix_fmt",
                "yuv420p",
                "-vf",
                "scale=trunc(iw/2)*2:trunc(ih/2)*2",
                "-movflags",
                "+faststart",
                str(tmp_video),
            ]
        try:
            stderr = run_ffmpeg(args, timeout=timeout)
        except FFmpegError as exc:
            raise ClipFailed("decode_error", ffmpeg_detail(exc.stderr)) from exc
        trouble = _DECODE_TROUBLE.search(stderr or "")
        try:
            audio, sr = sf.read(str(tmp_audio), dtype="float32", always_2d=True)
        except Exception as exc:
            raise ClipFailed("decode_error", f"cannot read the cut audio: {exc}") from exc
        duration = audio.shape[0] / float(sr) if sr else 0.0
        peak = float(np.abs(audio).max()) if audio.size else 0.0
        if duration < length - SHORT_TOLERANCE_S:
            if trouble:
                raise ClipFailed("decode_error", ffmpeg_detail(stderr))
            raise ClipFailed("too_short", f"{duration:.2f}s of audio for a {length:.2f}s segment")
        if tmp_video is not None and (not tmp_video.exists() or tmp_video.stat().st_size == 0):
            raise ClipFailed("decode_error", "no video frames were written")
        if peak < SILENCE_PEAK:
            raise ClipFailed("silent", f"peak amplitude {peak:.2e}")
    # both renamed (inner context first)
    return CutResult(audio_out, video_out, duration, peak)
