"""Fixture media for the download stage, made with ffmpeg's lavfi sources (no network, ~3 s once).

Every source is a 14 s H.264 + AAC mp4 named ``{ytid}.mp4`` in one folder that the tests serve as
``file://`` URLs or through a loopback HTTP server. Each clip asks for the segment [2, 12].
"""

from __future__ import annotations

import functools
import http.server
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from vipant.acquire.manifest import clip_id_for
from vipant.media.ffmpeg import run_ffmpeg

START, END = 2.0, 12.0
SIZE = "160x120"

GOOD = "goodClip_01"
STEREO = "stereo48k_1"
NO_AUDIO = "noAudio_001"
NO_VIDEO = "noVideo_001"
SHORT = "shortVid_01"
CORRUPT = "corruptMp4x"
SILENT = "silentClip1"
MISSING = "missingVid1"  # no file: unreachable URL
TRAVERSAL = "../../etc/x"  # 11 characters, but not a YouTube id

#: ytid -> (status, reason) that download_shard must produce
EXPECTED = {
    GOOD: ("ok", ""),
    STEREO: ("ok", ""),
    NO_AUDIO: ("failed", "no_audio"),
    NO_VIDEO: ("failed", "no_video"),
    SHORT: ("failed", "too_short"),
    CORRUPT: ("failed", "decode_error"),
    SILENT: ("failed", "silent"),
    MISSING: ("failed", "unavailable"),
    TRAVERSAL: ("failed", "invalid_id"),
}


def _video(duration: float) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc=size={SIZE}:rate=25:duration={duration}"]


def _audio(src: str) -> list[str]:
    return ["-f", "lavfi", "-i", src]


_ENC_V = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
_ENC_A = ["-c:a", "aac", "-b:a", "96k"]


def make_media(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    out = lambda ytid: str(folder / f"{ytid}.mp4")  # noqa: E731
    faststart = ["-movflags", "+faststart"]
    run_ffmpeg([*_video(14), *_audio("sine=frequency=440:sample_rate=44100:duration=14"),
                *_ENC_V, *_ENC_A, "-shortest", *faststart, out(GOOD)])
    run_ffmpeg([*_video(14), *_audio("anoisesrc=sample_rate=48000:amplitude=0.3:duration=14"),
                *_ENC_V, *_ENC_A, "-ac", "2", "-shortest", *faststart, out(STEREO)])
    run_ffmpeg([*_video(14), *_ENC_V, *faststart, out(NO_AUDIO)])
    run_ffmpeg([*_audio("sine=frequency=330:sample_rate=44100:duration=14"), *_ENC_A, *faststart, out(NO_VIDEO)])
    run_ffmpeg([*_video(6), *_audio("sine=frequency=550:sample_rate=44100:duration=6"),
                *_ENC_V, *_ENC_A, "-shortest", *faststart, out(SHORT)])
    run_ffmpeg([*_video(14), *_audio("anullsrc=r=44100:cl=mono"), "-t", "14",
                *_ENC_V, *_ENC_A, *faststart, out(SILENT)])
    # corrupt: a valid header (ftyp + moov, faststart) followed by garbage instead of the media data
    good = (folder / f"{GOOD}.mp4").read_bytes()
    mdat = good.find(b"mdat")
    assert mdat > 0
    rng = random.Random(1234)
    (folder / f"{CORRUPT}.mp4").write_bytes(good[: mdat + 64] + rng.randbytes(len(good) - mdat - 64))


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("web") / "videos"
    make_media(folder)
    return folder


def clips_frame(ytids) -> pd.DataFrame:
    return pd.DataFrame(
        [{"clip_id": clip_id_for(y, START), "ytid": y, "start": START, "end": END} for y in ytids]
    )


@pytest.fixture
def all_clips() -> pd.DataFrame:
    return clips_frame(EXPECTED)


@pytest.fixture
def file_template(media_dir) -> str:
    return f"file://{media_dir.resolve()}/{{ytid}}.mp4"


@dataclass
class MediaServer:
    """A loopback HTTP server over the media folder; ``fail_first[path] = (n, code)`` answers the
    first n GETs of ``/path`` with ``code``. ``hits`` counts GETs per path."""

    port: int
    hits: dict = field(default_factory=dict)
    fail_first: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def template(self) -> str:
        return f"http://127.0.0.1:{self.port}/{{ytid}}.mp4"


@pytest.fixture
def http_server(media_dir):
    state = MediaServer(port=0)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):  # noqa: N802
            name = self.path.lstrip("/")
            with state.lock:
                state.hits[name] = state.hits.get(name, 0) + 1
                n, code = state.fail_first.get(name, (0, 0))
                fail = state.hits[name] <= n
            if fail:
                self.send_error(code)
                return
            super().do_GET()

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):  # clients closing early is normal here
            pass

    server = Server(("127.0.0.1", 0), functools.partial(Handler, directory=str(media_dir)))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A clean HOME, cache and temp folder, to check that nothing is written outside ``out_dir``."""
    home = tmp_path / "home"
    systmp = tmp_path / "systmp"
    home.mkdir()
    systmp.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("TMPDIR", str(systmp))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(systmp))
    return {"home": home, "systmp": systmp}
