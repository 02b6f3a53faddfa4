import http.server
import io
import tarfile
import threading
import zipfile

import pytest

from vipant.acquire.fetch import DatasetSource, FetchError, extract_archive, fetch_dataset, fetch_url


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_fetch_file_url_and_zip_and_tar(tmp_path):
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "index.csv").write_text("a,b\n1,2\n")
    _zip(remote / "data.zip", {"ESC-50-master/meta/esc50.csv": "x", "ESC-50-master/audio/1-1-A-0.wav": "y"})
    with tarfile.open(remote / "u.tar.gz", "w:gz") as tf:
        data = b"hello"
        info = tarfile.TarInfo("UrbanSound8K/metadata/UrbanSound8K.csv")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    spec = {
        "files": {"index.csv": "{world_url}/index.csv"},
        "archives": ["{world_url}/data.zip", "{world_url}/u.tar.gz"],
    }
    source = DatasetSource.from_dict("demo", spec, world_url=remote.as_uri())
    out = tmp_path / "raw" / "demo"
    record = fetch_dataset(source, out, tmp_path / "raw" / "demo.json")
    assert (out / "index.csv").read_text() == "a,b\n1,2\n"
    assert (out / "ESC-50-master/audio/1-1-A-0.wav").read_text() == "y"
    assert (out / "UrbanSound8K/metadata/UrbanSound8K.csv").read_bytes() == b"hello"
    assert not (out / ".archives").exists(), "downloaded archives are removed after unpacking"
    assert (tmp_path / "raw" / "demo.json").is_file() and record["archives"]


def test_zip_slip_is_refused(tmp_path):
    _zip(tmp_path / "evil.zip", {"ok.txt": "fine", "../escape.txt": "bad"})
    with pytest.raises(FetchError, match=r"evil\.zip.*outside"):
        extract_archive(tmp_path / "evil.zip", tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()


def test_tar_link_is_refused(tmp_path):
    with tarfile.open(tmp_path / "link.tar", "w") as tf:
        info = tarfile.TarInfo("data/link")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tf.addfile(info)
    with pytest.raises(FetchError, match="not a regular file"):
        extract_archive(tmp_path / "link.tar", tmp_path / "out")


def test_corrupt_archive_names_the_file(tmp_path):
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(FetchError, match="broken.zip"):
        extract_archive(tmp_path / "broken.zip", tmp_path / "out")


def test_missing_file_url_fails_fast_without_partial_output(tmp_path):
    with pytest.raises(FetchError, match="cannot fetch"):
        fetch_url((tmp_path / "nope.csv").as_uri(), tmp_path / "dest.csv", retries=3, backoff=5)
    assert list(tmp_path.iterdir()) == []


class _Flaky(http.server.BaseHTTPRequestHandler):
    calls = 0

    def do_GET(self):  # noqa: N802 (http.server API)
        type(self).calls += 1
        if self.path == "/missing":
            self.send_error(404)
        elif type(self).calls < 3:
            self.send_error(503)
        else:
            body = b"payload"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_http_retries_5xx_but_not_404(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        fetch_url(f"{base}/x", tmp_path / "x", retries=3, backoff=0.01)
        assert (tmp_path / "x").read_bytes() == b"payload" and _Flaky.calls == 3
        _Flaky.calls = 0
        with pytest.raises(FetchError, match="404"):
            fetch_url(f"{base}/missing", tmp_path / "m", retries=3, backoff=0.01)
        assert _Flaky.calls == 1
    finally:
        server.shutdown()
