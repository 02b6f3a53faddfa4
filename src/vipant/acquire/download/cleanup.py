"""Removing what a clip or a shard leaves behind: downloads and work folders, and a clip's outputs together
with the stale atomic temporaries of a process killed mid-write."""

from __future__ import annotations

import shutil
from pathlib import Path


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
