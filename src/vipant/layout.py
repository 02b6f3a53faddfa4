"""Where per-clip files live: one folder per two-character prefix of the clip id.

At paper scale (~2.08 M clips) the download and frames stages write ~12.5 M files (a FLAC, a video cut and
4 JPEGs per clip). One flat folder per kind would hold millions of entries, which file systems list,
back up and delete slowly. Clip ids start with a YouTube id (base64url), so their first two characters
spread evenly over 64^2 = 4096 folders: ~500 files per folder for the audio or the video, ~2,000 for
the JPEGs::

    {folder}/{clip_id[:2]}/{name}        # download/audio/dQ/dQw4w9WgXcQ_30000.flac

Readers take paths from the manifests, never from this scheme, so manifests written with another layout
(the earlier flat one) stay valid.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Characters of the clip id that name its folder.
PREFIX_CHARS = 2


def prefix_dir(folder: str | os.PathLike[str], clip_id: str) -> Path:
    """``folder/<first two characters of clip_id>`` (the whole id when it is shorter)."""
    if not clip_id or clip_id.startswith(".") or "/" in clip_id or os.sep in clip_id:
        raise ValueError(f"unsafe clip id {clip_id!r}")
    return Path(folder) / clip_id[:PREFIX_CHARS]


def clip_file(folder: str | os.PathLike[str], clip_id: str, name: str) -> Path:
    """``folder/<prefix>/name``: where a file of the clip ``clip_id`` named ``name`` goes."""
    return prefix_dir(folder, clip_id) / name
