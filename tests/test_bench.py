from vipant import bench


def test_train_benchmark_reports_every_figure(capsys, tmp_path):
    """CPU, tiny batch: the figures exist and are positive (their values are read from the printout, not
    asserted: speed is measured by the benchmark, not by tests)."""
    figures = bench.run("train", device="cpu", batch=2, steps=1, workdir=tmp_path)
    for name in ("synthetic", "ViT-B/32"):
        assert figures[f"{name}_clips_per_s"] > 0
        assert figures[f"{name}_cached_over_uncached"] > 0
    assert figures["synthetic_loop_clips_per_s"] > 0
    assert "ViT-B/32_loop_clips_per_s" not in figures  # the ViT-B/32 loop is measured on CUDA only
    out = capsys.readouterr().out
    assert "whole training loop" in out and "training step, eager" in out
    assert list(tmp_path.iterdir()) == []  # the loop's feature store was temporary


def test_data_benchmark_reports_every_stage(capsys, tmp_path):
    figures = bench.run("data", workdir=tmp_path, clips=4)
    for stage in ("download_cut", "frames", "fbank", "loader"):
        assert figures[stage] > 0, stage
    assert "FBANK loader" in capsys.readouterr().out
