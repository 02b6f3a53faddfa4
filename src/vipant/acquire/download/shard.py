"""One shard of clips (:func:`download_shard`): what earlier runs finished (final manifest, journal) is
skipped, the rest is grouped by video and done with one ``YoutubeDL``, every row is journalled, a run of
videos answered ``blocked`` pauses and finally stops the shard (:class:`_BlockWatch`), and the final
manifest, retry token and coverage warnings are written at the end."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from vipant.acquire.download import fetch
from vipant.acquire.download.cleanup import _remove
from vipant.acquire.download.fetch import ffmpeg_on_path
from vipant.acquire.download.video import _process_video
from vipant.acquire.download.ytdlp_settings import YtdlpSettings, js_challenge_problems, ytdlp_options
from vipant.acquire.manifest import (
    RETRYABLE_REASONS,
    STATUS_FAILED,
    STATUS_OK,
    Journal,
    dropped_videos_path,
    is_final,
    journal_path,
    make_row,
    normalize_manifest,
    read_dropped_videos,
    read_journal,
    read_manifest,
    write_manifest,
    write_retry_token,
)
from vipant.progress import Progress

log = logging.getLogger(__name__)


def _read_clips(clips: pd.DataFrame) -> pd.DataFrame:
    missing = {"clip_id", "ytid", "start", "end"} - set(clips.columns)
    if missing:
        raise ValueError(f"clips lack columns {sorted(missing)}")
    frame = clips[["clip_id", "ytid", "start", "end"]].copy()
    frame["clip_id"] = frame["clip_id"].astype(str)
    frame["ytid"] = frame["ytid"].astype(str)
    frame["start"] = pd.to_numeric(frame["start"], errors="coerce")
    frame["end"] = pd.to_numeric(frame["end"], errors="coerce")
    dup = frame["clip_id"].duplicated()
    if dup.any():
        log.warning("%d duplicated clip ids in the shard; keeping the first of each", int(dup.sum()))
        frame = frame[~dup]
    return frame.reset_index(drop=True)


@dataclass
class _BlockWatch:
    """Counts videos answered ``blocked`` in a row; pauses (growing) and finally stops the shard."""

    limit: int  # blocked videos in a row before a pause; 0: never pause or stop
    pauses: int  # pauses before the shard stops
    pause: float  # seconds of the first pause, doubled each time
    streak: int = 0
    taken: int = 0

    def update(self, rows: list[dict[str, Any]], shard: str) -> bool:
        """Record one video's rows; True when the shard must stop."""
        reached = [r for r in rows if int(r.get("attempts") or 0) > 0]
        if not reached:
            return False  # invalid ids never asked YouTube anything
        if not all(r["reason"] == "blocked" for r in reached):
            self.streak = 0
            return False
        self.streak += 1
        if self.limit <= 0 or self.streak < self.limit:
            return False
        if self.taken >= self.pauses:
            log.warning(
                "shard %s: %d videos blocked in a row after %d pauses; stopping with what it has",
                shard,
                self.streak,
                self.taken,
            )
            return True
        delay = self.pause * 2**self.taken
        log.warning("shard %s: %d videos blocked in a row; pausing %.0f s", shard, self.streak, delay)
        self.taken += 1
        self.streak = 0
        fetch._sleep(delay)  # looked up in fetch: one patch of fetch._sleep reaches every pause
        return False


def download_shard(
    clips: pd.DataFrame,
    *,
    url_template: str,
    out_dir: str | os.PathLike[str],
    manifest_path: str | os.PathLike[str],
    retries: int = 3,
    backoff: float = 1.0,
    sample_rate: int = 16000,
    min_coverage: float = 0.9,
    keep_video: bool = True,
    settings: YtdlpSettings | None = None,
    sections: bool = False,
    blocked_limit: int = 5,
    blocked_pauses: int = 2,
    blocked_pause: float = 300.0,
    run_token: str = "",
    ytdlp_opts: Mapping[str, Any] | None = None,
    ffmpeg_timeout: float = 600.0,
) -> pd.DataFrame:
    """Download and cut one shard of clips; write and return its manifest.

    Args:
        clips: columns ``clip_id, ytid, start, end`` (seconds).
        url_template: ``str.format`` template with ``{ytid}``, e.g. :data:`YOUTUBE_URL_TEMPLATE` or
            ``"file:///abs/web/videos/{ytid}.mp4"`` or ``"http://127.0.0.1:PORT/{ytid}.mp4"``.
        out_dir: receives ``audio/``, ``video/`` and a temporary ``.tmp/`` folder (removed at the end).
        manifest_path: final manifest CSV; its journal is ``manifest_path.with_suffix(".journal.jsonl")``.
        retries: extra download attempts after a ``network`` error (so at most ``1 + retries`` attempts).
        backoff: first retry delay in seconds, doubled each time.
        sample_rate: of the written FLAC (mono).
        min_coverage: a warning is logged when the share of ok clips is below it (the workflow's
            coverage gate is what stops training).
        keep_video: write the video cut too (and require a video stream); False keeps audio only.
        settings: pacing, cookies, proxy, rate limit and JavaScript runtime for yt-dlp.
        sections: fetch only each clip's segment (yt-dlp ``download_ranges``); a clip whose section
            download fails for any reason but ``unavailable``/``blocked``/``age_restricted`` falls back to
            the whole video and the ffmpeg cut. Needs a server that honours Range requests (YouTube
            does; ``file://`` URLs do not).
        blocked_limit: after this many videos in a row answered ``blocked``, pause ``blocked_pause``
            seconds (doubled each time); after ``blocked_pauses`` pauses the shard stops, recording its
            untried clips as ``blocked`` (retried by the next run). 0 turns this off.
        run_token: stored next to the manifest (:func:`~vipant.acquire.manifest.write_retry_token`).
        ytdlp_opts: extra ``YoutubeDL`` parameters, applied last.
        ffmpeg_timeout: seconds one cut may take.

    Returns:
        The manifest (:data:`~vipant.acquire.manifest.MANIFEST_COLUMNS`), one row per clip, sorted by
        clip id.
    """

    settings = settings or YtdlpSettings()
    out_dir = Path(out_dir)
    manifest_path = Path(manifest_path)
    audio_dir, video_dir = out_dir / "audio", out_dir / "video"
    audio_dir.mkdir(parents=True, exist_ok=True)
    if keep_video:
        video_dir.mkdir(parents=True, exist_ok=True)
    tmp_root = out_dir / ".tmp" / f"{manifest_path.stem}"
    _remove(tmp_root)  # leftovers of a killed run of this shard
    tmp_root.mkdir(parents=True, exist_ok=True)

    frame = _read_clips(clips)
    jpath = journal_path(manifest_path)

    # what earlier runs finished: the previous final manifest, then the journal (newer)
    done: dict[str, dict[str, Any]] = {}
    if manifest_path.exists():
        try:
            for row in read_manifest(manifest_path).to_dict("records"):
                done[str(row["clip_id"])] = row
        except Exception as exc:  # unreadable manifest: start over for it
            log.warning("ignoring unreadable manifest %s: %s", manifest_path, exc)
    done.update(read_journal(jpath))
    dropped = read_dropped_videos(dropped_videos_path(manifest_path))  # cuts deleted after their frames

    rows: dict[str, dict[str, Any]] = {}
    pending: dict[str, list[dict[str, Any]]] = {}  # ytid -> clips, in order
    for clip in frame.to_dict("records"):
        prev = done.get(clip["clip_id"])
        if (
            prev is not None
            and is_final(prev, need_video=keep_video, cookies=bool(settings.cookies), dropped=dropped)
            and str(prev.get("ytid")) == clip["ytid"]
        ):
            rows[clip["clip_id"]] = prev
        else:
            if prev is not None and prev.get("status") == STATUS_OK:
                # files of an earlier layout (flat folders) would be orphaned by the redone clip's new ones
                for old in (prev.get("audio_path"), prev.get("video_path")):
                    if old:
                        _remove(Path(old))
            pending.setdefault(clip["ytid"], []).append(clip)
    n_pending = sum(len(v) for v in pending.values())
    log.info(
        "shard %s: %d clips, %d already done, %d to do",
        manifest_path.name,
        len(frame),
        len(frame) - n_pending,
        n_pending,
    )
    if pending and "youtube.com" in url_template:
        for problem in js_challenge_problems(settings.js_runtime, settings.js_runtime_path):
            log.warning("yt-dlp may miss YouTube formats: %s (docs/download.md)", problem)

    base_opts = dict(ytdlp_opts or {})
    # a line in the job's log every 30 s (tqdm shows nothing in a redirected log): done/total, rate, ETA, failures
    bar = Progress(f"download {manifest_path.stem}", n_pending, unit="clips")
    n_failed = 0
    journal = Journal(jpath)
    watch = _BlockWatch(blocked_limit, blocked_pauses, blocked_pause)
    ydl = None
    try:
        with ffmpeg_on_path(tmp_root / "bin"):
            if pending:  # one YoutubeDL for the shard; each video still gets its own work folder
                import yt_dlp

                ydl = yt_dlp.YoutubeDL(ytdlp_options(tmp_root, settings=settings, extra=base_opts))
            videos = list(pending.items())
            for i, (ytid, group) in enumerate(videos):
                video_rows = _process_video(
                    ytid,
                    group,
                    url_template=url_template,
                    audio_dir=audio_dir,
                    video_dir=video_dir if keep_video else None,
                    tmp_root=tmp_root,
                    retries=retries,
                    backoff=backoff,
                    sample_rate=sample_rate,
                    ffmpeg_timeout=ffmpeg_timeout,
                    ydl=ydl,
                    sections=sections,
                )
                for row in video_rows:
                    rows[row["clip_id"]] = row
                    journal.append(row)
                    n_failed += row["status"] != STATUS_OK
                    bar.update(1, failed=n_failed)
                    if row["status"] == STATUS_OK:
                        log.debug("%s ok (%.2fs)", row["clip_id"], row["duration"])
                    else:
                        log.info("%s failed: %s (%s)", row["clip_id"], row["reason"], row["detail"])
                if watch.update(video_rows, manifest_path.name):
                    detail = f"not tried: the shard stopped after {watch.streak} blocked videos in a row"
                    for _, rest in videos[i + 1 :]:
                        for clip in rest:
                            row = make_row(
                                clip["clip_id"],
                                clip["ytid"],
                                clip["start"],
                                clip["end"],
                                status=STATUS_FAILED,
                                reason="blocked",
                                detail=detail,
                            )
                            rows[row["clip_id"]] = row
                            journal.append(row)
                    break
    finally:
        if ydl is not None:
            ydl.close()
        journal.close()
        bar.close()

    manifest = normalize_manifest([rows[c] for c in frame["clip_id"]])
    manifest = write_manifest(manifest_path, manifest)
    write_retry_token(manifest_path, run_token)
    journal.remove()
    _remove(tmp_root)
    try:
        (out_dir / ".tmp").rmdir()
    except OSError:
        pass  # another shard is using it

    n_ok = int((manifest["status"] == STATUS_OK).sum())
    coverage = n_ok / len(manifest) if len(manifest) else 1.0
    counts = manifest.loc[manifest["status"] == STATUS_FAILED, "reason"].value_counts().to_dict()
    log.info(
        "shard %s: %d/%d ok (%.1f%%); failures: %s",
        manifest_path.name,
        n_ok,
        len(manifest),
        100 * coverage,
        counts or "none",
    )
    retryable = sum(counts.get(r, 0) for r in RETRYABLE_REASONS)
    if retryable:
        log.warning(
            "shard %s: %d clips failed for reasons a rerun tries again (%s); run the workflow again later",
            manifest_path.name,
            retryable,
            ", ".join(sorted(RETRYABLE_REASONS)),
        )
    if len(manifest) and coverage < min_coverage:
        log.warning(
            "shard %s: coverage %.1f%% is below %.1f%% (failures: %s)",
            manifest_path.name,
            100 * coverage,
            100 * min_coverage,
            counts,
        )
    return manifest
