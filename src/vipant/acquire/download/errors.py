"""Why a clip failed: :class:`ClipFailed` (any manifest reason) and :class:`DownloadFailed` (yt-dlp's),
and the classification of yt-dlp's errors into ``unavailable`` (final), ``blocked``, ``age_restricted``
or ``network`` from its own messages (kept verbatim in tests/acquire/ytdlp_messages.yaml), HTTP status
codes and exception types along the exception chain."""

from __future__ import annotations

import re
import socket


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
