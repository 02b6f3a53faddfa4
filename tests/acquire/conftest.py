"""Fixture media for the download stage, made with ffmpeg's lavfi sources (no network, ~3 s once).

Every source is a 14 s H.264 + AAC mp4 named ``{ytid}.mp4`` in one folder that the tests serve as
``file://`` URLs or through a loopback HTTP server. Each clip asks for the segment [2, 12].
"""

from __future__ import annotations

import functools
import http.server
import random
import sys
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
    run_ffmpeg(
        [
            *_video(14),
            *_audio("sine=frequency=440:sample_rate=44100:duration=14"),
            *_ENC_V,
            *_ENC_A,
            "-shortest",
            *faststart,
            out(GOOD),
        ]
    )
    run_ffmpeg(
        [
            *_video(14),
            *_audio("anoisesrc=sample_rate=48000:amplitude=0.3:duration=14"),
            *_ENC_V,
            *_ENC_A,
            "-ac",
            "2",
            "-shortest",
            *faststart,
            out(STEREO),
        ]
    )
    run_ffmpeg([*_video(14), *_ENC_V, *faststart, out(NO_AUDIO)])
    run_ffmpeg([*_audio("sine=frequency=330:sample_rate=44100:duration=14"), *_ENC_A, *faststart, out(NO_VIDEO)])
    run_ffmpeg(
        [
            *_video(6),
            *_audio("sine=frequency=550:sample_rate=44100:duration=6"),
            *_ENC_V,
            *_ENC_A,
            "-shortest",
            *faststart,
            out(SHORT),
        ]
    )
    run_ffmpeg(
        [*_video(14), *_audio("anullsrc=r=44100:cl=mono"), "-t", "14", *_ENC_V, *_ENC_A, *faststart, out(SILENT)]
    )
    # corrupt: a valid header (ftyp + moov, faststart) followed by garbage instead of the media data
    good = (folder / f"{GOOD}.mp4").read_bytes()
    mdat = good.find(b"mdat")
    assert mdat > 0
    rng = random.Random(1234)
    (folder / f"{CORRUPT}.mp4").write_bytes(good[: mdat + 64] + rng.randbytes(len(good) - mdat - 64))


class _LoopbackServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # clients closing early is normal here
        pass


def _serve(handler, state):
    """Serve ``handler`` on a free loopback port (set as ``state.port``) while the caller's fixture yields."""
    server = _LoopbackServer(("127.0.0.1", 0), handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("web") / "videos"
    make_media(folder)
    return folder


def clips_frame(ytids) -> pd.DataFrame:
    return pd.DataFrame([{"clip_id": clip_id_for(y, START), "ytid": y, "start": START, "end": END} for y in ytids])


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

    yield from _serve(functools.partial(Handler, directory=str(media_dir)), state)


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


# ---- a loopback server that honours Range requests and imitates YouTube's bad days ----------------------
LONG = "longVideo01"  # 60 s, for measuring what a section download saves
LONG_SECONDS = 60.0


def long_video_tone(t: float) -> float:
    """The long video's tone in Hz at time t: 200 Hz for the first 10 s, then 100 Hz higher every 10 s."""
    return 200.0 + 100.0 * (t // 10)


def make_long_video(folder: Path) -> Path:
    path = folder / f"{LONG}.mp4"
    if not path.exists():
        tone = f"aevalsrc=0.5*sin(2*PI*(200+100*floor(t/10))*t):s=44100:d={LONG_SECONDS}"
        run_ffmpeg(
            [
                *_video(LONG_SECONDS),
                *_audio(tone),
                *_ENC_V,
                *_ENC_A,
                "-g",
                "25",
                "-shortest",
                "-movflags",
                "+faststart",
                str(path),
            ]
        )
    return path


@dataclass
class BadDayServer:
    """What the server does and saw.

    ``answers[path] = (status, reason phrase)`` answers every GET of ``/path`` so (a deleted video, a
    403, a bot check); ``rate_limit_after = n`` answers 429 "Video unavailable. This content isn't
    available, try again later" to every GET after the first n until ``lifted``; ``slow[path] = s``
    sleeps s seconds before answering; ``aliases[path] = file`` serves another file of the folder under
    ``path``. ``rate_limit_after`` counts distinct paths asked for, so the limit falls between videos.
    ``hits`` counts requests per path, ``ranges`` lists the Range headers of GETs, ``sent`` counts body
    bytes written (loopback socket buffers absorb more than a client reads: an upper bound).
    """

    port: int = 0
    aliases: dict = field(default_factory=dict)
    answers: dict = field(default_factory=dict)
    slow: dict = field(default_factory=dict)
    rate_limit_after: int | None = None
    lifted: bool = False
    seen: list = field(default_factory=list)
    hits: dict = field(default_factory=dict)
    ranges: list = field(default_factory=list)
    sent: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def template(self) -> str:
        return f"http://127.0.0.1:{self.port}/{{ytid}}.mp4"

    def reset_counts(self) -> None:
        with self.lock:
            self.hits.clear()
            self.sent.clear()
            self.ranges.clear()


RATE_LIMIT_PHRASE = "Video unavailable. This content isn't available, try again later"


def _range_handler(state: BadDayServer, folder: Path):
    import time

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _answer(self, head: bool) -> None:
            name = self.path.split("?", 1)[0].lstrip("/")
            with state.lock:
                state.hits[name] = state.hits.get(name, 0) + 1
                if name not in state.seen:
                    state.seen.append(name)
                limited = (
                    state.rate_limit_after is not None
                    and not state.lifted
                    and state.seen.index(name) >= state.rate_limit_after
                )
                scripted = state.answers.get(name)
                delay = state.slow.get(name, 0.0)
            if delay:
                time.sleep(delay)
            if limited:
                scripted = (429, RATE_LIMIT_PHRASE)
            path = folder / state.aliases.get(name, name)
            if scripted is None and ("/" in name or not path.is_file()):
                scripted = (404, "Not Found")
            if scripted is not None:
                self.send_response(*scripted)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            size = path.stat().st_size
            start, end = 0, size - 1
            rng = self.headers.get("Range")
            if rng and self.command == "GET":
                with state.lock:
                    state.ranges.append((name, rng))
            if rng and rng.startswith("bytes="):
                first, _, last = rng[6:].split(",")[0].partition("-")
                start = int(first) if first else max(size - int(last), 0)
                end = min(int(last), size - 1) if first and last else size - 1
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            else:
                self.send_response(200)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(end - start + 1))
            self.end_headers()
            if head:
                return
            with open(path, "rb") as fh:
                fh.seek(start)
                left = end - start + 1
                while left > 0:
                    chunk = fh.read(min(left, 16384))
                    try:
                        self.wfile.write(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        return
                    left -= len(chunk)
                    with state.lock:
                        state.sent[name] = state.sent.get(name, 0) + len(chunk)

        def do_GET(self):  # noqa: N802
            self._answer(head=False)

        def do_HEAD(self):  # noqa: N802
            self._answer(head=True)

    return Handler


@pytest.fixture
def bad_day_server(media_dir):
    """A Range-honouring loopback server over the media folder (plus a 60 s video) that can misbehave."""
    make_long_video(media_dir)
    state = BadDayServer()

    yield from _serve(_range_handler(state, media_dir), state)


# The suite imports in importlib mode, where test files cannot import a conftest: they read its helpers
# (media constants, the bad-day server) from this entry, which pytest fills before collecting them.
sys.modules.setdefault("_acquire_conftest", sys.modules[__name__])
