"""Fetching one video (or one clip's section of it) with yt-dlp: one attempt (:func:`fetch_video`), the
attempts again after ``network`` errors with exponential backoff (:func:`fetch_with_retries`; ``_sleep``
is the one pause hook, which the shard's blocked pauses use too), and the ``ffmpeg`` link on PATH that
yt-dlp's section downloads need. Not to be confused with :mod:`vipant.acquire.fetch` (dataset index
files and archives)."""

from __future__ import annotations

import logging
import os
import re
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from vipant.acquire.download.cleanup import _remove
from vipant.acquire.download.errors import ClipFailed, DownloadFailed, classify_download_error, short_message
from vipant.media.ffmpeg import ffmpeg_exe

log = logging.getLogger(__name__)

#: yt-dlp's answers when a format cannot be fetched in part (YoutubeDL.dl).
_SECTION_REFUSED = re.compile(r"cannot be partially downloaded|requested downloading the video partially")


def fetch_video(url: str, dest_dir: Path, ydl: Any, section: tuple[float, float] | None = None) -> Path:
    """Download ``url`` with the ``YoutubeDL`` ``ydl`` into ``dest_dir``; return the media file. One attempt.

    A shard builds one ``YoutubeDL`` (from :func:`ytdlp_options`) for all its videos: building one
    registers every extractor, ~50 ms each time. Its ``paths``, which yt-dlp reads at download time, are
    pointed at ``dest_dir`` here, so every video still lands in a folder of its own. With ``section =
    (start, end)`` only that part is fetched (yt-dlp's ``download_ranges``: ffmpeg reads the remote file
    with Range requests, and the cut is re-encoded at the section's edges); the file then starts at
    ``start``.
    """
    from yt_dlp.utils import download_range_func

    dest_dir.mkdir(parents=True, exist_ok=True)
    ydl.params["paths"] = {"home": str(dest_dir), "temp": str(dest_dir)}
    if section is None:
        ydl.params.pop("download_ranges", None)
        ydl.params.pop("force_keyframes_at_cuts", None)
    else:
        ydl.params["download_ranges"] = download_range_func(None, [tuple(section)])
        ydl.params["force_keyframes_at_cuts"] = True
    info = ydl.extract_info(url, download=True)
    candidates: list[Path] = []
    if isinstance(info, dict):
        for d in info.get("requested_downloads") or []:
            fp = d.get("filepath") or d.get("_filename")
            if fp:
                candidates.append(Path(fp))
    candidates += sorted(p for p in dest_dir.iterdir() if p.is_file() and not p.name.endswith((".part", ".ytdl")))
    for path in candidates:
        if path.is_file() and path.stat().st_size > 0:
            return path
    raise ClipFailed("decode_error", "yt-dlp reported success but wrote no file")


def _sleep(seconds: float) -> None:
    """Backoff pause (a module-level hook so tests can observe the delays)."""
    time.sleep(seconds)


def fetch_with_retries(
    url: str,
    dest_dir: Path,
    ydl: Any,
    *,
    retries: int = 3,
    backoff: float = 1.0,
    section: tuple[float, float] | None = None,
) -> tuple[Path, int]:
    """Call :func:`fetch_video` up to ``1 + retries`` times; return (file, attempts).

    Only ``network`` errors are tried again here; any other reason raises :class:`DownloadFailed` at once
    (a block is not lifted by asking again within seconds; the shard's own backoff handles it).
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            path = fetch_video(url, dest_dir, ydl) if section is None else fetch_video(url, dest_dir, ydl, section)
            return path, attempt
        except ClipFailed:
            raise
        except Exception as exc:  # yt-dlp raises DownloadError/ExtractorError/...
            detail = short_message(exc)
            if section is not None and _SECTION_REFUSED.search(detail):
                raise ClipFailed("decode_error", detail) from exc  # no retry: the whole video is the way
            reason = classify_download_error(exc)
            if reason != "network":
                raise DownloadFailed(reason, detail, attempt) from exc
            if attempt > retries:
                raise DownloadFailed(reason, f"after {attempt} attempts: {detail}", attempt) from exc
            delay = backoff * (2 ** (attempt - 1))
            log.info(
                "transient error on %s (attempt %d/%d), retrying in %.2fs: %s", url, attempt, retries + 1, delay, detail
            )
            for p in dest_dir.iterdir():  # drop partial files before the next try
                _remove(p)
            _sleep(delay)


@contextmanager
def ffmpeg_on_path(folder: Path) -> Iterator[None]:
    """Put an executable named ``ffmpeg`` (a link to imageio-ffmpeg's binary) first on PATH.

    yt-dlp's section downloads check PATH for ``ffmpeg`` and ignore ``ffmpeg_location``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "ffmpeg"
    if not link.exists():
        link.symlink_to(ffmpeg_exe())
    old = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([str(folder), old]) if old else str(folder)
    try:
        yield
    finally:
        os.environ["PATH"] = old
