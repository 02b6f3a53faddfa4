"""Encode a clip as YouTube-like mp4: H.264 video (libx264) + AAC audio, ``+faststart``.

Frames are piped to ffmpeg as raw RGB24; the audio goes through a temporary wav. Encoding is single
threaded and bit-exact (no encoder/version tags, no creation time), so the same frames and waveform
give the same bytes on the same ffmpeg build.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from vipant.atomic import atomic_path
from vipant.media.ffmpeg import FFmpegError, ffmpeg_exe

log = logging.getLogger(__name__)


def write_mp4(
    path: str | os.PathLike[str],
    frames: bytes,
    width: int,
    height: int,
    fps: int,
    audio: np.ndarray | None,
    sample_rate: int | None = None,
    *,
    crf: int = 20,
    faststart: bool = True,
) -> None:
    """Write ``frames`` (raw RGB24, ``width`` x ``height``) and ``audio`` (``(samples, channels)`` float, or
    None for a video without an audio stream) to ``path`` atomically. ``faststart`` puts the index
    (moov atom) before the media data, as YouTube serves its files.
    """
    frame_size = width * height * 3
    if len(frames) % frame_size:
        raise ValueError(f"{len(frames)} bytes is not a whole number of {width}x{height} RGB frames")
    if audio is not None and sample_rate is None:
        raise ValueError("sample_rate is required with audio")
    with tempfile.TemporaryDirectory(prefix="vipant-synth-") as tmp, atomic_path(path) as out:
        args = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(fps), "-i", "pipe:0"]
        if audio is not None:
            wav = Path(tmp) / "audio.wav"
            audio2d = audio if audio.ndim == 2 else audio[:, None]
            sf.write(wav, np.clip(audio2d, -1.0, 1.0), sample_rate, subtype="PCM_16")
            args += ["-i", str(wav), "-map", "0:v", "-map", "1:a"]
        args += [
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            str(crf),
            "-g",
            str(4 * fps),
            "-pix_fmt",
            "yuv420p",
            "-threads",
            "1",
            "-filter_threads",
            "1",
        ]
        if audio is not None:
            channels = audio2d.shape[1]
            # The pipeline keeps 16 kHz audio and the sources stay below 8 kHz: coding more costs time only.
            args += [
                "-c:a",
                "aac",
                "-aac_coder",
                "fast",
                "-cutoff",
                "8000",
                "-b:a",
                "48k" if channels == 1 else "64k",
                "-ar",
                str(sample_rate),
                "-ac",
                str(channels),
            ]
        else:
            args += ["-an"]
        args += [
            *(["-movflags", "+faststart"] if faststart else []),
            "-map_metadata",
            "-1",
            "-fflags",
            "+bitexact",
            "-flags:v",
            "+bitexact",
            "-flags:a",
            "+bitexact",
            str(out),
        ]
        _pipe_to_ffmpeg(args, frames)


def _pipe_to_ffmpeg(args: list[str], data: bytes, timeout: float = 600) -> None:
    """Run ffmpeg with ``data`` on its stdin in one write (``subprocess.run(input=...)`` writes 512-byte
    chunks, which costs more than the encoding here); raise FFmpegError on failure."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        assert proc.stdin is not None
        try:
            proc.stdin.write(data)
        except BrokenPipeError:  # ffmpeg gave up early; its stderr says why
            pass
        finally:
            proc.stdin.close()
        returncode = proc.wait(timeout=timeout)
        if returncode != 0:
            err.seek(0)
            raise FFmpegError(cmd, returncode, err.read().decode("utf-8", "replace"))
