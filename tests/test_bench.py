from vipant import bench


def test_train_benchmark_reports_every_figure(capsys, tmp_path):
    """CPU, tiny batch: the figures exist and are positive (their values are read from the printout, not
    asserted: speed is measured by the benchmark, not by tests)."""
    figures = bench.run("train", device="cpu", batch=2, steps=1, workdir=tmp_path)
    for name in ("synthetic", "ViT-B/32"):
        assert figures[f"{name}_clips_per_s"] > 0
        assert figures[f"{name}_cached_over_uncached"] > 0
    assert figures["synthetic_loop_clips_per_s"] > 0
    assert figures["synthetic_1thread_fp32_clips_per_s"] > 0 and figures["synthetic_1thread_bf16_clips_per_s"] > 0
    assert "ViT-B/32_loop_clips_per_s" not in figures  # the ViT-B/32 loop is measured on CUDA only
    out = capsys.readouterr().out
    assert "whole training loop" in out and "training step, eager" in out
    assert list(tmp_path.iterdir()) == []  # the loop's feature store was temporary


def test_data_benchmark_reports_every_stage(capsys, tmp_path):
    figures = bench.run("data", workdir=tmp_path, clips=4)
    for stage in ("download_cut", "frames", "fbank", "loader"):
        assert figures[stage] > 0, stage
    assert "FBANK loader" in capsys.readouterr().out


def test_disk_benchmark_measures_a_work_dirs_manifests(capsys, tmp_path):
    """``vipant bench disk --measure DIR`` reads the download and frames manifests of a work dir (the
    prefix layout or any other: paths come from the manifests) and prints the table docs/cluster.md shows.
    Catches a command that looks for files by name instead of reading the manifests, or writes into DIR."""
    from vipant.acquire.manifest import make_row, write_manifest
    from vipant.cli import main

    work = tmp_path / "work"
    audio = work / "download" / "audio" / "ab" / "abc_0.flac"
    audio.parent.mkdir(parents=True)
    audio.write_bytes(b"x" * 150_000)
    write_manifest(
        work / "download" / "shard-000.csv",
        [
            make_row(
                "abc_0",
                "abcdefghijk",
                0,
                10,
                status="ok",
                audio_path=audio,
                video_path=work / "download" / "video" / "ab" / "abc_0.mp4",
                duration=10,
            )
        ],
    )
    jpgs = [work / "frames" / "jpg" / "ab" / f"abc_0_{i}.jpg" for i in range(4)]
    jpgs[0].parent.mkdir(parents=True)
    for j in jpgs:
        j.write_bytes(b"y" * 10_000)
    (work / "frames" / "shard-000.csv").write_text(
        "clip_id,status,reason,detail,frame_paths\nabc_0,ok,,," + "|".join(map(str, jpgs)) + "\n"
    )
    before = sorted(p for p in work.rglob("*"))
    assert main(["bench", "disk", "--measure", str(work), "--workdir", str(tmp_path / "scratch")]) == 0
    out = capsys.readouterr().out
    assert "| FLAC, 16 kHz mono, 10 s | 150,000 |" in out and "| 4 JPEGs, short side 224, q 90 | 40,000 |" in out
    assert "video cut" not in out  # dropped: nothing to measure, not a 0-byte cut
    assert "| FBANK, float16 1000 x 128 | 256,000 |" in out
    assert sorted(p for p in work.rglob("*")) == before
