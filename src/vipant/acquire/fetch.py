"""Fetch dataset index files and archives from URLs (https, http, file://) and unpack them safely.

Both presets go through this code: the paper preset points at the datasets' real hosts, the synthetic
preset at ``file://`` URLs into its generated world. Archives are unpacked member by member with path
checks (no absolute names, no ``..``, no links leaving the target), so a malicious or corrupt archive
cannot write outside its folder.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from vipant.atomic import atomic_path, write_json

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


class FetchError(RuntimeError):
    """A URL could not be fetched (after retries) or an archive could not be unpacked."""


@dataclass
class DatasetSource:
    """Where one dataset's files come from (one entry of ``datasets:`` in config.yaml)."""

    name: str  # dataset key, e.g. "esc50"
    files: dict[str, str] = field(default_factory=dict)  # local file name -> URL
    archives: list[str] = field(default_factory=list)  # URLs of zip / tar / 7z archives to unpack

    @classmethod
    def from_dict(cls, name: str, spec: dict, **fmt: str) -> "DatasetSource":
        unknown = set(spec) - {"files", "archives", "root"}
        if unknown:
            raise ValueError(f"dataset {name!r}: unknown keys {sorted(unknown)}")
        files = {k: v.format(**fmt) for k, v in (spec.get("files") or {}).items()}
        archives = [u.format(**fmt) for u in (spec.get("archives") or [])]
        return cls(name=name, files=files, archives=archives)


def fetch_url(url: str, dest: str | Path, *, retries: int = 3, backoff: float = 2.0, timeout: float = 60) -> str:
    """Download ``url`` to ``dest`` atomically; return the file's sha256. Retries transient failures."""
    dest = Path(dest)
    last: Exception | None = None
    for attempt in range(retries + 1):
        try:
            digest = hashlib.sha256()
            with urllib.request.urlopen(url, timeout=timeout) as response, atomic_path(dest) as tmp:
                with open(tmp, "wb") as out:
                    while chunk := response.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            return digest.hexdigest()
        except urllib.error.HTTPError as err:
            last = err
            if err.code < 500:  # 4xx will not get better by asking again
                break
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as err:
            last = err
            if isinstance(getattr(err, "reason", None), FileNotFoundError) or isinstance(err, FileNotFoundError):
                break
        if attempt < retries:
            wait = backoff * 2**attempt
            log.warning("fetch %s failed (%s); retrying in %.1f s", url, last, wait)
            time.sleep(wait)
    raise FetchError(f"cannot fetch {url}: {last}")


def _member_target(root: Path, name: str, archive: Path) -> Path:
    """Resolve an archive member name under ``root``, refusing anything that would escape it."""
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or ".." in posix.parts or "\x00" in name or not posix.parts:
        raise FetchError(f"{archive}: member {name!r} would be written outside {root}")
    target = (root / Path(*posix.parts)).resolve()
    if not target.is_relative_to(root.resolve()):
        raise FetchError(f"{archive}: member {name!r} would be written outside {root}")
    return target


def extract_archive(archive: str | Path, dest: str | Path) -> list[str]:
    """Unpack a zip, tar(.gz/.bz2/.xz) or 7z archive into ``dest``; return the member names written."""
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    name = archive.name.lower()
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    target = _member_target(dest, info.filename, archive)
                    if info.is_dir():
                        target.mkdir(parents=True, exist_ok=True)
                        continue
                    with zf.open(info) as src, atomic_path(target) as tmp, open(tmp, "wb") as out:
                        shutil.copyfileobj(src, out, _CHUNK)
                    written.append(info.filename)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                for member in tf.getmembers():
                    target = _member_target(dest, member.name, archive)
                    if member.isdir():
                        target.mkdir(parents=True, exist_ok=True)
                        continue
                    if not member.isfile():  # links and devices are never needed by a dataset
                        raise FetchError(f"{archive}: member {member.name!r} is not a regular file")
                    src = tf.extractfile(member)
                    assert src is not None
                    with src, atomic_path(target) as tmp, open(tmp, "wb") as out:
                        shutil.copyfileobj(src, out, _CHUNK)
                    written.append(member.name)
        elif name.endswith(".7z"):
            try:
                import py7zr
            except ImportError as err:  # optional: only the real Clotho needs it
                raise FetchError(f"{archive}: 7z archives need py7zr (pip install 'vipant[paper]')") from err
            with py7zr.SevenZipFile(archive) as sz:
                names = sz.getnames()
                for member in names:
                    _member_target(dest, member, archive)
                sz.extractall(path=dest)
                written.extend(n for n in names if (dest / n).is_file())
        else:
            raise FetchError(f"{archive}: unknown archive type (expected .zip, .tar[.gz|.bz2|.xz] or .7z)")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as err:
        raise FetchError(f"{archive}: corrupt archive ({err})") from err
    return written


def _url_basename(url: str) -> str:
    name = PurePosixPath(urllib.parse.urlparse(url).path).name
    if not name:
        raise FetchError(f"cannot name a download for URL {url!r}")
    return urllib.parse.unquote(name)


def fetch_dataset(source: DatasetSource, out_dir: str | Path, record_path: str | Path, *, retries: int = 3) -> dict:
    """Fetch every file and archive of a dataset into ``out_dir``; write a JSON record of what came.

    Archives are downloaded into ``out_dir/.archives``, unpacked, then deleted. Every file lands
    atomically, and the record is written last, so a failed fetch never looks finished.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    record: dict = {"dataset": source.name, "files": {}, "archives": {}}
    for local, url in sorted(source.files.items()):
        target = _member_target(out_dir, local, Path(record_path))
        log.info("fetch %s -> %s", url, target)
        record["files"][local] = {"url": url, "sha256": fetch_url(url, target, retries=retries)}
    for url in source.archives:
        archive = out_dir / ".archives" / _url_basename(url)
        log.info("fetch archive %s", url)
        digest = fetch_url(url, archive, retries=retries)
        members = extract_archive(archive, out_dir)
        archive.unlink()
        record["archives"][url] = {"sha256": digest, "members": len(members)}
        log.info("unpacked %d members from %s", len(members), archive.name)
    shutil.rmtree(out_dir / ".archives", ignore_errors=True)
    write_json(record_path, record)
    return record
