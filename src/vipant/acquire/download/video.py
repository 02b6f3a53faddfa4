"""All clips of one video, as manifest rows: id and segment checks, then a section download per clip
(falling back to the whole video when a section cannot be fetched or cut for a reason that is not the
video's own), or one whole-video download shared by its clips, then one ffmpeg cut per clip. Never
raises: every error becomes a failed row."""

from __future__ import annotations

import logging
import math
import tempfile
from pathlib import Path
from typing import Any

from vipant.acquire.download.cleanup import _remove, _remove_outputs
from vipant.acquire.download.cut import cut_segment
from vipant.acquire.download.errors import ClipFailed, DownloadFailed, short_message
from vipant.acquire.download.fetch import fetch_with_retries
from vipant.acquire.download.ids import _safe_clip_id, valid_ytid
from vipant.acquire.manifest import INTERNAL_DETAIL_PREFIX, STATUS_FAILED, STATUS_OK, make_row
from vipant.layout import clip_file
from vipant.media.ffmpeg import MediaInfo, ProbeError, probe

log = logging.getLogger(__name__)

#: Download failures that a whole-video download would meet too (no fallback from a section to it).
FINAL_FOR_VIDEO = frozenset({"unavailable", "blocked", "age_restricted"})

#: Cut failures that say something about the video itself: a section that shows one is not retried whole.
CONTENT_REASONS = frozenset({"no_audio", "no_video", "silent"})


def _process_video(
    ytid: str,
    group: list[dict[str, Any]],
    *,
    url_template: str,
    audio_dir: Path,
    video_dir: Path | None,
    tmp_root: Path,
    retries: int,
    backoff: float,
    sample_rate: int,
    ffmpeg_timeout: float,
    ydl: Any,
    sections: bool = False,
) -> list[dict[str, Any]]:
    """Rows for all clips of one video (a section download per clip, or one whole-video download
    shared by its clips, then one cut per clip); never raises."""

    def failed(clip: dict[str, Any], reason: str, detail: str, attempts: int, info: MediaInfo | None = None):
        return make_row(
            clip["clip_id"],
            clip["ytid"],
            clip["start"],
            clip["end"],
            status=STATUS_FAILED,
            reason=reason,
            detail=detail,
            attempts=attempts,
            src_sample_rate=info.sample_rate if info else None,
            src_channels=info.channels if info else None,
        )

    def outputs(clip: dict[str, Any]) -> tuple[Path, Path | None]:
        cid = clip["clip_id"]
        audio_out = clip_file(audio_dir, cid, f"{cid}.flac")
        return audio_out, (clip_file(video_dir, cid, f"{cid}.mp4") if video_dir is not None else None)

    def cut(clip: dict[str, Any], source: Path, info: MediaInfo, offset: float, attempts: int) -> dict[str, Any]:
        """Cut one clip out of ``source`` (which starts at ``offset`` s of the video); an ok row or ClipFailed."""
        audio_out, video_out = outputs(clip)
        if not info.has_audio:
            raise ClipFailed("no_audio", "the source has no audio stream")
        if video_out is not None and not info.has_video:
            raise ClipFailed("no_video", "the source has no video stream")
        res = cut_segment(
            source,
            info,
            float(clip["start"]) - offset,
            float(clip["end"]) - offset,
            audio_out,
            video_out,
            sample_rate=sample_rate,
            timeout=ffmpeg_timeout,
        )
        return make_row(
            clip["clip_id"],
            clip["ytid"],
            clip["start"],
            clip["end"],
            status=STATUS_OK,
            audio_path=res.audio_path,
            video_path=res.video_path or "",
            duration=res.duration,
            src_sample_rate=info.sample_rate,
            src_channels=info.channels,
            attempts=attempts,
        )

    rows: list[dict[str, Any]] = []
    todo: list[dict[str, Any]] = []
    for clip in group:
        start, end = clip["start"], clip["end"]
        if not valid_ytid(ytid):
            rows.append(failed(clip, "invalid_id", f"not a YouTube id: {ytid[:40]!r}", 0))
        elif not _safe_clip_id(clip["clip_id"]):
            rows.append(failed(clip, "invalid_id", f"unsafe clip id: {clip['clip_id'][:40]!r}", 0))
        elif not (math.isfinite(start) and math.isfinite(end) and 0 <= start < end):
            rows.append(failed(clip, "invalid_id", f"bad segment [{start}, {end}]", 0))
        else:
            todo.append(clip)
    if not todo:
        return rows

    # a stale output of a clip we are about to (re)do must not survive a failure
    for clip in todo:
        audio_out, video_out = outputs(clip)
        _remove_outputs(
            audio_out, video_out or clip_file(audio_dir.parent / "video", clip["clip_id"], f"{clip['clip_id']}.mp4")
        )

    url = url_template.format(ytid=ytid)
    if sections:
        rest = []
        for clip in todo:
            section = (float(clip["start"]), float(clip["end"]))
            work = Path(tempfile.mkdtemp(prefix=f"{ytid}.", dir=tmp_root))
            attempts = 0
            try:
                source, attempts = fetch_with_retries(url, work, ydl, retries=retries, backoff=backoff, section=section)
                rows.append(cut(clip, source, probe(source), section[0], attempts))
                continue
            except DownloadFailed as exc:
                if exc.reason in FINAL_FOR_VIDEO:  # the whole video would be refused the same way
                    rows.append(failed(clip, exc.reason, exc.detail, exc.attempts))
                    continue
                log.info("%s: section download failed (%s); fetching the whole video", clip["clip_id"], exc.detail)
            except ClipFailed as exc:
                if exc.reason in CONTENT_REASONS:  # a fact about the video, not about the section
                    audio_out, video_out = outputs(clip)
                    _remove_outputs(audio_out, video_out or audio_out)
                    rows.append(failed(clip, exc.reason, exc.detail, attempts))
                    continue
                log.info("%s: section unusable (%s); fetching the whole video", clip["clip_id"], exc.detail)
            except Exception as exc:  # noqa: BLE001 - a section that cannot be cut: try the whole video
                log.info("%s: section unusable (%s); fetching the whole video", clip["clip_id"], short_message(exc))
            finally:
                _remove(work)
            audio_out, video_out = outputs(clip)
            _remove_outputs(audio_out, video_out or audio_out)
            rest.append(clip)
        todo = rest
        if not todo:
            return rows

    attempts = 0
    work = Path(tempfile.mkdtemp(prefix=f"{ytid}.", dir=tmp_root))
    try:
        try:
            source, attempts = fetch_with_retries(url, work, ydl, retries=retries, backoff=backoff)
        except DownloadFailed as exc:
            return rows + [failed(c, exc.reason, exc.detail, exc.attempts) for c in todo]
        except ClipFailed as exc:
            return rows + [failed(c, exc.reason, exc.detail, 1) for c in todo]
        except Exception as exc:  # noqa: BLE001 - one bad clip never stops the shard
            log.exception("unexpected error downloading %s", ytid)
            return rows + [
                failed(
                    c,
                    "decode_error",
                    f"{INTERNAL_DETAIL_PREFIX}: {type(exc).__name__}: {short_message(exc)}",
                    max(attempts, 1),
                )
                for c in todo
            ]

        try:
            info = probe(source)
        except ProbeError as exc:
            return rows + [failed(c, "decode_error", short_message(exc).replace(str(work), ""), attempts) for c in todo]
        except Exception as exc:  # noqa: BLE001
            return rows + [
                failed(c, "decode_error", f"{INTERNAL_DETAIL_PREFIX}: {short_message(exc)}", attempts) for c in todo
            ]

        for clip in todo:
            audio_out, video_out = outputs(clip)
            try:
                rows.append(cut(clip, source, info, 0.0, attempts))
            except ClipFailed as exc:
                _remove_outputs(audio_out, video_out or audio_out)
                rows.append(failed(clip, exc.reason, exc.detail, attempts, info))
            except Exception as exc:  # noqa: BLE001
                log.exception("unexpected error cutting %s", clip["clip_id"])
                _remove_outputs(audio_out, video_out or audio_out)
                rows.append(
                    failed(
                        clip,
                        "decode_error",
                        f"{INTERNAL_DETAIL_PREFIX}: {type(exc).__name__}: {short_message(exc)}",
                        attempts,
                        info,
                    )
                )
        return rows
    finally:
        _remove(work)  # the full video is never kept
