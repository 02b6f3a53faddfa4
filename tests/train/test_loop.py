import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vipant.checkpoint import load_checkpoint
from vipant.models.audio_encoder import load_audio_model

SCRIPT = Path(__file__).with_name("va_train_script.py")


def _run(work, epochs, crash=-1, match="random", lr=0.5, device="cpu"):
    """va_train_script.py in a subprocess; ``device``: cpu, cuda, or cpu-bf16 (CPU under bf16 autocast)."""
    return subprocess.run([sys.executable, str(SCRIPT), str(work), str(epochs), str(crash), match, str(lr), device],
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


def _bf16_losses_track_fp32(tmp_path, device: str) -> Path:
    """Train the same 2-epoch run in bf16 on ``device`` and in fp32 on the CPU; check that the bf16 run's
    losses differ from fp32 (autocast changed the arithmetic) but stay within 5 % of them; return its dir."""
    bf16, fp32 = tmp_path / "bf16", tmp_path / "fp32"
    bf16.mkdir(), fp32.mkdir()
    run = _run(bf16, 2, device=device)
    assert run.returncode == 0, run.stderr
    assert _run(fp32, 2).returncode == 0
    a = [h["loss"] for h in load_checkpoint(bf16 / "checkpoint.pt")["history"]]
    b = [h["loss"] for h in load_checkpoint(fp32 / "checkpoint.pt")["history"]]
    assert a != b
    assert a == pytest.approx(b, rel=0.05)
    return bf16


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_bf16_training_on_cuda_tracks_cpu_training(tmp_path):
    """The same run on CUDA (bf16 autocast) and on CPU (fp32): its losses follow the CPU run's up to bf16
    rounding, and its checkpoint loads on CPU."""
    encoder, _ = load_audio_model(_bf16_losses_track_fp32(tmp_path, "cuda") / "model.pt")
    assert encoder(torch.zeros(1, 200, 128)).shape == (1, 16)


def test_bf16_training_on_cpu_tracks_fp32_training(tmp_path):
    """``cpu_precision: bf16`` (the synthetic preset's speed-up): the losses follow the fp32 run's up to
    bf16 rounding, and the saved weights stay fp32."""
    weights = load_checkpoint(_bf16_losses_track_fp32(tmp_path, "cpu-bf16") / "model.pt")["encoder"]
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
