"""Decode any audio file ffmpeg can read into the 16 kHz mono waveform the workflow trains on.

The download stage (``vipant.acquire.download``) turns every training clip into 16 kHz mono 16-bit
FLAC with ``ffmpeg -ac 1 -ar 16000 -sample_fmt s16``, and the FBANK stage reads that back as float32.
We ask ffmpeg for exactly the same samples (16-bit, downmixed by ffmpeg, resampled by ffmpeg) through
a pipe, so a user's file reaches the feature extractor the way a downloaded clip does: wav, flac, mp3,
ogg, m4a, video files with a sound track, any sample rate, any channel count.

Every way a file can be unusable becomes an :class:`AudioInputError` with a short reason that names the
file, so a batch command can report it on one line and carry on with the other files.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import torch

from vipant.features.fbank import SAMPLE_RATE
from vipant.media.ffmpeg import ffmpeg_detail, ffmpeg_exe

# One Kaldi analysis window (25 ms): anything shorter yields no FBANK frame at all.
MIN_SAMPLES = int(0.025 * SAMPLE_RATE)


class AudioInputError(RuntimeError):
    """A user's file cannot be turned into audio; ``reason`` is a short phrase, ``path`` the file."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def decode_audio(path: str | os.PathLike[str], sample_rate: int = SAMPLE_RATE, *, timeout: float = 600) -> torch.Tensor:
    """``[1, n]`` float32 waveform of the file's first audio stream, downmixed to mono at ``sample_rate``.

    Raises :class:`AudioInputError` for a missing path, a directory, an empty file, a file ffmpeg cannot
    read (corrupt, not media), a file without an audio stream, and audio shorter than one 25 ms window.
    """
    p = Path(path)
    if not p.exists():
        raise AudioInputError(path, "no such file")
    if p.is_dir():
        raise AudioInputError(path, "is a directory, not an audio file")
    if p.stat().st_size == 0:
        raise AudioInputError(path, "empty file (0 bytes)")
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(p),
           "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(sample_rate), "-f", "s16le", "-acodec", "pcm_s16le", "-"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as err:
        raise AudioInputError(path, f"decoding took longer than {timeout:.0f} s") from err
    except OSError as err:  # unreadable file or ffmpeg missing: both are worth one clear line
        raise AudioInputError(path, f"cannot run ffmpeg ({err})") from err
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        if "matches no streams" in stderr:
            raise AudioInputError(path, "no audio stream")
        raise AudioInputError(path, f"not a readable audio file ({ffmpeg_detail(stderr, limit=160)})")
    samples = np.frombuffer(proc.stdout, dtype="<i2")
    if samples.size == 0:
        raise AudioInputError(path, "no audio samples decoded")
    if samples.size < MIN_SAMPLES:
        raise AudioInputError(path, f"too short ({samples.size / sample_rate * 1000:.0f} ms of audio, need 25 ms)")
    # soundfile's int16 -> float32 scaling, so the values equal what the FBANK stage reads from FLAC
    wave = torch.from_numpy(samples.astype(np.float32) / np.float32(32768.0))
    return wave[None, :]
