"""One place that finds and runs ffmpeg.

The binary comes from ``imageio-ffmpeg`` (a wheel that ships a static ffmpeg), so no system package is
needed; ``VIPANT_FFMPEG`` overrides it. That build has no ``ffprobe``, so :func:`probe` reads the stream
summary ffmpeg prints for ``-i``. Commands are argument lists, never shell strings.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence


class FFmpegError(RuntimeError):
    """ffmpeg exited non-zero; ``stderr_tail`` holds the last lines it printed."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        self.args_list = list(args)
        self.returncode = returncode
        self.stderr = stderr
        self.stderr_tail = "\n".join(stderr.strip().splitlines()[-5:])
        super().__init__(f"ffmpeg exited with {returncode}: {self.stderr_tail}")


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary: ``$VIPANT_FFMPEG``, else the one imageio-ffmpeg ships."""
    override = os.environ.get("VIPANT_FFMPEG")
    if override:
        return override
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(args: Sequence[str], *, timeout: float | None = 600, input: bytes | None = None) -> str:
    """Run ``ffmpeg -nostdin -hide_banner -loglevel error <args>``; return stderr, raise on failure."""
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args]
    if input is not None:
        cmd.remove("-nostdin")
    proc = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout)
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise FFmpegError(cmd, proc.returncode, stderr)
    return stderr


@dataclass(frozen=True)
class MediaInfo:
    """What ``ffmpeg -i`` says about a file. ``duration`` is None when the container does not say."""

    duration: float | None
    has_audio: bool
    has_video: bool
    sample_rate: int | None = None
    channels: int | None = None
    width: int | None = None
    height: int | None = None


class ProbeError(RuntimeError):
    """ffmpeg could not open or parse the file (missing, corrupt, not media)."""


_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_AUDIO = re.compile(r"Stream #\S+.*?: Audio: [^,]+(?:\([^)]*\))?, (\d+) Hz, ([^,]+)")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: .*?, (\d{2,5})x(\d{2,5})")
_CHANNEL_WORDS = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "5.0": 5, "5.1": 6, "6.1": 7, "7.1": 8}


def _channels(text: str) -> int | None:
    text = text.strip()
    if text in _CHANNEL_WORDS:
        return _CHANNEL_WORDS[text]
    m = re.match(r"(\d+) channels", text)
    return int(m.group(1)) if m else None


def probe(path: str | os.PathLike[str], *, timeout: float = 60) -> MediaInfo:
    """Describe a media file's streams. Raises :class:`ProbeError` if ffmpeg cannot read it."""
    path = Path(path)
    if not path.is_file():
        raise ProbeError(f"{path}: no such file")
    proc = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(path)], capture_output=True, timeout=timeout
    )
    text = proc.stderr.decode("utf-8", "replace")
    # Without an output file ffmpeg always exits 1; a readable input still prints "Input #0".
    if "Input #0" not in text:
        tail = " ".join(text.strip().splitlines()[-2:])
        raise ProbeError(f"{path}: ffmpeg cannot read it ({tail})")
    duration = None
    m = _DURATION.search(text)
    if m:
        h, mnt, s = m.groups()
        duration = int(h) * 3600 + int(mnt) * 60 + float(s)
    audio = _AUDIO.search(text)
    video = _VIDEO.search(text)
    return MediaInfo(
        duration=duration,
        has_audio=audio is not None or ": Audio:" in text,
        has_video=video is not None,
        sample_rate=int(audio.group(1)) if audio else None,
        channels=_channels(audio.group(2)) if audio else None,
        width=int(video.group(1)) if video else None,
        height=int(video.group(2)) if video else None,
    )


_FFMPEG_NOISE = re.compile(
    r"terminating thread|task finished with error|nothing was written into output|"
    r"error number -?\d+ occurred|conversion failed",
    re.IGNORECASE,
)


def ffmpeg_detail(stderr: str, limit: int = 240) -> str:
    """A short, stable summary of ffmpeg's complaints: ``[h264 @ 0x55..]`` prefixes and thread
    bookkeeping lines dropped, the first two meaningful lines kept."""
    lines = []
    for line in stderr.splitlines():
        line = re.sub(r"\[[^\]]*@ 0x[0-9a-f]+\]\s*", "", line).strip()
        if line and not _FFMPEG_NOISE.search(line) and line not in lines:
            lines.append(line)
    return ("; ".join(lines[:2]) or "ffmpeg failed")[:limit]
