"""Which files count as audio when a folder is searched (import-free, so ``vipant --help`` stays fast)."""

from __future__ import annotations

import os
from typing import Sequence

# Suffixes (lower case) that `vipant search DIR` picks up; other files under DIR are ignored.
AUDIO_EXTENSIONS = frozenset(
    {
        ".wav",
        ".flac",
        ".mp3",
        ".ogg",
        ".oga",
        ".opus",
        ".m4a",
        ".aac",
        ".aif",
        ".aiff",
        ".wma",
        ".mka",
        ".webm",
        ".mp4",
        ".mkv",
        ".mov",
    }
)


def find_audio_files(roots: Sequence[str | os.PathLike[str]]) -> list[str]:
    """Audio files under each folder (recursively, sorted, by :data:`AUDIO_EXTENSIONS`). A root that is a
    file is kept as given whatever its suffix, and so is one that does not exist, so it gets reported as
    missing rather than silently skipped."""
    found: list[str] = []
    for root in roots:
        if os.path.isdir(root):
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames.sort()
                found += [
                    os.path.join(dirpath, f)
                    for f in sorted(filenames)
                    if os.path.splitext(f)[1].lower() in AUDIO_EXTENSIONS
                ]
        else:
            found.append(str(root))
    return found
