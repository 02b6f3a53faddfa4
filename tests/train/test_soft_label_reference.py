"""Reference test: the soft-label loss against the released code of follow-up B, ``SoftCLAPLoss.forward`` in
``zhepeiw/clap_curation``, file ``losses.py`` (student logits from ``compute_similarity_with_scale`` in
``softclap_train.py``: the student's scale times the cosines, clamped at 100; teacher embeddings
L2-normalised by ``models/microsoft_clap.py``). The formula is re-derived here from that file, on random
inputs; where ours differs (rows normalised, negative cosines clamped) the test states the relation."""

import pytest
import torch
import torch.nn.functional as F

from vipant.train.soft_label import soft_label_loss, soft_targets


def released_targets(z: torch.Tensor, beta: float) -> torch.Tensor:
    """``(1 - beta) * eye + beta * z @ z.t()`` on the normalised teacher embeddings, as in losses.py."""
    return (1 - beta) * torch.eye(z.shape[0]) + beta * z @ z.T


def released_loss(logits: torch.Tensor, z1: torch.Tensor, z2: torch.Tensor, beta: float) -> torch.Tensor:
    kl = torch.nn.KLDivLoss(reduction="batchmean", log_target=False)
    return 0.5 * (
        kl(F.log_softmax(logits, dim=-1), released_targets(z1, beta))
        + kl(F.log_softmax(logits.T, dim=-1), released_targets(z2, beta))
    )


def _inputs(seed: int, b: int = 7, d: int = 10, positive: bool = True):
    g = torch.Generator().manual_seed(seed)
    audio, text = torch.randn(b, d, generator=g), torch.randn(b, d, generator=g)
    z1, z2 = torch.randn(b, d, generator=g), torch.randn(b, d, generator=g)
    if positive:  # non-negative entries: every teacher cosine >= 0, the released code's usual regime
        z1, z2 = z1.abs(), z2.abs()
    return audio, text, F.normalize(z1, dim=-1), F.normalize(z2, dim=-1)


def _student_logits(audio, text, scale):
    return (scale * F.normalize(audio, dim=-1) @ F.normalize(text, dim=-1).T).clamp(max=100)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_targets_are_the_released_mixture_with_rows_normalised(seed):
    """Catches a temperature or softmax on the teacher cosines, a wrong α side ((1 − α) on the soft part)
    and a missing identity term."""
    _, _, z1, _ = _inputs(seed)
    ours = soft_targets(z1, alpha=0.3)
    ref = released_targets(z1, 0.3)
    assert torch.allclose(ours, ref / ref.sum(dim=1, keepdim=True), atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loss_is_the_released_kl_on_normalised_targets(seed):
    """The released loss with its targets divided by their row sums is ours, to float precision. Catches
    swapped directions (text–text cosines on A→T), a sum instead of batchmean and a missing ½."""
    audio, text, z1, z2 = _inputs(seed)
    scale = torch.tensor(17.0)
    ours = soft_label_loss(audio, text, z1, z2, scale, alpha=0.3)
    logits = _student_logits(audio, text, scale)
    t1, t2 = released_targets(z1, 0.3), released_targets(z2, 0.3)
    kl = torch.nn.KLDivLoss(reduction="batchmean")
    ref = 0.5 * (
        kl(F.log_softmax(logits, dim=-1), t1 / t1.sum(1, keepdim=True))
        + kl(F.log_softmax(logits.T, dim=-1), t2 / t2.sum(1, keepdim=True))
    )
    assert ours.item() == pytest.approx(ref.item(), rel=1e-5)


def test_alpha_zero_equals_the_released_loss_exactly():
    """With β = 0 the released targets are the identity (no normalisation needed): same value."""
    audio, text, z1, z2 = _inputs(3)
    scale = torch.tensor(9.0)
    ours = soft_label_loss(audio, text, z1, z2, scale, alpha=0.0)
    assert ours.item() == pytest.approx(
        released_loss(_student_logits(audio, text, scale), z1, z2, 0.0).item(), rel=1e-6
    )


def test_released_gradient_is_ours_scaled_by_each_rows_sum():
    """The module docstring's claim: per row, the released KL's gradient with respect to the logits is S_i
    (the row's target sum) times ours, so both pull each row towards the same distribution."""
    audio, text, z1, _ = _inputs(4)
    logits = _student_logits(audio, text, torch.tensor(12.0))
    ref_target = released_targets(z1, 0.3)
    rows = ref_target.sum(dim=1, keepdim=True)
    ref_logits = logits.clone().requires_grad_(True)
    F.kl_div(F.log_softmax(ref_logits, dim=1), ref_target, reduction="sum").backward()
    our_logits = logits.clone().requires_grad_(True)
    F.kl_div(F.log_softmax(our_logits, dim=1), soft_targets(z1, alpha=0.3), reduction="sum").backward()
    assert torch.allclose(ref_logits.grad, rows * our_logits.grad, atol=1e-5)


def test_negative_cosines_make_the_released_loss_nan_and_ours_finite():
    """Why ours clamps: with near-orthogonal teacher embeddings some cosines are negative; the released
    KL term x·log x of a negative target is NaN."""
    audio, text, z1, z2 = _inputs(5, positive=False)
    assert (z1 @ z1.T < 0).any()
    scale = torch.tensor(10.0)
    assert torch.isnan(released_loss(_student_logits(audio, text, scale), z1, z2, 0.3))
    assert torch.isfinite(soft_label_loss(audio, text, z1, z2, scale, alpha=0.3))
