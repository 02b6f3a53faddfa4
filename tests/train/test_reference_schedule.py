"""The loop's learning rates against vip-AnT's ``adjust_learning_rate`` (zhaoyanpeng/vipant,
``cvap/module/lars.py``): ``base = batch / 256``; warm-up ``base * step / warmup_steps``; then
``q = (1 + cos(pi * (step - warmup) / (total - warmup))) / 2`` and ``base * q + 0.001 * base * (1 - q)``;
group 0 (>= 2-D weights) gets ``lr * lr_weight``, group 1 (the rest) ``lr * lr_bias``. The batch is the one the
steps take (a 4-pair list trains in batches of 4, not of the configured 64)."""

import math

import pandas as pd
import pytest
import torch

import vipant.train.loop as loop
from vipant.checkpoint import load_checkpoint
from vipant.embed.table import EmbeddingTable
from vipant.train.finetune_at import ATFinetuneTask
from vipant.train.loop import TrainConfig, steps_summary, train
from vipant.train.schedule import END_LR_FRACTION, lars_warmup_cosine


def reference_lr(step: int, steps_per_epoch: int, epochs: int, warmup_epochs: float, batch: int) -> float:
    """vip-AnT's multiplier times its ``base_lr`` (re-derived from its formula, not from ours)."""
    max_steps = epochs * steps_per_epoch
    warmup = int(warmup_epochs * steps_per_epoch)
    base = batch / 256
    if step < warmup:
        return base * step / warmup
    q = 0.5 * (1 + math.cos(math.pi * (step - warmup) / (max_steps - warmup)))
    return base * q + base * 0.001 * (1 - q)


@pytest.mark.parametrize("total, warmup", [(50, 10), (7, 0), (12, 3)])
def test_multiplier_is_vip_ants(total, warmup):
    """Catches a cosine that ends at 0 instead of 0.001 x base, a warm-up starting at 1/warmup instead of 0,
    and a cosine whose progress runs over the warm-up steps too."""
    for step in range(total):
        assert lars_warmup_cosine(step, total, warmup) == pytest.approx(reference_lr(step, 1, total, warmup, 256))
    assert END_LR_FRACTION == 0.001
    # the last step sits just above the floor, never at 0
    assert lars_warmup_cosine(total - 1, total, warmup) > END_LR_FRACTION


def _pairs_task(n: int, array_store, dim: int = 8):
    torch.manual_seed(0)
    ids = [f"c{i}" for i in range(n)]
    store = array_store(ids, torch.randn(n, 8, 6))
    texts = EmbeddingTable(pd.DataFrame({"text": [f"t{i}" for i in range(n)]}), torch.randn(n, dim).numpy())
    return ATFinetuneTask(store, pd.DataFrame({"clip_id": ids, "text_row": list(range(n))}), texts, frames_length=8)


@pytest.mark.parametrize("n, batch_size, epochs, warmup_epochs", [(4, 64, 3, 1), (40, 8, 3, 2), (12, 5, 4, 0)])
def test_loop_sets_the_reference_lr_at_every_step(
    tmp_path, monkeypatch, array_store, pool_encoder, n, batch_size, epochs, warmup_epochs
):
    """Every step's two learning rates, as the loop sets them, equal vip-AnT's with the batch actually used.
    Catches the scale taken from the configured batch (a 4-pair list at 64/4 = 16x its rate), a bias group
    scaled differently from the weight group, and a schedule floor of 0."""
    seen = []
    original = loop.set_lr

    def recording(optimizer, multiplier):
        original(optimizer, multiplier)
        seen.append([g["lr"] for g in optimizer.param_groups])

    monkeypatch.setattr(loop, "set_lr", recording)
    cfg = TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        lr_weights=0.2,
        lr_biases=0.0048,
        warmup_epochs=warmup_epochs,
        spec_augment=False,
        device="cpu",
    )
    train(pool_encoder(6, 8), _pairs_task(n, array_store), cfg, tmp_path)
    batch = min(batch_size, n)
    steps = max(n // batch, 1)
    assert len(seen) == steps * epochs
    for step, (lr_w, lr_b) in enumerate(seen):
        expected = reference_lr(step, steps, epochs, warmup_epochs, batch)
        assert lr_w == pytest.approx(expected * 0.2, rel=1e-9, abs=1e-15)
        assert lr_b == pytest.approx(expected * 0.0048, rel=1e-9, abs=1e-15)


def test_four_pairs_train_at_four_over_256(tmp_path, array_store, pool_encoder):
    """The method-fidelity issue's case: the optimiser's base rate for a 4-pair list is ``lr x 4/256`` (the saved
    optimiser state, both groups), and the run's summary line reports that batch and those rates."""
    cfg = TrainConfig(epochs=1, batch_size=64, warmup_epochs=0, spec_augment=False, device="cpu")
    train(pool_encoder(6, 8), _pairs_task(4, array_store), cfg, tmp_path)
    groups = load_checkpoint(tmp_path / "checkpoint.pt")["optimizer"]["param_groups"]
    assert [g["base_lr"] for g in groups] == pytest.approx([0.2 * 4 / 256, 0.0048 * 4 / 256])
    line = steps_summary(4, cfg)
    assert "batch 4," in line and f"{0.2 * 4 / 256:.4g}" in line and f"{0.0048 * 4 / 256:.4g}" in line
    assert line == "4 examples, batch 4, 1 steps/epoch, 1 epochs, LR weights 0.003125 / biases 7.5e-05 (x 4/256)"
    # a step budget is reported as steps; 10 examples in batches of 4 take 2 whole steps per epoch
    assert steps_summary(10, TrainConfig(max_steps=7, batch_size=4)) == (
        "10 examples, batch 4, 2 steps/epoch, 7 steps, LR weights 0.003125 / biases 7.5e-05 (x 4/256)"
    )
