"""The download error classifier against the messages yt-dlp 2026.10 actually raises.

The messages live verbatim in ytdlp_messages.yaml (with where yt-dlp builds each one); these tests hold
the classifier to them and check that the phrases it relies on are still in the installed yt-dlp.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from vipant.acquire.download import classify_download_error
from vipant.acquire.manifest import PERMANENT_REASONS, RETRYABLE_REASONS, is_final

FIXTURES = yaml.safe_load(Path(__file__).with_name("ytdlp_messages.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", FIXTURES, ids=[c["name"] for c in FIXTURES])
def test_real_ytdlp_messages_get_their_reason(case):
    """Catches the rate-limit answer ("Video unavailable. This content isn't available, try again later")
    being recorded as a deleted video, an age gate or a 403 / format / extractor failure being final, and a
    deleted / private / terminated / copyright video being retried forever."""
    from yt_dlp.utils import DownloadError

    assert classify_download_error(DownloadError(case["message"])) == case["reason"]


def test_http_status_on_the_cause_chain_decides_before_generic_text():
    """Catches a 403 or 429 raised under a generic "Unable to download webpage" being final, and a 404 being
    retried: the status code on the chained HTTPError decides."""
    from yt_dlp.networking.exceptions import HTTPError
    from yt_dlp.utils import DownloadError, ExtractorError

    class Resp:
        def __init__(self, status):
            self.status, self.reason, self.headers, self.url = status, "x", {}, "http://x"

        def close(self):
            pass

    def wrapped(status):
        err = ExtractorError("Unable to download webpage", cause=HTTPError(Resp(status)))
        return DownloadError("ERROR: Unable to download webpage", (type(err), err, None))

    assert [classify_download_error(wrapped(s)) for s in (403, 429, 404, 410, 503, 401)] == [
        "blocked",
        "blocked",
        "unavailable",
        "unavailable",
        "network",
        "blocked",
    ]


def test_reasons_split_into_final_and_retryable():
    """Catches ``blocked`` rows being final (never retried) or ``unavailable`` rows being retried, and an
    age-restricted clip being retried without cookies or skipped by a run that has them."""
    assert RETRYABLE_REASONS == {"network", "blocked"}
    assert {"unavailable", "age_restricted"} <= PERMANENT_REASONS
    row = {"status": "failed", "reason": "age_restricted", "detail": ""}
    assert is_final(row) and not is_final(row, cookies=True)
    assert not is_final({"status": "failed", "reason": "blocked", "detail": ""})
    assert is_final({"status": "failed", "reason": "unavailable", "detail": ""}, cookies=True)


# Phrases built by yt-dlp itself (not YouTube) that the classifier or the fixtures rely on.
YTDLP_PHRASES = {
    "extractor/youtube/_video.py": [
        "This content isn't available, try again later",
        "has been rate-limited by YouTube for up to an hour",
        "YouTube is requiring a captcha challenge before playback",
        "'confirm your age', 'age-restricted', 'inappropriate'",
        "Failed to extract any player response",
    ],
    "YoutubeDL.py": [
        "Requested format is not available. Use --list-formats for a list of available formats",
        "No video formats found!",
        "This video is DRM protected",
        "This format cannot be partially downloaded",
        "unable to download video data: {err}",
    ],
    "extractor/common.py": [
        "Unable to extract {_name}",
        "Use --cookies-from-browser or --cookies for the authentication",
    ],
    "networking/exceptions.py": ["HTTP Error {response.status}: {response.reason}"],
}


@pytest.mark.parametrize("path", sorted(YTDLP_PHRASES))
def test_fixture_phrases_are_in_the_installed_ytdlp(path):
    """Catches fixtures that drifted from the installed yt-dlp (a newer yt-dlp rewording its messages
    makes this fail, and the fixtures and patterns must then be taken from it again)."""
    import yt_dlp

    text = (Path(yt_dlp.__file__).parent / path).read_text(encoding="utf-8")
    missing = [p for p in YTDLP_PHRASES[path] if p not in text]
    assert not missing, f"yt_dlp/{path} no longer says {missing}"
