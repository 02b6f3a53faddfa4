"""The download stage: fetch each clip's segment (or video) with yt-dlp, cut it with ffmpeg.

For one shard of clips (:func:`download_shard`), every clip ends as one manifest row (see
:mod:`vipant.acquire.manifest`): ``ok`` with

* ``{out_dir}/audio/{prefix}/{clip_id}.flac`` — the segment's audio, 16 kHz (``sample_rate``) mono FLAC,
  downmixed and resampled by ffmpeg;
* ``{out_dir}/video/{prefix}/{clip_id}.mp4`` — the segment's video only, re-encoded H.264 (``-preset
  veryfast``) so the cut is frame accurate (when ``keep_video``);

where ``{prefix}`` is the clip id's first two characters (:mod:`vipant.layout`: no folder holds millions
of files at paper scale). Readers take the paths from the manifest, so shards written in the earlier flat
layout stay valid and are not downloaded again.

or ``failed`` with a reason from :data:`~vipant.acquire.manifest.REASONS`.

How it goes, per clip:

1. the YouTube id is checked (11 characters of ``[A-Za-z0-9_-]``) and so is the clip id (it becomes a
   file name): anything else is ``invalid_id`` and touches neither disk nor network;
2. with ``sections`` (the paper preset), yt-dlp fetches only ``[start, end]`` (``download_ranges``:
   ffmpeg reads the remote file with Range requests; yt-dlp wants an executable named ``ffmpeg`` on
   PATH, so a link to imageio-ffmpeg's binary is put there for the shard). A section that cannot be
   fetched or cut for a reason other than the video's own (``unavailable``, ``blocked``,
   ``age_restricted``, no audio/video, silence) falls back to step 3. Without ``sections`` (``file://``
   URLs cannot be fetched in part) yt-dlp downloads the whole video into a per-shard temporary folder
   inside ``out_dir``; several segments of the same video share that download;
3. errors are classified from yt-dlp's own messages (:func:`classify_download_error`; the messages are
   kept verbatim in tests/acquire/ytdlp_messages.yaml): deleted / private / terminated / copyright →
   ``unavailable`` (final); rate limits, bot checks, 400/401/403/429, format or extractor failures →
   ``blocked``; age gates → ``age_restricted`` (retried by a run with a cookie file); timeouts, 5xx,
   resets → ``network``, retried ``retries`` more times, sleeping ``backoff * 2**k`` seconds;
4. one ffmpeg call cuts the segment into both outputs (input seeking + re-encoding, so the cut is
   accurate); ``no_audio`` / ``no_video`` / ``decode_error`` / ``too_short`` (audio shorter than
   ``end - start - 0.5`` s) / ``silent`` (peak below :data:`SILENCE_PEAK`) are decided here. Outputs
   are written under temporary names and renamed only when every check passed, so no half file
   ever exists under a final name and a failed clip leaves no output;
5. downloads are deleted, the row is appended (fsync'd) to the shard's journal.

A shard that gets ``blocked_limit`` videos in a row answered ``blocked`` pauses (``blocked_pause``
seconds, doubled each time); after ``blocked_pauses`` pauses it stops and records its untried clips as
``blocked``, rather than racing through them while YouTube refuses every request.

A rerun skips clips already journalled (or in an existing final manifest) as ok whose files exist (a
video cut that the frames stage deleted on purpose, listed in ``<manifest>.video_dropped.txt``, counts as
there) and failed ones with a final reason; ``network`` and ``blocked`` failures are tried again. The final
manifest, sorted by clip id, is written atomically at the end and the journal removed; the workflow
reruns a shard whose manifest still has retryable rows (:func:`~vipant.acquire.manifest.retry_token`).
No exception raised while handling a clip escapes: it becomes a row (``decode_error`` with detail
``"internal error: ..."``, retried on rerun). docs/download.md covers pacing, cookies, proxies and
what ~300 videos per hour per IP means for AudioSet.

The package, by part:

* :mod:`~vipant.acquire.download.ids`: YouTube and clip id checks, the paper preset's URL template.
* :mod:`~vipant.acquire.download.errors`: :class:`ClipFailed`, :class:`DownloadFailed` and the
  classification of yt-dlp's errors (step 3).
* :mod:`~vipant.acquire.download.ytdlp_settings`: :class:`YtdlpSettings`, the JavaScript runtime check,
  the ``YoutubeDL`` parameters.
* :mod:`~vipant.acquire.download.fetch`: one download attempt, retries with backoff, ``ffmpeg`` on PATH.
* :mod:`~vipant.acquire.download.cut`: the ffmpeg cut and its checks (step 4).
* :mod:`~vipant.acquire.download.cleanup`: removing downloads, work folders and a clip's outputs.
* :mod:`~vipant.acquire.download.video`: all clips of one video (sections, fallback, cuts) as rows.
* :mod:`~vipant.acquire.download.shard`: :func:`download_shard`, the journal, blocked pauses, the manifest.

The public names are re-exported here. A test that replaces a function or the pause hook patches the
submodule that calls it (``fetch.fetch_video``, ``fetch._sleep``), not these re-exports.
"""

from vipant.acquire.download.cut import SHORT_TOLERANCE_S, SILENCE_PEAK, CutResult, cut_segment
from vipant.acquire.download.errors import (
    ClipFailed,
    DownloadFailed,
    classify_download_error,
    classify_message,
    short_message,
)
from vipant.acquire.download.fetch import fetch_video, fetch_with_retries, ffmpeg_on_path
from vipant.acquire.download.ids import YOUTUBE_URL_TEMPLATE, valid_ytid
from vipant.acquire.download.shard import download_shard
from vipant.acquire.download.video import CONTENT_REASONS, FINAL_FOR_VIDEO
from vipant.acquire.download.ytdlp_settings import (
    DEFAULT_FORMAT,
    YtdlpSettings,
    find_js_runtime,
    js_challenge_problems,
    ytdlp_options,
)

__all__ = [
    "CONTENT_REASONS",
    "DEFAULT_FORMAT",
    "FINAL_FOR_VIDEO",
    "SHORT_TOLERANCE_S",
    "SILENCE_PEAK",
    "YOUTUBE_URL_TEMPLATE",
    "ClipFailed",
    "CutResult",
    "DownloadFailed",
    "YtdlpSettings",
    "classify_download_error",
    "classify_message",
    "cut_segment",
    "download_shard",
    "ffmpeg_on_path",
    "fetch_video",
    "fetch_with_retries",
    "find_js_runtime",
    "js_challenge_problems",
    "short_message",
    "valid_ytid",
    "ytdlp_options",
]
