"""How a shard talks to YouTube through yt-dlp: :class:`YtdlpSettings` (pacing, cookies, proxy, rate limit,
JavaScript runtime; config ``download``), the check that a JavaScript runtime and yt-dlp-ejs are there to
solve YouTube's challenges, and the ``YoutubeDL`` parameters a shard builds its downloader from
(:func:`ytdlp_options`: no retries of yt-dlp's own, nothing written outside the shard's folder)."""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from vipant.media.ffmpeg import ffmpeg_exe

#: Prefer a small video + audio; fall back to the best single file (generic / file:// URLs).
DEFAULT_FORMAT = "bv*[height<=360]+ba/b[height<=360]/b"


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
            {self.js_runtime: {"path": self.js_runtime_path} if self.js_runtime_path else {}} if self.js_runtime else {}
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
        raise ValueError(f"unknown JavaScript runtime {name!r}; yt-dlp supports {sorted(supported_js_runtimes.value)}")
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
        problems.append(
            f"JavaScript runtime {name!r} not found or too old"
            + (f" at {path}" if path else " on PATH")
            + " (pip install deno, or set download.js_runtime_path)"
        )
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
