"""YouTube ids and clip ids: where a YouTube id's video lives (the paper preset's URL template), and the
checks a clip passes before it touches disk or network (an 11-character YouTube id; a clip id that is a
safe file name)."""

from __future__ import annotations

import re
from typing import Any

#: Paper preset: where a YouTube id's video lives.
YOUTUBE_URL_TEMPLATE = "https://www.youtube.com/watch?v={ytid}"

_YTID = re.compile(r"[A-Za-z0-9_-]{11}")
_SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}")


def valid_ytid(ytid: Any) -> bool:
    return isinstance(ytid, str) and _YTID.fullmatch(ytid) is not None


def _safe_clip_id(clip_id: Any) -> bool:
    return isinstance(clip_id, str) and _SAFE_NAME.fullmatch(clip_id) is not None and ".." not in clip_id
