import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vipant.checkpoint import load_checkpoint
from vipant.models.audio_encoder import load_audio_model

SCRIPT = Path(__file__).with_name("va_train_script.py")


def _run(work, epochs, crash=-1, match="random", lr=0.5, device="cpu", steps=()):
    """va_train_script.py in a subprocess; ``device``: cpu, cuda, or cpu-bf16 (CPU under bf16 autocast);
    ``steps``: (max_steps, eval_every) for a step budget."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(work), str(epochs), str(crash), match, str(lr), device, *map(str, steps)],
        capture_output=True,
        text=True,
        timeout=300,
    )


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
    from vipant.train.loop import rank_batches

    order = torch.randperm(40, generator=torch.Generator().manual_seed(0))
    in_turn, threaded = _CountingTask(), _CountingTask()
    a = list(rank_batches(in_turn, order, steps, batch=4, rank=1, local=2, loaders=0))
    b = list(rank_batches(threaded, order, steps, batch=4, rank=1, local=2, loaders=3))
    assert len(a) == len(b) == steps
    for (ia, fa), (ib, fb) in zip(a, b):
        assert torch.equal(ia, ib) and torch.equal(fa, fb)
    assert torch.equal(a[0][0], order[2:4])  # rank 1's half of step 0
    assert in_turn.threads == {"MainThread"}
    if steps > 1:
        assert any(t.startswith("vipant-loader") for t in threaded.threads)


def test_a_run_killed_inside_an_epoch_resumes_to_the_same_weights(tmp_path):
    """Step budget 5 at 2 steps per epoch, evaluated every 3 steps: the first checkpoint (step 3) lies inside
    epoch 1. Resuming there must skip the step already taken and continue that epoch's SpecAugment masks;
    catches a resume that restarts the epoch, replays its first batch or redraws its masks."""
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    whole.mkdir(), broken.mkdir()
    assert _run(whole, 1, steps=(5, 3)).returncode == 0
    crashed = _run(broken, 1, crash=0, steps=(5, 3))
    assert crashed.returncode == 17, crashed.stderr
    state = load_checkpoint(broken / "checkpoint.pt")
    assert (state["step"], state["epoch"]) == (3, 1)
    resumed = _run(broken, 1, steps=(5, 3))
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr
    assert [h["step"] for h in load_checkpoint(broken / "checkpoint.pt")["history"]] == [3, 5]
    a = load_checkpoint(whole / "model.pt")["encoder"]
    b = load_checkpoint(broken / "model.pt")["encoder"]
    for name in a:
        assert torch.equal(a[name], b[name]), name


class _PlantedTask:
    """10 examples with fixed features and targets; ``validation_loss`` returns planted values in turn."""

    segments = None

    def __init__(self, val_losses=()):
        g = torch.Generator().manual_seed(0)
        self.fbank = torch.randn(10, 64, 128, generator=g)
        self.emb = torch.randn(10, 16, generator=g)
        self.val_losses = list(val_losses)
        self.steps = 0

    def __len__(self):
        return 10

    def start_epoch(self, epoch, generator):
        pass

    def audio(self, index):
        return self.fbank[index]

    def targets(self, index, audio_emb):
        self.steps += 1
        return self.emb[index]

    def validate(self, embed):
        return {}

    def validation_loss(self, embed, logit_scale, batch):
        return self.val_losses.pop(0)


@pytest.mark.parametrize("eval_every, evals", [(None, [2, 4, 6, 7]), (3, [3, 6, 7])])
def test_max_steps_takes_exactly_that_many_steps_with_the_schedule_over_them(
    tmp_path, tiny_encoder, monkeypatch, eval_every, evals
):
    """10 examples at batch 4 are 2 steps per epoch; a budget of 7 steps cycles 4 epochs (the last one
    truncated) with warm-up (1 epoch = 2 steps) and cosine spanning the 7 steps. Catches a budget rounded to
    whole epochs, a schedule still sized by ``epochs`` and evaluations missing at the budget's end."""
    import vipant.train.loop as loop
    from vipant.train.schedule import lars_warmup_cosine

    seen = []
    real_set_lr = loop.set_lr
    monkeypatch.setattr(loop, "set_lr", lambda opt, m: (seen.append(m), real_set_lr(opt, m)))
    task = _PlantedTask()
    cfg = loop.TrainConfig(
        epochs=1,
        max_steps=7,
        eval_every=eval_every,
        batch_size=4,
        lr_weights=0.5,
        lr_biases=0.01,
        warmup_epochs=1,
        spec_augment=False,
        device="cpu",
    )
    history = loop.train(tiny_encoder(64), task, cfg, tmp_path)
    assert task.steps == 7
    assert seen == pytest.approx([lars_warmup_cosine(s, 7, 2) for s in range(7)])
    q = 0.5 * (1 + math.cos(math.pi * 4 / 5))
    assert seen[:2] == [0.0, 0.5] and seen[-1] == pytest.approx(q + 0.001 * (1 - q))
    assert [h["step"] for h in history] == evals
    assert history[-1]["epoch"] == 3


def test_keep_best_leaves_the_weights_of_the_lowest_validation_loss(tmp_path, tiny_encoder):
    """Validation losses planted 2.0, 0.5, 1.5, 3.0 at steps 2, 4, 6, 8: the encoder ends with step 4's
    weights, the history says so, and kept_record gives step 4's logit scale. Catches keeping the last
    weights, keeping the highest loss and an off-by-one evaluation."""
    from vipant.train.loop import TrainConfig, kept_record, train

    task = _PlantedTask([2.0, 0.5, 1.5, 3.0])
    encoder = tiny_encoder(64)
    snapshots = []
    cfg = TrainConfig(
        max_steps=8,
        eval_every=2,
        keep_best=True,
        batch_size=4,
        lr_weights=0.5,
        lr_biases=0.5,
        warmup_epochs=0,
        spec_augment=False,
        device="cpu",
    )
    history = train(
        encoder,
        task,
        cfg,
        tmp_path,
        on_epoch=lambda i, r: snapshots.append({k: v.clone() for k, v in encoder.state_dict().items()}),
    )
    assert [h["step"] for h in history] == [2, 4, 6, 8]
    assert [h["val_loss"] for h in history] == [2.0, 0.5, 1.5, 3.0]
    assert [h["best_step"] for h in history] == [2, 4, 4, 4]
    assert kept_record(history) is history[1]
    assert len({h["logit_scale"] for h in history}) == 4  # the scale trains, so picking the record matters
    final = encoder.state_dict()
    assert all(torch.equal(final[k], snapshots[1][k]) for k in final)
    assert any(not torch.equal(snapshots[3][k], snapshots[1][k]) for k in final)  # later steps moved on
    assert load_checkpoint(tmp_path / "checkpoint.pt")["best"]["step"] == 4


def test_steps_report_their_own_loss_and_lr_and_the_log_shows_progress(tmp_path, tiny_encoder, monkeypatch, caplog):
    """With an evaluation after every step, the loss ``on_step`` reports for step k must be the history's loss
    of step k, and its LR the schedule's value at step k - 1 (0-based) times the scaled base rate. Catches a
    step counter off by one (the loss or LR of the neighbouring step), an LR read before ``set_lr`` and a
    progress line that never reaches the log."""
    import logging

    import vipant.train.loop as loop
    from vipant.train.schedule import lars_warmup_cosine

    monkeypatch.setenv("VIPANT_PROGRESS_INTERVAL", "1e-9")  # a line at every step
    reported = []
    cfg = loop.TrainConfig(
        epochs=3,
        eval_every=1,
        log_every=1,
        batch_size=4,
        lr_weights=0.5,
        lr_biases=0.01,
        warmup_epochs=1,
        spec_augment=False,
        device="cpu",
    )
    with caplog.at_level(logging.INFO, logger="vipant.progress"):
        history = loop.train(
            tiny_encoder(64), _PlantedTask(), cfg, tmp_path, on_step=lambda s, m: reported.append((s, m))
        )
    assert [s for s, _ in reported] == [h["step"] for h in history] == [1, 2, 3, 4, 5, 6]
    assert [m["train_loss"] for _, m in reported] == pytest.approx([h["loss"] for h in history])
    base = 0.5 * 4 / 256
    assert [m["lr"] for _, m in reported] == pytest.approx([base * lars_warmup_cosine(s, 6, 2) for s in range(6)])
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("train: ")]
    assert lines[0].startswith("train: 1/6 steps") and lines[-1].startswith("train: 6/6 steps (100 %)")
    assert "clips_per_s=" in lines[-1] and "loss=" in lines[-1]


def test_unknown_training_settings_are_refused_by_name():
    from vipant.train.loop import TrainConfig

    with pytest.raises(ValueError, match=r"^unknown training settings \['epoch'\]; known: \['batch_size', "):
        TrainConfig.from_dict({"epoch": 3})
