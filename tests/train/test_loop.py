import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vipant.checkpoint import load_checkpoint
from vipant.models.audio_encoder import load_audio_model

SCRIPT = Path(__file__).with_name("va_train_script.py")


def _run(work, epochs, crash=-1, match="random", lr=0.5):
    return subprocess.run([sys.executable, str(SCRIPT), str(work), str(epochs), str(crash), match, str(lr)],
                          capture_output=True, text=True, timeout=300)


def test_training_runs_and_logs_history(tmp_path):
    proc = _run(tmp_path, 2)
    assert proc.returncode == 0, proc.stderr
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    assert state["epoch"] == 1 and len(state["history"]) == 2
    first = state["history"][0]
    for key in ("loss", "logit_scale", "val_a2i_R@1", "val_i2a_R@5", "val_chance_R@1", "clips_per_s"):
        assert key in first
    encoder, _ = load_audio_model(tmp_path / "model.pt")
    assert encoder(torch.zeros(1, 200, 128)).shape == (1, 16)


def test_killed_run_resumes_to_the_same_weights(tmp_path):
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    whole.mkdir(), broken.mkdir()
    assert _run(whole, 3).returncode == 0
    crashed = _run(broken, 3, crash=0)
    assert crashed.returncode == 17, crashed.stderr  # died hard right after epoch 0's checkpoint
    assert load_checkpoint(broken / "checkpoint.pt")["epoch"] == 0 and not (broken / "model.pt").exists()
    resumed = _run(broken, 3)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr
    a = load_checkpoint(whole / "model.pt")["encoder"]
    b = load_checkpoint(broken / "model.pt")["encoder"]
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_checkpoint_of_another_configuration_is_not_resumed(tmp_path):
    crashed = _run(tmp_path, 3, crash=0)
    assert crashed.returncode == 17
    changed = _run(tmp_path, 3, lr=0.25)  # e.g. a config edit made Snakemake rerun the job
    assert changed.returncode == 0, changed.stderr
    assert "resuming" not in changed.stderr and "different run" in changed.stderr
    assert len(load_checkpoint(tmp_path / "checkpoint.pt")["history"]) == 3


@pytest.mark.parametrize("match", ["nearest@1", "multiframe"])
def test_frame_matching_variants_train(tmp_path, match):
    proc = _run(tmp_path, 2, match=match)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_bf16_training_on_cuda_tracks_cpu_training(tmp_path):
    """The same run on CUDA (bf16 autocast) and on CPU (fp32): it finishes, its checkpoint loads on CPU,
    and its losses follow the CPU run's up to bf16 rounding."""
    gpu, cpu = tmp_path / "gpu", tmp_path / "cpu"
    gpu.mkdir(), cpu.mkdir()
    on_gpu = subprocess.run([sys.executable, str(SCRIPT), str(gpu), "2", "-1", "random", "0.5", "cuda"],
                            capture_output=True, text=True, timeout=300)
    assert on_gpu.returncode == 0, on_gpu.stderr
    assert _run(cpu, 2).returncode == 0
    a = load_checkpoint(gpu / "checkpoint.pt")["history"]
    b = load_checkpoint(cpu / "checkpoint.pt")["history"]
    for ga, cb in zip(a, b):
        assert ga["loss"] == pytest.approx(cb["loss"], rel=0.05)
    encoder, _ = load_audio_model(gpu / "model.pt")
    assert encoder(torch.zeros(1, 200, 128)).shape == (1, 16)


def test_bf16_training_on_cpu_tracks_fp32_training(tmp_path):
    """``cpu_precision: bf16`` (the synthetic preset's speed-up): the run finishes, its weights stay fp32,
    and its losses follow the fp32 run's up to bf16 rounding."""
    bf16, fp32 = tmp_path / "bf16", tmp_path / "fp32"
    bf16.mkdir(), fp32.mkdir()
    on_bf16 = subprocess.run([sys.executable, str(SCRIPT), str(bf16), "2", "-1", "random", "0.5", "cpu-bf16"],
                             capture_output=True, text=True, timeout=300)
    assert on_bf16.returncode == 0, on_bf16.stderr
    assert _run(fp32, 2).returncode == 0
    a = load_checkpoint(bf16 / "checkpoint.pt")["history"]
    b = load_checkpoint(fp32 / "checkpoint.pt")["history"]
    assert [x["loss"] for x in a] != [x["loss"] for x in b]  # autocast did change the arithmetic
    for x, y in zip(a, b):
        assert x["loss"] == pytest.approx(y["loss"], rel=0.05)
    weights = load_checkpoint(bf16 / "model.pt")["encoder"]
    assert all(w.dtype == torch.float32 for w in weights.values() if w.is_floating_point())


class _CountingTask:
    """Features that name their clips; records which threads read them."""

    def __init__(self):
        self.threads = set()

    def audio(self, index):
        import threading

        self.threads.add(threading.current_thread().name)
        return index.float()[:, None, None].expand(-1, 3, 2).clone()


@pytest.mark.parametrize("steps", [1, 2, 7])
def test_loader_threads_yield_the_batches_in_order(steps):
    from vipant.train.loop import _batches

    order = torch.randperm(40, generator=torch.Generator().manual_seed(0))
    in_turn, threaded = _CountingTask(), _CountingTask()
    a = list(_batches(in_turn, order, steps, batch=4, rank=1, local=2, loaders=0))
    b = list(_batches(threaded, order, steps, batch=4, rank=1, local=2, loaders=3))
    assert len(a) == len(b) == steps
    for (ia, fa), (ib, fb) in zip(a, b):
        assert torch.equal(ia, ib) and torch.equal(fa, fb)
    assert torch.equal(a[0][0], order[2:4])  # rank 1's half of step 0
    assert in_turn.threads == {"MainThread"}
    if steps > 1:
        assert any(t.startswith("vipant-loader") for t in threaded.threads)
