"""Reproducible zip and tar.gz writers: fixed timestamps and modes, members in the order given.

Media members (wav, jpg, mp4) are stored uncompressed, text is deflated, as dataset archives often
do. Parent folders get their own entries, like archives made with ``zip -r`` / ``tar cz``. Archives
are written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import gzip
import io
import os
import posixpath
import tarfile
import zipfile
from typing import Iterable

from vipant.atomic import atomic_path

ZIP_DATE = (2017, 1, 1, 0, 0, 0)  # timestamp of every zip member
TAR_MTIME = 1483228800  # 2017-01-01T00:00:00Z
_STORED = (".wav", ".jpg", ".jpeg", ".mp4", ".flac", ".png")


def _parents(name: str) -> list[str]:
    parts = name.split("/")[:-1]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def write_zip(path: str | os.PathLike[str], members: Iterable[tuple[str, bytes]]) -> int:
    """Write ``(name, data)`` members into a zip at ``path``; return the number of files written."""
    count = 0
    seen: set[str] = set()
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
        for name, data in members:
            for folder in _parents(name):
                if folder not in seen:
                    seen.add(folder)
                    info = zipfile.ZipInfo(folder, ZIP_DATE)
                    info.external_attr = (0o40755 << 16) | 0x10
                    zf.writestr(info, b"")
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.external_attr = 0o100644 << 16
            stored = posixpath.splitext(name)[1].lower() in _STORED
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
            count += 1
    return count


def write_tar_gz(path: str | os.PathLike[str], members: Iterable[tuple[str, bytes]]) -> int:
    """Write ``(name, data)`` members into a gzip'd tar at ``path``; return the number of files written."""
    count = 0
    seen: set[str] = set()
    with atomic_path(path) as tmp, open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz:
            with tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tf:
                for name, data in members:
                    for folder in _parents(name):
                        if folder not in seen:
                            seen.add(folder)
                            info = tarfile.TarInfo(folder.rstrip("/"))
                            info.type = tarfile.DIRTYPE
                            info.mode, info.mtime = 0o755, TAR_MTIME
                            tf.addfile(info)
                    info = tarfile.TarInfo(name)
                    info.size, info.mode, info.mtime = len(data), 0o644, TAR_MTIME
                    tf.addfile(info, io.BytesIO(data))
                    count += 1
    return count
