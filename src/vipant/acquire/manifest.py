"""The download manifest: one row per requested clip, shared by every stage that reads clips.

Columns (:data:`MANIFEST_COLUMNS`):

``clip_id, ytid, start, end``
    the request (clip id convention: ``f"{ytid}_{round(start * 1000)}"``, see :func:`clip_id_for`);
``status``
    ``"ok"`` or ``"failed"``;
``reason``
    ``""`` when ok, else one of :data:`REASONS`;
``detail``
    a short human-readable explanation (error message tail), ``""`` when ok;
``audio_path, video_path``
    the files written (``""`` when failed, ``video_path`` also ``""`` when video is not kept);
``duration``
    seconds of audio written (``NaN`` when failed);
``src_sample_rate, src_channels``
    what the source's audio stream had before the 16 kHz mono conversion (``NaN`` when unknown);
``attempts``
    how many download attempts were made for the clip (0 when it never reached the network).

Besides the final manifest (a CSV written atomically once a shard is done), a shard keeps an
append-only *journal* next to it (``<manifest>.journal.jsonl``): one JSON object per finished clip,
flushed and fsync'd, so a killed job resumes where it stopped. A torn last line (the process died
mid-write) is ignored when reading.

Two small files may sit next to the manifest too: ``<manifest>.retry`` (:func:`write_retry_token`) and
``<manifest>.video_dropped.txt``, the clips whose video cut the frames stage deleted once their JPEGs
existed (:func:`record_dropped_videos`), which a rerun does not download again.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Collection, Iterable, Mapping

import numpy as np
import pandas as pd

from vipant.atomic import write_csv, write_text

log = logging.getLogger(__name__)

STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUSES = (STATUS_OK, STATUS_FAILED)

#: Why a clip failed. ``network`` and ``blocked`` are retryable (every rerun tries them again);
#: ``age_restricted`` is retried only by a run that has a cookie file; the rest are final.
REASONS = (
    "unavailable",  # video deleted / private / terminated / copyright / 404 / file not found: final
    "network",  # timeouts, 5xx, connection resets that outlived the retries: retryable
    "blocked",  # rate limit, bot check, 403/429, format or extractor failure (YouTube changed): retryable
    "age_restricted",  # age gate: needs a cookie file of a signed-in account
    "invalid_id",  # malformed YouTube id or clip id (never touches disk or network)
    "no_audio",  # the source has no audio stream
    "no_video",  # the source has no video stream (only checked when video is kept)
    "too_short",  # audio written is shorter than the segment minus 0.5 s
    "decode_error",  # ffmpeg could not read / decode the source
    "silent",  # peak amplitude of the written audio below ~1e-4
)
#: Reasons that a rerun always tries again: the failure says nothing about the video itself.
RETRYABLE_REASONS = frozenset({"network", "blocked"})
#: Reasons that only a run with a cookie file tries again.
COOKIE_REASONS = frozenset({"age_restricted"})
#: Reasons that a rerun does not try again (the same input would fail the same way).
PERMANENT_REASONS = frozenset(REASONS) - RETRYABLE_REASONS
#: ``detail`` prefix of rows produced by an unexpected exception (a bug, a full disk...): such rows
#: carry ``decode_error`` but are retried on rerun.
INTERNAL_DETAIL_PREFIX = "internal error"

MANIFEST_COLUMNS = [
    "clip_id",
    "ytid",
    "start",
    "end",
    "status",
    "reason",
    "detail",
    "audio_path",
    "video_path",
    "duration",
    "src_sample_rate",
    "src_channels",
    "attempts",
]
_STR_COLUMNS = ["clip_id", "ytid", "status", "reason", "detail", "audio_path", "video_path"]
_FLOAT_COLUMNS = ["start", "end", "duration", "src_sample_rate", "src_channels"]
_INT_COLUMNS = ["attempts"]


def clip_id_for(ytid: str, start: float) -> str:
    """The clip id convention, defined once in :func:`vipant.datasets.audioset.clip_id`."""
    from vipant.datasets.audioset import clip_id

    return clip_id(ytid, float(start))


def make_row(
    clip_id: str,
    ytid: str,
    start: float,
    end: float,
    *,
    status: str,
    reason: str = "",
    detail: str = "",
    audio_path: str | os.PathLike[str] = "",
    video_path: str | os.PathLike[str] = "",
    duration: float | None = None,
    src_sample_rate: float | None = None,
    src_channels: float | None = None,
    attempts: int = 0,
) -> dict[str, Any]:
    """One manifest row as a plain dict (JSON-serialisable), checked against the schema."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
    if status == STATUS_OK and reason:
        raise ValueError("an ok row has no reason")
    if status == STATUS_FAILED and reason not in REASONS:
        raise ValueError(f"reason must be one of {REASONS}, not {reason!r}")

    def _num(x: Any) -> float | None:
        if x is None:
            return None
        x = float(x)
        return None if np.isnan(x) else x

    return {
        "clip_id": str(clip_id),
        "ytid": str(ytid),
        "start": _num(start),
        "end": _num(end),
        "status": status,
        "reason": reason,
        "detail": " ".join(str(detail).split())[:300],
        "audio_path": str(audio_path) if audio_path else "",
        "video_path": str(video_path) if video_path else "",
        "duration": _num(duration),
        "src_sample_rate": _num(src_sample_rate),
        "src_channels": _num(src_channels),
        "attempts": int(attempts),
    }


def normalize_manifest(frame: pd.DataFrame | Iterable[Mapping[str, Any]] | None) -> pd.DataFrame:
    """Return a frame with exactly :data:`MANIFEST_COLUMNS`, in order, with consistent dtypes."""
    if frame is None:
        frame = pd.DataFrame(columns=MANIFEST_COLUMNS)
    elif not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(list(frame))
    frame = frame.copy()
    for col in MANIFEST_COLUMNS:
        if col not in frame.columns:
            frame[col] = np.nan if col in _FLOAT_COLUMNS + _INT_COLUMNS else ""
    frame = frame[MANIFEST_COLUMNS]
    for col in _STR_COLUMNS:
        frame[col] = frame[col].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
        frame[col] = frame[col].astype(object)
    for col in _FLOAT_COLUMNS:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    frame["attempts"] = pd.to_numeric(frame["attempts"], errors="coerce").fillna(0).astype(int)
    return frame.reset_index(drop=True)


def empty_manifest() -> pd.DataFrame:
    return normalize_manifest(None)


def read_manifest(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a manifest CSV (ids stay strings: no ``NA``/``nan`` guessing)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return normalize_manifest(frame)


def read_manifests(paths: Iterable[str | os.PathLike[str]]) -> pd.DataFrame:
    """Concatenate several manifests (e.g. all shards of a dataset)."""
    frames = [read_manifest(p) for p in paths]
    if not frames:
        return empty_manifest()
    return normalize_manifest(pd.concat(frames, ignore_index=True))


def write_manifest(path: str | os.PathLike[str], frame: pd.DataFrame) -> pd.DataFrame:
    """Write a manifest atomically, one row per clip id, sorted by clip id; return what was written."""
    frame = normalize_manifest(frame)
    frame = frame.drop_duplicates("clip_id", keep="last").sort_values("clip_id", kind="stable")
    frame = frame.reset_index(drop=True)
    write_csv(path, frame)
    return frame


def journal_path(manifest_path: str | os.PathLike[str]) -> Path:
    """``shard_007.csv`` → ``shard_007.journal.jsonl``."""
    return Path(manifest_path).with_suffix(".journal.jsonl")


class Journal:
    """Append-only JSONL log of finished clips; every append is flushed and fsync'd."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = None

    def _ensure_line_start(self) -> None:
        # After a crash the file may end with a torn line: start ours on a fresh line.
        if self.path.exists() and self.path.stat().st_size > 0:
            with open(self.path, "rb") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    self._fh.write("\n")

    def append(self, row: Mapping[str, Any]) -> None:
        if self._fh is None:
            self._fh = open(self.path, "a", encoding="utf-8")
            self._ensure_line_start()
        self._fh.write(json.dumps(dict(row), sort_keys=True, allow_nan=False, default=_json_default) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def remove(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def read_journal(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Rows of a journal by clip id (a later row for the same clip wins); torn lines are skipped."""
    path = Path(path)
    rows: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return rows
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                log.warning("%s:%d: skipping a torn journal line", path, lineno)
                continue
            if not isinstance(row, dict) or "clip_id" not in row or row.get("status") not in STATUSES:
                log.warning("%s:%d: skipping a malformed journal line", path, lineno)
                continue
            rows[str(row["clip_id"])] = row
    return rows


def is_final(
    row: Mapping[str, Any], *, need_video: bool = True, cookies: bool = False, dropped: Collection[str] = ()
) -> bool:
    """Whether a journalled/manifest row needs no further work on a rerun.

    ok rows count only while their files exist, except a video cut that the frames stage deleted on
    purpose (its clip id is in ``dropped``, see :func:`read_dropped_videos`); failed rows only with a
    permanent reason that did not come from an unexpected (internal) error; ``age_restricted`` rows are
    not final for a run that has a cookie file (``cookies``).
    """
    status = row.get("status")
    if status == STATUS_OK:
        audio = row.get("audio_path") or ""
        video = row.get("video_path") or ""
        if not audio or not Path(audio).is_file():
            return False
        if need_video and (not video or not Path(video).is_file()) and str(row.get("clip_id")) not in dropped:
            return False
        return True
    if status == STATUS_FAILED:
        detail = str(row.get("detail") or "")
        reason = row.get("reason")
        if cookies and reason in COOKIE_REASONS:
            return False
        return reason in PERMANENT_REASONS and not detail.startswith(INTERNAL_DETAIL_PREFIX)
    return False


def retry_token_path(manifest_path: str | os.PathLike[str]) -> Path:
    """``shard_007.csv`` → ``shard_007.retry``: the token of the run that wrote the manifest."""
    return Path(manifest_path).with_suffix(".retry")


def retry_token(manifest_path: str | os.PathLike[str], *, need_video: bool = True, cookies: bool = False) -> str:
    """A name that changes whenever a shard's manifest still lists clips a rerun would try again.

    The workflow makes the download rule take an extra input named after it (a "retry ticket"):
    Snakemake reruns a job whose set of input files changed, so an invocation reruns every shard whose
    manifest has retryable rows (``network``, ``blocked``, internal errors, ok rows whose files are
    gone) without ``--forcerun``. While such rows remain the token carries the manifest's modification
    time, so it differs from the one the last run was started with. Once every row is final it is the
    token that run was started with (stored next to the manifest by :func:`write_retry_token`), so a
    finished shard is not run once more and its downstream jobs are not redone. ``""`` when there is no
    manifest or nothing to retry since the first run. Only ``[a-z0-9-]``, so it can be a file name.
    ``cookies``: the run has a cookie file, so ``age_restricted`` rows are retryable too.
    """
    path = Path(manifest_path)
    if not path.exists():
        return ""
    rows = read_manifest(path).to_dict("records")
    dropped = read_dropped_videos(dropped_videos_path(path))
    pending = sum(not is_final(r, need_video=need_video, cookies=cookies, dropped=dropped) for r in rows)
    if pending:
        return f"retry-{pending}-{path.stat().st_mtime_ns}"
    stored = retry_token_path(path)
    return stored.read_text(encoding="utf-8").strip() if stored.exists() else ""


def write_retry_token(manifest_path: str | os.PathLike[str], token: str) -> None:
    """Record the token a run of the shard was started with (see :func:`retry_token`); "" needs no file."""
    from vipant.atomic import atomic_path

    target = retry_token_path(manifest_path)
    if not token:
        target.unlink(missing_ok=True)
        return
    with atomic_path(target) as tmp:
        Path(tmp).write_text(token + "\n", encoding="utf-8")


def dropped_videos_path(manifest_path: str | os.PathLike[str]) -> Path:
    """``shard-007.csv`` → ``shard-007.video_dropped.txt``: the shard's clips whose video cut was deleted
    on purpose once their frames existed (``frames.keep_video: false``)."""
    return Path(manifest_path).with_suffix(".video_dropped.txt")


def read_dropped_videos(path: str | os.PathLike[str]) -> frozenset[str]:
    """Clip ids listed in a dropped-videos file (one per line); empty when there is none.

    A rerun of the download counts these clips as done without their cut, so it does not fetch ~2 TB of
    video again that was deleted to save exactly that. Deleting the file (or a line) makes the next run
    fetch those cuts again, which the frames stage needs if their JPEGs are ever lost.
    """
    path = Path(path)
    if not path.exists():
        return frozenset()
    return frozenset(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def record_dropped_videos(path: str | os.PathLike[str], clip_ids: Iterable[str]) -> None:
    """Add ``clip_ids`` to a dropped-videos file, written atomically (call it before deleting the cuts)."""
    ids = read_dropped_videos(path) | {str(c) for c in clip_ids}
    write_text(path, "".join(f"{c}\n" for c in sorted(ids)))
