"""L_cst against vip-AnT's ``CELossHead`` (zhaoyanpeng/vipant, ``cvap/module/decoder/loss_head.py``; paper
eq. 1): features L2-normalised, logits ``exp(logit_scale) * x1 @ x2.T`` both ways, cross-entropy against the
diagonal; its VAT model (``VALCELossHead``) holds one such head, with its own logit scale, per modality pair.

Two documented differences: the reference *sums* the two directions where :func:`clip_loss` averages them
(open_clip's form; under LARS the >= 2-D weights' steps are invariant to that factor, the bias group's are
not), and its ``scale_max`` is ``null`` in ``configs/model/loss/ce*.yaml`` (no clamp) where docs/design.md (Models) clamps at
100 as CLIP does. Both are asserted here so that a change to either is a deliberate one."""

import math

import pandas as pd
import pytest
import torch

from vipant.checkpoint import load_checkpoint
from vipant.embed.table import EmbeddingTable
from vipant.train.finetune_at import VATFinetuneTask
from vipant.train.loop import TrainConfig, train
from vipant.train.loss import LOGIT_SCALE_INIT, LogitScale, clip_loss


def reference_ce_loss(
    x1: torch.Tensor, x2: torch.Tensor, log_scale: float, scale_max: float = math.inf
) -> torch.Tensor:
    """vip-AnT's CELossHead.forward, re-derived with explicit log-softmax sums (no cross_entropy call)."""
    x1 = x1 / x1.norm(dim=-1, keepdim=True)
    x2 = x2 / x2.norm(dim=-1, keepdim=True)
    s = min(math.exp(log_scale), scale_max)
    logits = s * x1 @ x2.T
    n = logits.shape[0]
    l1 = -sum(logits[i, i] - torch.logsumexp(logits[i], 0) for i in range(n)) / n
    l2 = -sum(logits[i, i] - torch.logsumexp(logits[:, i], 0) for i in range(n)) / n
    return l1 + l2


@pytest.mark.parametrize("log_scale", [0.0, math.log(1 / 0.07), math.log(50.0)])
def test_clip_loss_is_half_the_reference_sum(log_scale):
    """Catches a missing normalisation, logits transposed in one direction only, the scale applied as a log,
    and targets off the diagonal."""
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(6, 5, generator=g) * 3, torch.randn(6, 5, generator=g)
    ours = clip_loss(a, b, LogitScale(math.exp(log_scale))())
    assert ours.item() == pytest.approx(0.5 * reference_ce_loss(a, b, log_scale).item(), rel=1e-5)


def test_logit_scale_starts_at_1_over_0_07_and_is_clamped_at_100():
    """Catches a wrong init (e.g. 0.07 instead of 1/0.07) and a missing clamp (the reference has none; the design's (docs/design.md, Models)
    CLIP clamp at 100 is kept: above it, ours equals the reference at scale 100)."""
    assert LogitScale()().item() == pytest.approx(1 / 0.07, rel=1e-6)
    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    ours = clip_loss(a, b, LogitScale(400.0)())
    clamped = reference_ce_loss(a, b, math.log(400.0), scale_max=100.0)
    assert ours.item() == pytest.approx(0.5 * clamped.item(), rel=1e-5)
    assert ours.item() != pytest.approx(0.5 * reference_ce_loss(a, b, math.log(400.0)).item(), rel=1e-3)


def _vat_task(array_store, n=8, dim=8):
    g = torch.Generator().manual_seed(3)
    ids = [f"c{i}" for i in range(n)]
    store = array_store(ids, torch.randn(n, 8, 6, generator=g))
    texts = EmbeddingTable(
        pd.DataFrame({"text": [f"t{i}" for i in range(n)]}), torch.randn(n, dim, generator=g).numpy()
    )
    frames = EmbeddingTable(pd.DataFrame({"clip_id": ids}), torch.randn(n, 4, dim, generator=g).numpy())
    return VATFinetuneTask(
        store, pd.DataFrame({"clip_id": ids, "text_row": list(range(n))}), texts, frames, frames_length=8
    )


def test_vat_terms_each_have_their_own_logit_scale(array_store):
    """VAT's loss is head_AT(A, T) + head_VA(V, A), each head with its own temperature (as VALCELossHead).
    Catches both terms sharing the loop's scale."""
    task = _vat_task(array_store)
    task.start_epoch(0, torch.Generator().manual_seed(0))
    index = torch.tensor([5, 1, 6, 2])
    audio = torch.randn(4, 8, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        task.loss_head.log_scale.fill_(math.log(3.0))
    text = task.texts[task.text_rows[index]]
    image = task.frame_targets(index)
    expected = 0.5 * (reference_ce_loss(audio, text, math.log(20.0)) + reference_ce_loss(image, audio, math.log(3.0)))
    assert task.loss(index, audio, torch.tensor(20.0)).item() == pytest.approx(expected.item(), rel=1e-5)
    assert task.loss_head().item() == pytest.approx(3.0)
    assert LOGIT_SCALE_INIT == pytest.approx(_vat_task(array_store).loss_head().item())


def test_vat_second_scale_is_trained_saved_and_resumed(tmp_path, array_store, pool_encoder):
    """The V-A head's scale is in the optimiser (it moves in training), in the checkpoint, and a resumed run
    continues from it. Catches a head left out of the LARS groups or out of the saved state."""
    cfg = TrainConfig(
        epochs=2, batch_size=4, lr_weights=1.0, lr_biases=2.0, warmup_epochs=0, spec_augment=False, device="cpu"
    )
    task = _vat_task(array_store)
    train(pool_encoder(6, 8), task, cfg, tmp_path / "full")
    full = load_checkpoint(tmp_path / "full" / "checkpoint.pt")["model"]
    assert full["loss_head.log_scale"].item() != pytest.approx(math.log(LOGIT_SCALE_INIT), abs=1e-4)
    assert full["loss_head.log_scale"].item() != pytest.approx(full["logit_scale.log_scale"].item(), abs=1e-4)
    assert task.loss_head.log_scale.item() == pytest.approx(full["loss_head.log_scale"].item())

    # a run resuming from this checkpoint (here: nothing left to train) takes the saved scale into its head
    resumed_task = _vat_task(array_store)
    assert resumed_task.loss_head().item() == pytest.approx(LOGIT_SCALE_INIT)
    train(pool_encoder(6, 8), resumed_task, cfg, tmp_path / "full")
    assert resumed_task.loss_head.log_scale.item() == pytest.approx(full["loss_head.log_scale"].item(), abs=1e-7)
