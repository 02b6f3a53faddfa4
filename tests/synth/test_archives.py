import tarfile
import zipfile

from vipant.synth.archives import write_tar_gz, write_zip


def test_zip_is_reproducible_and_has_folders(tmp_path):
    members = [("root/meta/a.csv", b"x,y\n"), ("root/audio/1.wav", b"RIFF....")]
    write_zip(tmp_path / "a.zip", members)
    write_zip(tmp_path / "b.zip", members)
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        assert zf.namelist() == ["root/", "root/meta/", "root/meta/a.csv", "root/audio/", "root/audio/1.wav"]
        assert zf.read("root/meta/a.csv") == b"x,y\n"
        assert zf.getinfo("root/audio/1.wav").compress_type == zipfile.ZIP_STORED


def test_tar_gz_is_reproducible(tmp_path):
    members = [("R/m.csv", b"a\n"), ("R/audio/fold1/x.wav", b"data")]
    write_tar_gz(tmp_path / "a.tar.gz", members)
    write_tar_gz(tmp_path / "b.tar.gz", members)
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tar.gz").read_bytes()
    with tarfile.open(tmp_path / "a.tar.gz") as tf:
        assert tf.extractfile("R/audio/fold1/x.wav").read() == b"data"
        assert tf.getmember("R/audio").isdir()
