"""Video frames for the frozen image encoder: ``n`` equally spaced JPEGs per clip.

Frame ``i`` (0-based) of a clip of ``duration`` seconds is taken at the centre of the ``i``-th of ``n``
equal sub-intervals::

    t_i = (i + 0.5) * duration / n        # n = 4, 10 s: 1.25, 3.75, 6.25, 8.75 s

so that with ``n = 4`` frame ``i`` sits in the middle of audio segment ``i`` of the ``L = 4`` segments
that Multiframe Match (follow-up A) cuts the 10 s FBANK into — each frame is the picture of "its"
quarter of the sound. Evaluation uses the 2nd frame (``i = 1``).

Frames are scaled so that the *short* side is ``short_side`` (224) pixels, keeping the aspect ratio,
saved as JPEG (quality :data:`JPEG_QUALITY`) named ``{clip_id}_{i}.jpg``, each written atomically.
One ffmpeg process per clip: one fast input seek per frame (``-ss t -i video`` × n, accurate because
ffmpeg decodes from the preceding key frame up to ``t``), n outputs.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from vipant.acquire.manifest import record_dropped_videos
from vipant.atomic import atomic_path, write_csv
from vipant.layout import clip_file
from vipant.media.ffmpeg import FFmpegError, ffmpeg_detail, run_ffmpeg
from vipant.progress import track

log = logging.getLogger(__name__)

JPEG_QUALITY = 90
FRAMES_MANIFEST_COLUMNS = ["clip_id", "status", "reason", "detail", "frame_paths"]


class FrameError(RuntimeError):
    """Frames could not be extracted; ``reason`` is one of the manifest reasons."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def frame_times(n_frames: int = 4, duration: float = 10.0) -> list[float]:
    """Seconds of the ``n`` frames: centres of ``n`` equal sub-intervals of ``[0, duration]``."""
    if n_frames < 1 or not duration > 0:
        raise ValueError("need n_frames >= 1 and duration > 0")
    return [(i + 0.5) * duration / n_frames for i in range(n_frames)]


def frame_paths(out_dir: str | os.PathLike[str], clip_id: str, n_frames: int = 4) -> list[Path]:
    """Where a clip's JPEGs live: ``out_dir/<first two characters of the id>/<id>_<i>.jpg``
    (:mod:`vipant.layout`: 8 M JPEGs at paper scale, ~2 k per folder). Readers take the paths from the
    frames manifest."""
    return [clip_file(out_dir, clip_id, f"{clip_id}_{i}.jpg") for i in range(n_frames)]


def _scale_filter(short_side: int) -> str:
    s = int(short_side)
    # landscape (w >= h): height = s; portrait: width = s; the other side keeps the aspect ratio
    return f"scale=w='if(gte(iw,ih),-1,{s})':h='if(gte(iw,ih),{s},-1)':flags=bicubic,setsar=1,format=rgb24"


def extract_frames(
    video: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    clip_id: str,
    *,
    n_frames: int = 4,
    duration: float = 10.0,
    short_side: int = 224,
    timeout: float = 300.0,
) -> list[Path]:
    """Write ``{clip_id}_{i}.jpg`` for ``i < n_frames`` at :func:`frame_times`; return their paths.

    Raises :class:`FrameError` (``no_video`` when the file is missing, ``decode_error`` when ffmpeg
    fails, ``too_short`` when the video ends before a frame's time). Nothing is written then.
    """
    video = Path(video)
    out_dir = Path(out_dir)
    if not video.is_file():
        raise FrameError("no_video", f"{video} does not exist")
    if os.sep in clip_id or "/" in clip_id or clip_id in ("", ".", ".."):
        raise FrameError("decode_error", f"unsafe clip id {clip_id!r}")
    times = frame_times(n_frames, duration)
    finals = frame_paths(out_dir, clip_id, n_frames)
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{clip_id}.", suffix=".frames", dir=out_dir))
    try:
        args: list[str] = []
        for t in times:
            args += ["-ss", f"{t:.3f}", "-i", str(video)]
        vf = _scale_filter(short_side)
        pngs = [work / f"{i}.png" for i in range(n_frames)]
        for i, png in enumerate(pngs):
            args += ["-map", f"{i}:v:0", "-frames:v", "1", "-vf", vf, "-an", "-sn", str(png)]
        try:
            run_ffmpeg(args, timeout=timeout)
        except FFmpegError as exc:
            raise FrameError("decode_error", ffmpeg_detail(exc.stderr)) from exc
        images = []
        for i, png in enumerate(pngs):
            if not png.is_file() or png.stat().st_size == 0:
                raise FrameError("too_short", f"no frame at t={times[i]:.2f}s")
            try:
                with Image.open(png) as im:
                    images.append(im.convert("RGB"))
            except Exception as exc:  # noqa: BLE001
                raise FrameError("decode_error", f"unreadable frame {i}: {exc}") from exc
        for im, final in zip(images, finals):
            with atomic_path(final) as tmp:
                im.save(tmp, format="JPEG", quality=JPEG_QUALITY)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return finals


def frames_shard(
    manifest: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    frames_manifest_path: str | os.PathLike[str],
    *,
    n_frames: int = 4,
    duration: float | None = 10.0,
    short_side: int = 224,
    keep_video: bool = True,
    dropped_videos: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Extract frames for the ok clips of a download manifest; write and return the frames manifest.

    ``keep_video=False`` (paper preset: real 10 s cuts are an estimated 0.5-1 MB each, 1-2 TB over
    AudioSet; docs/cluster.md) deletes the video cuts of the clips whose frames are all on disk, once the
    frames manifest is written; a clip whose frames exist is skipped without its video. Those clips are first added to ``dropped_videos`` (the
    download shard's :func:`~vipant.acquire.manifest.dropped_videos_path`, required then), so that a rerun
    of the download counts them as done instead of fetching their videos again.

    ``duration=None`` uses each clip's ``end - start``. The result has one row per ok clip with a
    video (columns :data:`FRAMES_MANIFEST_COLUMNS`; ``frame_paths`` joined by ``|``). Failures are
    recorded per clip and the shard goes on. Resumable: a clip whose ``n_frames`` JPEGs all exist is
    not processed again.
    """
    if not keep_video and dropped_videos is None:
        raise ValueError(
            "keep_video=False needs dropped_videos: without that record a rerun of the "
            "download would fetch the deleted cuts again"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if len(manifest) and "status" in manifest.columns:
        todo = manifest[manifest["status"].astype(str) == "ok"]
    else:
        todo = manifest.iloc[0:0]
    rows: list[dict[str, Any]] = []
    done: dict[str, Any] = {}  # clip id -> its video cut, for the clips whose frames all exist
    n_skip = 0
    for rec in track(todo.to_dict("records"), f"frames {Path(frames_manifest_path).stem}", unit="clips"):
        clip_id = str(rec["clip_id"])
        row = {"clip_id": clip_id, "status": "ok", "reason": "", "detail": "", "frame_paths": ""}
        try:
            paths = frame_paths(out_dir, clip_id, n_frames)
        except ValueError as exc:  # an id that would leave out_dir (download never writes one)
            row.update(status="failed", reason="decode_error", detail=str(exc)[:300])
            rows.append(row)
            continue
        row["frame_paths"] = "|".join(str(p) for p in paths)
        if all(p.is_file() for p in paths):
            n_skip += 1
            rows.append(row)
            done[clip_id] = rec.get("video_path")
            continue
        video = rec.get("video_path")
        try:
            if not isinstance(video, str) or not video:
                raise FrameError("no_video", "the manifest has no video for this clip")
            dur = duration
            if dur is None:
                dur = float(rec["end"]) - float(rec["start"])
            extract_frames(video, out_dir, clip_id, n_frames=n_frames, duration=dur, short_side=short_side)
        except FrameError as exc:
            row.update(status="failed", reason=exc.reason, detail=" ".join(exc.detail.split())[:300], frame_paths="")
        except Exception as exc:  # noqa: BLE001 - one bad clip never stops the shard
            log.exception("unexpected error extracting frames of %s", clip_id)
            row.update(
                status="failed",
                reason="decode_error",
                detail=f"internal error: {type(exc).__name__}: {exc}"[:300],
                frame_paths="",
            )
        if row["status"] != "ok":
            log.info("frames of %s failed: %s (%s)", clip_id, row["reason"], row["detail"])
        else:
            done[clip_id] = video
        rows.append(row)
    frame = pd.DataFrame(rows, columns=FRAMES_MANIFEST_COLUMNS)
    frame = frame.sort_values("clip_id", kind="stable").reset_index(drop=True)
    write_csv(frames_manifest_path, frame)
    n_ok = int((frame["status"] == "ok").sum()) if len(frame) else 0
    log.info("frames: %d/%d clips ok (%d already done)", n_ok, len(frame), n_skip)
    if not keep_video and done:
        _drop_videos(done, Path(dropped_videos))
    return frame


def _drop_videos(videos: dict[str, Any], record: Path) -> None:
    """Delete the video cuts of clips whose frames are written, after recording them in ``record``: a
    crash in between leaves cuts that the next run deletes, never a deleted cut that nobody recorded."""
    record_dropped_videos(record, videos)
    n = 0
    for video in videos.values():
        if isinstance(video, str) and video and os.path.lexists(video):
            Path(video).unlink(missing_ok=True)
            n += 1
    log.info("frames: deleted %d video cuts (recorded in %s)", n, record)


def read_frames_manifest(path: str | os.PathLike[str]) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame[FRAMES_MANIFEST_COLUMNS]


def split_frame_paths(value: str) -> list[str]:
    """``frame_paths`` cell → list of paths."""
    return [p for p in str(value).split("|") if p]


def load_frame(path: str | os.PathLike[str]) -> np.ndarray:
    """An RGB frame as a ``uint8`` array (H, W, 3)."""
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))
