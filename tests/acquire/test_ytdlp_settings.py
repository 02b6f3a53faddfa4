"""yt-dlp settings from config (pacing, identity, JavaScript runtime) and the runtime check."""

from __future__ import annotations

import os
import stat

import pytest

from vipant.acquire.download import YtdlpSettings, find_js_runtime, js_challenge_problems, ytdlp_options


def _fake_exe(folder, name: str, version_line: str):
    path = folder / name
    path.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_js_runtime_is_found_as_ytdlp_finds_it(tmp_path):
    """Catches a check that looks for the wrong executable or ignores its version: a fake ``deno`` that
    reports 2.5.1 is found with that version, one that reports 1.40 (older than yt-dlp's 2.3 minimum) and
    a missing path are not. Needs neither deno nor yt-dlp-ejs."""
    new = _fake_exe(tmp_path, "deno", "deno 2.5.1 (stable, release, x86_64-unknown-linux-gnu)")
    found = find_js_runtime("deno", str(new))
    assert found == {"name": "deno", "path": str(new), "version": "2.5.1", "supported": True}
    old_dir = tmp_path / "old"
    old_dir.mkdir()
    assert find_js_runtime("deno", str(_fake_exe(old_dir, "deno", "deno 1.40.0"))) is None
    assert find_js_runtime("deno", str(tmp_path / "absent" / "deno")) is None
    problems = js_challenge_problems("deno", str(tmp_path / "absent" / "deno"))
    assert any("'deno' not found or too old" in p for p in problems)
    with pytest.raises(ValueError, match="unknown JavaScript runtime 'rhino'"):
        find_js_runtime("rhino")


def test_settings_reach_ytdlp_params(tmp_path):
    """Catches a config key that never reaches yt-dlp (a misspelt parameter name: yt-dlp ignores unknown
    ones silently) and a rate limit passed as text instead of bytes per second."""
    s = YtdlpSettings(
        sleep_interval=5,
        max_sleep_interval=15,
        sleep_interval_requests=0.75,
        cookies="/c/cookies.txt",
        proxy="socks5://127.0.0.1:1080",
        rate_limit="2M",
        js_runtime="node",
        js_runtime_path="/opt/node/bin/node",
        socket_timeout=20,
    )
    opts = ytdlp_options(tmp_path, settings=s)
    assert {
        k: opts[k]
        for k in (
            "sleep_interval",
            "max_sleep_interval",
            "sleep_interval_requests",
            "cookiefile",
            "proxy",
            "ratelimit",
            "js_runtimes",
            "socket_timeout",
        )
    } == {
        "sleep_interval": 5,
        "max_sleep_interval": 15,
        "sleep_interval_requests": 0.75,
        "cookiefile": "/c/cookies.txt",
        "proxy": "socks5://127.0.0.1:1080",
        "ratelimit": 2 * 1024 * 1024,
        "js_runtimes": {"node": {"path": "/opt/node/bin/node"}},
        "socket_timeout": 20,
    }
    # every key is one yt-dlp documents (YoutubeDL, or FileDownloader for the download options)
    import yt_dlp
    from yt_dlp.downloader.common import FileDownloader

    doc = yt_dlp.YoutubeDL.__doc__ + FileDownloader.__doc__
    for key in (
        "sleep_interval",
        "max_sleep_interval",
        "sleep_interval_requests",
        "cookiefile",
        "proxy",
        "ratelimit",
        "js_runtimes",
        "socket_timeout",
        "download_ranges",
        "force_keyframes_at_cuts",
    ):
        assert f"\n    {key}:" in doc, key
    plain = ytdlp_options(tmp_path)
    assert "sleep_interval" not in plain and "cookiefile" not in plain and plain["js_runtimes"] == {"deno": {}}
    with pytest.raises(ValueError, match="rate_limit 'fast'"):
        YtdlpSettings(rate_limit="fast").params()
    assert os.environ.get("PATH")  # untouched by building options
