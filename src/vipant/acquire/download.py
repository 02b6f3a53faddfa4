"""The download stage: fetch each clip's segment (or video) with yt-dlp, cut it with ffmpeg.

For one shard of clips (:func:`download_shard`), every clip ends as one manifest row (see
:mod:`vipant.acquire.manifest`): ``ok`` with

* ``{out_dir}/audio/{prefix}/{clip_id}.flac`` — the segment's audio, 16 kHz (``sample_rate``) mono FLAC,
  downmixed and resampled by ffmpeg;
* ``{out_dir}/video/{prefix}/{clip_id}.mp4`` — the segment's video only, re-encoded H.264 (``-preset
  veryfast``) so the cut is frame accurate (when ``keep_video``);

where ``{prefix}`` is the clip id's first two characters (:mod:`vipant.layout`: no folder holds millions
of files at paper scale). Readers take the paths from the manifest, so shards written in the earlier flat
layout stay valid and are not downloaded again.

or ``failed`` with a reason from :data:`~vipant.acquire.manifest.REASONS`.

How it goes, per clip:

1. the YouTube id is checked (11 characters of ``[A-Za-z0-9_-]``) and so is the clip id (it becomes a
   file name): anything else is ``invalid_id`` and touches neither disk nor network;
2. with ``sections`` (the paper preset), yt-dlp fetches only ``[start, end]`` (``download_ranges``:
   ffmpeg reads the remote file with Range requests; yt-dlp wants an executable named ``ffmpeg`` on
   PATH, so a link to imageio-ffmpeg's binary is put there for the shard). A section that cannot be
   fetched or cut for a reason other than the video's own (``unavailable``, ``blocked``,
   ``age_restricted``, no audio/video, silence) falls back to step 3. Without ``sections`` (``file://``
   URLs cannot be fetched in part) yt-dlp downloads the whole video into a per-shard temporary folder
   inside ``out_dir``; several segments of the same video share that download;
3. errors are classified from yt-dlp's own messages (:func:`classify_download_error`; the messages are
   kept verbatim in tests/acquire/ytdlp_messages.yaml): deleted / private / terminated / copyright →
   ``unavailable`` (final); rate limits, bot checks, 400/401/403/429, format or extractor failures →
   ``blocked``; age gates → ``age_restricted`` (retried by a run with a cookie file); timeouts, 5xx,
   resets → ``network``, retried ``retries`` more times, sleeping ``backoff * 2**k`` seconds;
4. one ffmpeg call cuts the segment into both outputs (input seeking + re-encoding, so the cut is
   accurate); ``no_audio`` / ``no_video`` / ``decode_error`` / ``too_short`` (audio shorter than
   ``end - start - 0.5`` s) / ``silent`` (peak below :data:`SILENCE_PEAK`) are decided here. Outputs
   are written under temporary names and renamed only when every check passed, so no half file
   ever exists under a final name and a failed clip leaves no output;
5. downloads are deleted, the row is appended (fsync'd) to the shard's journal.

A shard that gets ``blocked_limit`` videos in a row answered ``blocked`` pauses (``blocked_pause``
seconds, doubled each time); after ``blocked_pauses`` pauses it stops and records its untried clips as
``blocked``, rather than racing through them while YouTube refuses every request.

A rerun skips clips already journalled (or in an existing final manifest) as ok whose files exist (a
video cut that the frames stage deleted on purpose, listed in ``<manifest>.video_dropped.txt``, counts as
there) and failed ones with a final reason; ``network`` and ``blocked`` failures are tried again. The final
manifest, sorted by clip id, is written atomically at the end and the journal removed; the workflow
reruns a shard whose manifest still has retryable rows (:func:`~vipant.acquire.manifest.retry_token`).
No exception raised while handling a clip escapes: it becomes a row (``decode_error`` with detail
``"internal error: ..."``, retried on rerun). docs/download.md covers pacing, cookies, proxies and
what ~300 videos per hour per IP means for AudioSet.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import re
import shutil
import socket
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np
import pandas as pd
import soundfile as sf

from vipant.acquire.manifest import (
    INTERNAL_DETAIL_PREFIX,
    RETRYABLE_REASONS,
    STATUS_FAILED,
    STATUS_OK,
    Journal,
    dropped_videos_path,
    is_final,
    journal_path,
    make_row,
    normalize_manifest,
    read_journal,
    read_dropped_videos,
    read_manifest,
    write_manifest,
    write_retry_token,
)
from vipant.atomic import atomic_path
from vipant.layout import clip_file
from vipant.media.ffmpeg import FFmpegError, MediaInfo, ProbeError, ffmpeg_detail, ffmpeg_exe, probe, run_ffmpeg
from vipant.progress import Progress

log = logging.getLogger(__name__)

#: Paper preset: where a YouTube id's video lives.
YOUTUBE_URL_TEMPLATE = "https://www.youtube.com/watch?v={ytid}"
#: Prefer a small video + audio; fall back to the best single file (generic / file:// URLs).
DEFAULT_FORMAT = "bv*[height<=360]+ba/b[height<=360]/b"
#: Peak amplitude (full scale = 1) under which a clip's audio counts as silent.
SILENCE_PEAK = 1e-4
#: How much shorter than ``end - start`` the written audio may be.
SHORT_TOLERANCE_S = 0.5

#: Download failures that a whole-video download would meet too (no fallback from a section to it).
FINAL_FOR_VIDEO = frozenset({"unavailable", "blocked", "age_restricted"})

#: Cut failures that say something about the video itself: a section that shows one is not retried whole.
CONTENT_REASONS = frozenset({"no_audio", "no_video", "silent"})

#: yt-dlp's answers when a format cannot be fetched in part (YoutubeDL.dl).
_SECTION_REFUSED = re.compile(r"cannot be partially downloaded|requested downloading the video partially")

_YTID = re.compile(r"[A-Za-z0-9_-]{11}")
_SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}")


# --------------------------------------------------------------------------------------------------
# Errors and their classification
# --------------------------------------------------------------------------------------------------
class ClipFailed(Exception):
    """A clip failed for a known reason (one of ``REASONS``)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class DownloadFailed(ClipFailed):
    """yt-dlp failed; ``reason`` is one of ``unavailable``, ``blocked``, ``age_restricted``, ``network``."""

    def __init__(self, reason: str, detail: str, attempts: int = 1) -> None:
        super().__init__(reason, detail)
        self.attempts = attempts


# How yt-dlp's errors map onto manifest reasons. The messages these patterns must match are kept
# verbatim, with where yt-dlp builds each one, in tests/acquire/ytdlp_messages.yaml. Order matters:
# YouTube's rate-limit answer begins "Video unavailable" and its bot check begins "Sign in", so the
# blocked and age patterns are looked at before the final ones.
_BLOCKED_FIRST = [
    r"try again later",  # "Video unavailable. This content isn't available, try again later. ... rate-limited"
    r"rate-?limit",
    r"confirm you.?re not a bot",  # YouTube writes a curly apostrophe
    r"captcha",
    r"too many requests",
]
_AGE_PATTERNS = [
    r"confirm your age",
    r"age-restricted",
    r"inappropriate for some users",
    r"age_verification_required",
    r"age_check_required",
]
_UNAVAILABLE_PATTERNS = [
    r"video unavailable",
    r"private video",
    r"this video is private",
    r"has been removed",
    r"been terminated",
    r"no longer available",
    r"copyright",
    r"video does not exist",
    r"this video has been deleted",
    r"not (made this video )?available in your country",
    r"geo.?restrict",
    r"drm protected",
    r"members-only",
    r"no such file or directory",
    r"file not found",
    r"unsupported url",
    r"is not a valid url",
    r"http error 40[14]",
    r"http error 410",
    r"http error 451",
]
_BLOCKED_PATTERNS = [
    r"http error 403",
    r"http error 429",
    r"http error 400",
    r"requested format is not available",
    r"no video formats found",
    r"unable to extract",
    r"failed to extract any player response",
    r"sign in",  # any other login wall
    r"cookies have been invalidated",
]
_NETWORK_PATTERNS = [
    r"timed out",
    r"timeout",
    r"temporar",  # temporary failure in name resolution / temporarily unavailable
    r"connection (reset|refused|aborted)",
    r"remote end closed",
    r"broken pipe",
    r"incomplete ?read",
    r"http error 5\d\d",
    r"network is unreachable",
    r"name or service not known",
    r"content too short",
    r"did not get any data blocks",
]

_UNAVAILABLE_STATUS = {404, 410, 451}
_BLOCKED_STATUS = {400, 401, 403, 429}


def _exception_chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        exc_info = getattr(e, "exc_info", None)
        if isinstance(exc_info, tuple) and len(exc_info) >= 2 and isinstance(exc_info[1], BaseException):
            todo.append(exc_info[1])
        cause = getattr(e, "cause", None)
        if isinstance(cause, BaseException):
            todo.append(cause)
        todo.append(e.__cause__)
        todo.append(e.__context__)
    return seen


def short_message(exc: BaseException, limit: int = 240) -> str:
    text = " ".join(str(exc).split())
    text = re.sub(r"^(ERROR:\s*)+", "", text)
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return (text or type(exc).__name__)[:limit]


def _matches(patterns: list[str], text: str) -> bool:
    return any(re.search(p, text) for p in patterns)


def classify_message(text: str) -> str | None:
    """The reason a yt-dlp error message names, or None when the text says nothing known."""
    text = text.lower()
    if _matches(_BLOCKED_FIRST, text):
        return "blocked"
    if _matches(_AGE_PATTERNS, text):
        return "age_restricted"
    if _matches(_UNAVAILABLE_PATTERNS, text):
        return "unavailable"
    if _matches(_BLOCKED_PATTERNS, text):
        return "blocked"
    if _matches(_NETWORK_PATTERNS, text):
        return "network"
    return None


def classify_download_error(exc: BaseException) -> str:
    """The manifest reason of a failed download: ``unavailable``, ``blocked``, ``age_restricted`` or ``network``.

    ``unavailable`` (deleted, private, terminated, copyright, 404/410/451, a missing file) is final.
    ``blocked`` (rate limit, bot check, captcha, 400/401/403/429, format or extractor failures, which is
    what yt-dlp says when YouTube changes) and ``network`` (timeouts, 5xx, resets) are retried by every
    rerun; only ``network`` is retried within a run, since asking again at once does not lift a block.
    ``age_restricted`` needs a cookie file. YouTube-specific wording is looked at before HTTP status
    codes along the exception chain, then the remaining messages; an error that matches nothing is
    ``network``, so that a rerun tries it again.
    """
    chain = _exception_chain(exc)
    text = " ".join(str(e) for e in chain)
    low = text.lower()
    if _matches(_BLOCKED_FIRST, low):
        return "blocked"
    if _matches(_AGE_PATTERNS, low):
        return "age_restricted"
    for e in chain:
        status = getattr(e, "status", None)
        if status is None:
            status = getattr(e, "code", None)
        if isinstance(status, int) and 100 <= status < 600:
            if status in _UNAVAILABLE_STATUS:
                return "unavailable"
            if status in _BLOCKED_STATUS:
                return "blocked"
            if status >= 500 or status == 408:
                return "network"
    for e in chain:
        if isinstance(e, (FileNotFoundError, IsADirectoryError, NotADirectoryError)):
            return "unavailable"
        if isinstance(e, (TimeoutError, socket.timeout, ConnectionError)):
            return "network"
    return classify_message(text) or "network"


# --------------------------------------------------------------------------------------------------
# yt-dlp
# --------------------------------------------------------------------------------------------------
class _YtdlpLogger:
    """Route yt-dlp's messages to :mod:`logging` (errors are recorded in the manifest anyway)."""

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger

    def debug(self, msg: str) -> None:
        self._log.debug("%s", msg)

    def info(self, msg: str) -> None:
        self._log.debug("%s", msg)

    def warning(self, msg: str) -> None:
        self._log.debug("yt-dlp warning: %s", msg)

    def error(self, msg: str) -> None:
        self._log.debug("yt-dlp error: %s", msg)


@dataclass(frozen=True)
class YtdlpSettings:
    """How a shard talks to YouTube: pacing, identity, the JavaScript runtime (config ``download``).

    yt-dlp's maintainers quote roughly 300 videos per hour per IP address before YouTube starts
    answering with rate-limit errors; docs/download.md turns that into IPs x days for AudioSet.
    """

    sleep_interval: float = 0.0  # seconds slept before each video (yt-dlp ``sleep_interval``)
    max_sleep_interval: float = 0.0  # upper end of a random sleep in [sleep_interval, this]; 0: fixed
    sleep_interval_requests: float = 0.0  # seconds between the extractor's requests of one video
    cookies: str = ""  # Netscape cookie file (``cookiefile``): signed-in sessions pass age gates, bot checks
    proxy: str = ""  # e.g. socks5://127.0.0.1:1080 (``proxy``)
    rate_limit: str = ""  # bytes/s, yt-dlp syntax such as "2M" (``ratelimit``)
    js_runtime: str = "deno"  # yt-dlp's ``js_runtimes`` key: deno, node, bun or quickjs; "" disables
    js_runtime_path: str = ""  # the runtime's executable (or its folder); "": looked up by yt-dlp
    socket_timeout: float = 30.0

    def params(self) -> dict[str, Any]:
        """The ``YoutubeDL`` parameters these settings stand for."""
        from yt_dlp.utils import parse_bytes

        out: dict[str, Any] = {"socket_timeout": self.socket_timeout}
        if self.sleep_interval > 0:
            out["sleep_interval"] = self.sleep_interval
            if self.max_sleep_interval > self.sleep_interval:
                out["max_sleep_interval"] = self.max_sleep_interval
        if self.sleep_interval_requests > 0:
            out["sleep_interval_requests"] = self.sleep_interval_requests
        if self.cookies:
            out["cookiefile"] = str(self.cookies)
        if self.proxy:
            out["proxy"] = self.proxy
        if self.rate_limit:
            rate = parse_bytes(self.rate_limit)
            if rate is None:
                raise ValueError(f"download rate_limit {self.rate_limit!r} is not a rate such as 500K or 2M")
            out["ratelimit"] = rate
        out["js_runtimes"] = (
            {self.js_runtime: {"path": self.js_runtime_path} if self.js_runtime_path else {}}
            if self.js_runtime else {}
        )
        return out


def find_js_runtime(name: str = "deno", path: str = "") -> dict[str, Any] | None:
    """The JavaScript runtime yt-dlp would use for YouTube, as yt-dlp itself detects it, or None.

    Returns ``{"name", "path", "version", "supported"}``; None when the executable is missing or older
    than yt-dlp supports (YouTube extraction without one is deprecated in yt-dlp and misses formats).
    """
    import yt_dlp  # noqa: F401  (registers the runtimes)
    from yt_dlp.globals import supported_js_runtimes

    runtime_cls = supported_js_runtimes.value.get(name)
    if runtime_cls is None:
        raise ValueError(f"unknown JavaScript runtime {name!r}; yt-dlp supports "
                         f"{sorted(supported_js_runtimes.value)}")
    info = runtime_cls(path=path or None).info
    if info is None or info.supported is False:
        return None
    return {"name": info.name, "path": info.path, "version": info.version, "supported": bool(info.supported)}


def js_challenge_problems(name: str = "deno", path: str = "") -> list[str]:
    """What keeps yt-dlp from solving YouTube's JavaScript challenges here ([] when nothing does)."""
    problems = []
    if not name:
        return ["no JavaScript runtime configured (download.js_runtime is empty)"]
    if find_js_runtime(name, path) is None:
        problems.append(f"JavaScript runtime {name!r} not found or too old"
                        + (f" at {path}" if path else " on PATH") + " (pip install deno, or set download.js_runtime_path)")
    if importlib.util.find_spec("yt_dlp_ejs") is None:
        problems.append("the yt-dlp-ejs package is not installed (pip install yt-dlp-ejs)")
    return problems


def ytdlp_options(
    dest_dir: Path,
    *,
    settings: YtdlpSettings | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """yt-dlp ``YoutubeDL`` parameters; files go to ``dest_dir`` (:func:`fetch_video` repoints it per video)."""
    opts: dict[str, Any] = {
        "format": DEFAULT_FORMAT,
        "outtmpl": {"default": "source.%(ext)s"},
        "paths": {"home": str(dest_dir), "temp": str(dest_dir)},
        "ffmpeg_location": ffmpeg_exe(),
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "noplaylist": True,
        "enable_file_urls": True,
        "cachedir": False,  # nothing outside out_dir is written
        "overwrites": True,
        "continuedl": False,
        "retries": 0,  # retries are ours, with backoff
        "fragment_retries": 0,
        "extractor_retries": 0,
        "color": {"stderr": "no_color", "stdout": "no_color"},
        "logger": _YtdlpLogger(logging.getLogger(__name__ + ".ytdlp")),
    }
    opts.update((settings or YtdlpSettings()).params())
    if extra:
        opts.update(extra)
    return opts


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
            log.info("transient error on %s (attempt %d/%d), retrying in %.2fs: %s", url, attempt,
                     retries + 1, delay, detail)
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


# --------------------------------------------------------------------------------------------------
# ffmpeg cut
# --------------------------------------------------------------------------------------------------
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
        args = ["-ss", f"{start:.3f}", "-t", f"{length:.3f}", "-i", str(source),
                "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(sample_rate), "-c:a", "flac",
                "-sample_fmt", "s16", str(tmp_audio)]
        if tmp_video is not None:
            args += ["-map", "0:v:0", "-an", "-sn", "-dn", "-c:v", "libx264", "-preset", "veryfast",
                     "-crf", "23", "-pix_fmt", "yuv420p", "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2",
                     "-movflags", "+faststart", str(tmp_video)]
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


# --------------------------------------------------------------------------------------------------
# The shard
# --------------------------------------------------------------------------------------------------
def valid_ytid(ytid: Any) -> bool:
    return isinstance(ytid, str) and _YTID.fullmatch(ytid) is not None


def _safe_clip_id(clip_id: Any) -> bool:
    return isinstance(clip_id, str) and _SAFE_NAME.fullmatch(clip_id) is not None and ".." not in clip_id


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


def _remove_outputs(audio: Path, video: Path) -> None:
    for p in (audio, video):
        _remove(p)
        # stale atomic temporaries of this clip (a process killed mid-write)
        for stale in p.parent.glob(f".{p.stem}.*.tmp{p.suffix}"):
            _remove(stale)


def _read_clips(clips: pd.DataFrame) -> pd.DataFrame:
    missing = {"clip_id", "ytid", "start", "end"} - set(clips.columns)
    if missing:
        raise ValueError(f"clips lack columns {sorted(missing)}")
    frame = clips[["clip_id", "ytid", "start", "end"]].copy()
    frame["clip_id"] = frame["clip_id"].astype(str)
    frame["ytid"] = frame["ytid"].astype(str)
    frame["start"] = pd.to_numeric(frame["start"], errors="coerce")
    frame["end"] = pd.to_numeric(frame["end"], errors="coerce")
    dup = frame["clip_id"].duplicated()
    if dup.any():
        log.warning("%d duplicated clip ids in the shard; keeping the first of each", int(dup.sum()))
        frame = frame[~dup]
    return frame.reset_index(drop=True)


@dataclass
class _BlockWatch:
    """Counts videos answered ``blocked`` in a row; pauses (growing) and finally stops the shard."""

    limit: int  # blocked videos in a row before a pause; 0: never pause or stop
    pauses: int  # pauses before the shard stops
    pause: float  # seconds of the first pause, doubled each time
    streak: int = 0
    taken: int = 0

    def update(self, rows: list[dict[str, Any]], shard: str) -> bool:
        """Record one video's rows; True when the shard must stop."""
        reached = [r for r in rows if int(r.get("attempts") or 0) > 0]
        if not reached:
            return False  # invalid ids never asked YouTube anything
        if not all(r["reason"] == "blocked" for r in reached):
            self.streak = 0
            return False
        self.streak += 1
        if self.limit <= 0 or self.streak < self.limit:
            return False
        if self.taken >= self.pauses:
            log.warning("shard %s: %d videos blocked in a row after %d pauses; stopping with what it has",
                        shard, self.streak, self.taken)
            return True
        delay = self.pause * 2 ** self.taken
        log.warning("shard %s: %d videos blocked in a row; pausing %.0f s", shard, self.streak, delay)
        self.taken += 1
        self.streak = 0
        _sleep(delay)
        return False


def download_shard(
    clips: pd.DataFrame,
    *,
    url_template: str,
    out_dir: str | os.PathLike[str],
    manifest_path: str | os.PathLike[str],
    retries: int = 3,
    backoff: float = 1.0,
    sample_rate: int = 16000,
    min_coverage: float = 0.9,
    keep_video: bool = True,
    settings: YtdlpSettings | None = None,
    sections: bool = False,
    blocked_limit: int = 5,
    blocked_pauses: int = 2,
    blocked_pause: float = 300.0,
    run_token: str = "",
    ytdlp_opts: Mapping[str, Any] | None = None,
    ffmpeg_timeout: float = 600.0,
) -> pd.DataFrame:
    """Download and cut one shard of clips; write and return its manifest.

    Args:
        clips: columns ``clip_id, ytid, start, end`` (seconds).
        url_template: ``str.format`` template with ``{ytid}``, e.g. :data:`YOUTUBE_URL_TEMPLATE` or
            ``"file:///abs/web/videos/{ytid}.mp4"`` or ``"http://127.0.0.1:PORT/{ytid}.mp4"``.
        out_dir: receives ``audio/``, ``video/`` and a temporary ``.tmp/`` folder (removed at the end).
        manifest_path: final manifest CSV; its journal is ``manifest_path.with_suffix(".journal.jsonl")``.
        retries: extra download attempts after a ``network`` error (so at most ``1 + retries`` attempts).
        backoff: first retry delay in seconds, doubled each time.
        sample_rate: of the written FLAC (mono).
        min_coverage: a warning is logged when the share of ok clips is below it (the workflow's
            coverage gate is what stops training).
        keep_video: write the video cut too (and require a video stream); False keeps audio only.
        settings: pacing, cookies, proxy, rate limit and JavaScript runtime for yt-dlp.
        sections: fetch only each clip's segment (yt-dlp ``download_ranges``); a clip whose section
            download fails for any reason but ``unavailable``/``blocked``/``age_restricted`` falls back to
            the whole video and the ffmpeg cut. Needs a server that honours Range requests (YouTube
            does; ``file://`` URLs do not).
        blocked_limit: after this many videos in a row answered ``blocked``, pause ``blocked_pause``
            seconds (doubled each time); after ``blocked_pauses`` pauses the shard stops, recording its
            untried clips as ``blocked`` (retried by the next run). 0 turns this off.
        run_token: stored next to the manifest (:func:`~vipant.acquire.manifest.write_retry_token`).
        ytdlp_opts: extra ``YoutubeDL`` parameters, applied last.
        ffmpeg_timeout: seconds one cut may take.

    Returns:
        The manifest (:data:`~vipant.acquire.manifest.MANIFEST_COLUMNS`), one row per clip, sorted by
        clip id.
    """

    settings = settings or YtdlpSettings()
    out_dir = Path(out_dir)
    manifest_path = Path(manifest_path)
    audio_dir, video_dir = out_dir / "audio", out_dir / "video"
    audio_dir.mkdir(parents=True, exist_ok=True)
    if keep_video:
        video_dir.mkdir(parents=True, exist_ok=True)
    tmp_root = out_dir / ".tmp" / f"{manifest_path.stem}"
    _remove(tmp_root)  # leftovers of a killed run of this shard
    tmp_root.mkdir(parents=True, exist_ok=True)

    frame = _read_clips(clips)
    jpath = journal_path(manifest_path)

    # what earlier runs finished: the previous final manifest, then the journal (newer)
    done: dict[str, dict[str, Any]] = {}
    if manifest_path.exists():
        try:
            for row in read_manifest(manifest_path).to_dict("records"):
                done[str(row["clip_id"])] = row
        except Exception as exc:  # unreadable manifest: start over for it
            log.warning("ignoring unreadable manifest %s: %s", manifest_path, exc)
    done.update(read_journal(jpath))
    dropped = read_dropped_videos(dropped_videos_path(manifest_path))  # cuts deleted after their frames

    rows: dict[str, dict[str, Any]] = {}
    pending: dict[str, list[dict[str, Any]]] = {}  # ytid -> clips, in order
    for clip in frame.to_dict("records"):
        prev = done.get(clip["clip_id"])
        if (prev is not None
                and is_final(prev, need_video=keep_video, cookies=bool(settings.cookies), dropped=dropped)
                and str(prev.get("ytid")) == clip["ytid"]):
            rows[clip["clip_id"]] = prev
        else:
            if prev is not None and prev.get("status") == STATUS_OK:
                # files of an earlier layout (flat folders) would be orphaned by the redone clip's new ones
                for old in (prev.get("audio_path"), prev.get("video_path")):
                    if old:
                        _remove(Path(old))
            pending.setdefault(clip["ytid"], []).append(clip)
    n_pending = sum(len(v) for v in pending.values())
    log.info("shard %s: %d clips, %d already done, %d to do", manifest_path.name, len(frame),
             len(frame) - n_pending, n_pending)
    if pending and "youtube.com" in url_template:
        for problem in js_challenge_problems(settings.js_runtime, settings.js_runtime_path):
            log.warning("yt-dlp may miss YouTube formats: %s (docs/download.md)", problem)

    base_opts = dict(ytdlp_opts or {})
    # a line in the job's log every 30 s (tqdm shows nothing in a redirected log): done/total, rate, ETA, failures
    bar = Progress(f"download {manifest_path.stem}", n_pending, unit="clips")
    n_failed = 0
    journal = Journal(jpath)
    watch = _BlockWatch(blocked_limit, blocked_pauses, blocked_pause)
    ydl = None
    try:
        with ffmpeg_on_path(tmp_root / "bin"):
            if pending:  # one YoutubeDL for the shard; each video still gets its own work folder
                import yt_dlp

                ydl = yt_dlp.YoutubeDL(ytdlp_options(tmp_root, settings=settings, extra=base_opts))
            videos = list(pending.items())
            for i, (ytid, group) in enumerate(videos):
                video_rows = _process_video(
                    ytid, group, url_template=url_template, audio_dir=audio_dir,
                    video_dir=video_dir if keep_video else None, tmp_root=tmp_root, retries=retries,
                    backoff=backoff, sample_rate=sample_rate, ffmpeg_timeout=ffmpeg_timeout, ydl=ydl,
                    sections=sections,
                )
                for row in video_rows:
                    rows[row["clip_id"]] = row
                    journal.append(row)
                    n_failed += row["status"] != STATUS_OK
                    bar.update(1, failed=n_failed)
                    if row["status"] == STATUS_OK:
                        log.debug("%s ok (%.2fs)", row["clip_id"], row["duration"])
                    else:
                        log.info("%s failed: %s (%s)", row["clip_id"], row["reason"], row["detail"])
                if watch.update(video_rows, manifest_path.name):
                    detail = f"not tried: the shard stopped after {watch.streak} blocked videos in a row"
                    for _, rest in videos[i + 1:]:
                        for clip in rest:
                            row = make_row(clip["clip_id"], clip["ytid"], clip["start"], clip["end"],
                                           status=STATUS_FAILED, reason="blocked", detail=detail)
                            rows[row["clip_id"]] = row
                            journal.append(row)
                    break
    finally:
        if ydl is not None:
            ydl.close()
        journal.close()
        bar.close()

    manifest = normalize_manifest([rows[c] for c in frame["clip_id"]])
    manifest = write_manifest(manifest_path, manifest)
    write_retry_token(manifest_path, run_token)
    journal.remove()
    _remove(tmp_root)
    try:
        (out_dir / ".tmp").rmdir()
    except OSError:
        pass  # another shard is using it

    n_ok = int((manifest["status"] == STATUS_OK).sum())
    coverage = n_ok / len(manifest) if len(manifest) else 1.0
    counts = manifest.loc[manifest["status"] == STATUS_FAILED, "reason"].value_counts().to_dict()
    log.info("shard %s: %d/%d ok (%.1f%%); failures: %s", manifest_path.name, n_ok, len(manifest),
             100 * coverage, counts or "none")
    retryable = sum(counts.get(r, 0) for r in RETRYABLE_REASONS)
    if retryable:
        log.warning("shard %s: %d clips failed for reasons a rerun tries again (%s); run the workflow again "
                    "later", manifest_path.name, retryable, ", ".join(sorted(RETRYABLE_REASONS)))
    if len(manifest) and coverage < min_coverage:
        log.warning("shard %s: coverage %.1f%% is below %.1f%% (failures: %s)", manifest_path.name,
                    100 * coverage, 100 * min_coverage, counts)
    return manifest


def _process_video(
    ytid: str,
    group: list[dict[str, Any]],
    *,
    url_template: str,
    audio_dir: Path,
    video_dir: Path | None,
    tmp_root: Path,
    retries: int,
    backoff: float,
    sample_rate: int,
    ffmpeg_timeout: float,
    ydl: Any,
    sections: bool = False,
) -> list[dict[str, Any]]:
    """Rows for all clips of one video (a section download per clip, or one whole-video download
    shared by its clips, then one cut per clip); never raises."""

    def failed(clip: dict[str, Any], reason: str, detail: str, attempts: int, info: MediaInfo | None = None):
        return make_row(clip["clip_id"], clip["ytid"], clip["start"], clip["end"], status=STATUS_FAILED,
                        reason=reason, detail=detail, attempts=attempts,
                        src_sample_rate=info.sample_rate if info else None,
                        src_channels=info.channels if info else None)

    def outputs(clip: dict[str, Any]) -> tuple[Path, Path | None]:
        cid = clip["clip_id"]
        audio_out = clip_file(audio_dir, cid, f"{cid}.flac")
        return audio_out, (clip_file(video_dir, cid, f"{cid}.mp4") if video_dir is not None else None)

    def cut(clip: dict[str, Any], source: Path, info: MediaInfo, offset: float, attempts: int) -> dict[str, Any]:
        """Cut one clip out of ``source`` (which starts at ``offset`` s of the video); an ok row or ClipFailed."""
        audio_out, video_out = outputs(clip)
        if not info.has_audio:
            raise ClipFailed("no_audio", "the source has no audio stream")
        if video_out is not None and not info.has_video:
            raise ClipFailed("no_video", "the source has no video stream")
        res = cut_segment(source, info, float(clip["start"]) - offset, float(clip["end"]) - offset, audio_out,
                          video_out, sample_rate=sample_rate, timeout=ffmpeg_timeout)
        return make_row(
            clip["clip_id"], clip["ytid"], clip["start"], clip["end"], status=STATUS_OK,
            audio_path=res.audio_path, video_path=res.video_path or "", duration=res.duration,
            src_sample_rate=info.sample_rate, src_channels=info.channels, attempts=attempts)

    rows: list[dict[str, Any]] = []
    todo: list[dict[str, Any]] = []
    for clip in group:
        start, end = clip["start"], clip["end"]
        if not valid_ytid(ytid):
            rows.append(failed(clip, "invalid_id", f"not a YouTube id: {ytid[:40]!r}", 0))
        elif not _safe_clip_id(clip["clip_id"]):
            rows.append(failed(clip, "invalid_id", f"unsafe clip id: {clip['clip_id'][:40]!r}", 0))
        elif not (math.isfinite(start) and math.isfinite(end) and 0 <= start < end):
            rows.append(failed(clip, "invalid_id", f"bad segment [{start}, {end}]", 0))
        else:
            todo.append(clip)
    if not todo:
        return rows

    # a stale output of a clip we are about to (re)do must not survive a failure
    for clip in todo:
        audio_out, video_out = outputs(clip)
        _remove_outputs(audio_out, video_out or clip_file(audio_dir.parent / "video", clip["clip_id"],
                                                          f"{clip['clip_id']}.mp4"))

    url = url_template.format(ytid=ytid)
    if sections:
        rest = []
        for clip in todo:
            section = (float(clip["start"]), float(clip["end"]))
            work = Path(tempfile.mkdtemp(prefix=f"{ytid}.", dir=tmp_root))
            attempts = 0
            try:
                source, attempts = fetch_with_retries(url, work, ydl, retries=retries, backoff=backoff, section=section)
                rows.append(cut(clip, source, probe(source), section[0], attempts))
                continue
            except DownloadFailed as exc:
                if exc.reason in FINAL_FOR_VIDEO:  # the whole video would be refused the same way
                    rows.append(failed(clip, exc.reason, exc.detail, exc.attempts))
                    continue
                log.info("%s: section download failed (%s); fetching the whole video", clip["clip_id"], exc.detail)
            except ClipFailed as exc:
                if exc.reason in CONTENT_REASONS:  # a fact about the video, not about the section
                    audio_out, video_out = outputs(clip)
                    _remove_outputs(audio_out, video_out or audio_out)
                    rows.append(failed(clip, exc.reason, exc.detail, attempts))
                    continue
                log.info("%s: section unusable (%s); fetching the whole video", clip["clip_id"], exc.detail)
            except Exception as exc:  # noqa: BLE001 - a section that cannot be cut: try the whole video
                log.info("%s: section unusable (%s); fetching the whole video", clip["clip_id"], short_message(exc))
            finally:
                _remove(work)
            audio_out, video_out = outputs(clip)
            _remove_outputs(audio_out, video_out or audio_out)
            rest.append(clip)
        todo = rest
        if not todo:
            return rows

    attempts = 0
    work = Path(tempfile.mkdtemp(prefix=f"{ytid}.", dir=tmp_root))
    try:
        try:
            source, attempts = fetch_with_retries(url, work, ydl, retries=retries, backoff=backoff)
        except DownloadFailed as exc:
            return rows + [failed(c, exc.reason, exc.detail, exc.attempts) for c in todo]
        except ClipFailed as exc:
            return rows + [failed(c, exc.reason, exc.detail, 1) for c in todo]
        except Exception as exc:  # noqa: BLE001 - one bad clip never stops the shard
            log.exception("unexpected error downloading %s", ytid)
            return rows + [failed(c, "decode_error", f"{INTERNAL_DETAIL_PREFIX}: {type(exc).__name__}: "
                                  f"{short_message(exc)}", max(attempts, 1)) for c in todo]

        try:
            info = probe(source)
        except ProbeError as exc:
            return rows + [failed(c, "decode_error", short_message(exc).replace(str(work), ""), attempts)
                           for c in todo]
        except Exception as exc:  # noqa: BLE001
            return rows + [failed(c, "decode_error", f"{INTERNAL_DETAIL_PREFIX}: {short_message(exc)}",
                                  attempts) for c in todo]

        for clip in todo:
            audio_out, video_out = outputs(clip)
            try:
                rows.append(cut(clip, source, info, 0.0, attempts))
            except ClipFailed as exc:
                _remove_outputs(audio_out, video_out or audio_out)
                rows.append(failed(clip, exc.reason, exc.detail, attempts, info))
            except Exception as exc:  # noqa: BLE001
                log.exception("unexpected error cutting %s", clip["clip_id"])
                _remove_outputs(audio_out, video_out or audio_out)
                rows.append(failed(clip, "decode_error", f"{INTERNAL_DETAIL_PREFIX}: {type(exc).__name__}: "
                                   f"{short_message(exc)}", attempts, info))
        return rows
    finally:
        _remove(work)  # the full video is never kept
