"""The whole training loop under torchrun: 2 gloo ranks on the CPU take the steps one process takes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).with_name("ddp_train_script.py")


def _train(data: Path, out: Path, epochs: int, ranks: int) -> subprocess.CompletedProcess:
    out.mkdir()
    launch = (
        [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={ranks}"]
        if ranks > 1
        else [sys.executable]
    )
    return subprocess.run(
        [*launch, str(SCRIPT), "train", str(data), str(out), str(epochs)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One single-process run and one 2-rank run of 2 epochs (2 steps each) on the same data and global batch."""
    root = tmp_path_factory.mktemp("ddp")
    data = root / "data"
    data.mkdir()
    subprocess.run([sys.executable, str(SCRIPT), "prepare", str(data)], check=True, capture_output=True, timeout=120)
    single = _train(data, root / "single", 2, ranks=1)
    assert single.returncode == 0, single.stderr
    ddp = _train(data, root / "ddp", 2, ranks=2)
    assert ddp.returncode == 0, ddp.stderr
    return root / "single", root / "ddp"


def test_two_ranks_reach_the_weights_of_one_process(runs):
    """Final weights of 2 gloo ranks (4 rows each) equal one process's (8 rows) to float32 rounding
    (atol 1e-5: the gathered loss sums in another order). Catches per-rank SpecAugment streams (each rank
    masking its rows with draws the single run never makes), a rank reading another rank's rows, gradients
    not averaged (x2) and a loss whose negatives are not gathered."""
    single, ddp = runs
    a, b = torch.load(single / "weights.pt"), torch.load(ddp / "weights.pt")
    assert a.keys() == b.keys()
    for name in a:
        assert torch.allclose(a[name], b[name], atol=1e-5, rtol=1e-4), name


def test_rank0_logs_the_global_loss_and_only_rank0_writes(runs):
    """Rank 0's history (what MLflow and the checkpoint get) holds the loss of the whole global batch, as the
    single run's does, and the same validation metrics; rank 1 calls no ``on_epoch`` and writes no
    checkpoint. Catches a rank-local loss in the log and MLflow/checkpoint writes from every rank."""
    single, ddp = runs
    one = json.loads((single / "rank0.json").read_text())
    r0 = json.loads((ddp / "rank0.json").read_text())
    r1 = json.loads((ddp / "rank1.json").read_text())
    assert r0["on_epoch"] == [0, 1] and r1["on_epoch"] == []
    for s, d in zip(one["history"], r0["history"], strict=True):
        assert d["loss"] == pytest.approx(s["loss"], rel=1e-5)
        for key in ("val_a2i_R@1", "val_i2a_R@5", "logit_scale"):
            assert d[key] == pytest.approx(s[key], rel=1e-4), key
    assert (ddp / "checkpoint.pt").exists()
