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
    cmd = [
        ffmpeg_exe(),
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        str(p),
        "-map",
        "0:a:0",
        "-vn",
        "-ac",
        "1",
        "-ar",
        str(sample_rate),
        "-f",
        "s16le",
        "-acodec",
        "pcm_s16le",
        "-",
    ]
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


# More channels than this in the first axis means the array is almost surely ``[samples, channels]``.
MAX_CHANNELS = 64


def decode_array(array, sample_rate: int, name: str, *, timeout: float = 600) -> torch.Tensor:
    """``[1, n]`` float32 16 kHz mono waveform of an in-memory signal, as if it had been a file.

    ``array`` is ``[n]`` (mono) or ``[channels, n]`` (torchaudio's layout) of floats in [-1, 1] at
    ``sample_rate``; numpy arrays and torch tensors both work. It goes through the same ffmpeg conversion
    as a file (downmix, resample, 16-bit), so the samples ``soundfile`` reads from a file embed exactly
    as that file does. ``name`` labels the input in errors (``array #2``).
    """
    data = np.asarray(array.detach().cpu() if isinstance(array, torch.Tensor) else array)
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim != 2:
        raise AudioInputError(name, f"expected a [samples] or [channels, samples] array, got shape {data.shape}")
    if data.shape[0] > MAX_CHANNELS:
        raise AudioInputError(
            name,
            f"shape {data.shape} has {data.shape[0]} channels; pass [channels, samples] "
            "(transpose a soundfile [samples, channels] array)",
        )
    if not np.issubdtype(data.dtype, np.floating):
        raise AudioInputError(name, f"expected float samples in [-1, 1], got dtype {data.dtype}")
    if data.shape[1] == 0:
        raise AudioInputError(name, "no audio samples")
    if not np.isfinite(data).all():
        raise AudioInputError(name, "non-finite samples (NaN or inf)")
    if not sample_rate or sample_rate <= 0:
        raise AudioInputError(name, f"sample_rate must be a positive number of Hz, got {sample_rate!r}")
    raw = np.ascontiguousarray(data.T, dtype="<f4").tobytes()  # interleaved, as ffmpeg's f32le expects
    cmd = [
        ffmpeg_exe(),
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "f32le",
        "-ar",
        str(int(sample_rate)),
        "-ac",
        str(data.shape[0]),
        "-i",
        "pipe:0",
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        "-f",
        "s16le",
        "-acodec",
        "pcm_s16le",
        "-",
    ]
    try:
        proc = subprocess.run(cmd, input=raw, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as err:
        raise AudioInputError(name, f"converting took longer than {timeout:.0f} s") from err
    if proc.returncode != 0:
        raise AudioInputError(
            name, f"ffmpeg cannot convert it ({ffmpeg_detail(proc.stderr.decode('utf-8', 'replace'), limit=160)})"
        )
    samples = np.frombuffer(proc.stdout, dtype="<i2")
    if samples.size < MIN_SAMPLES:
        raise AudioInputError(name, f"too short ({samples.size / SAMPLE_RATE * 1000:.0f} ms of audio, need 25 ms)")
    return torch.from_numpy(samples.astype(np.float32) / np.float32(32768.0))[None, :]
