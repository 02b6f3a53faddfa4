"""Soft-label contrastive loss (SL) of follow-up B (Wang et al., "Unsupervised Improvement of Audio-Text
Cross-Modal Representations", section 2.3).

The paper's text as available here lacks its equations 2-5, so the form follows the released code: ``SoftCLAPLoss``
in ``zhepeiw/clap_curation``, file ``losses.py`` (used by ``softclap_train.py`` with ``softclap_beta: 0.3``).
What that code does, for a batch of B pairs with student logits ``L = scale · A Tᵀ`` (the student's own
learnable logit scale, logits clamped at 100) and the frozen teacher's L2-normalised embeddings Ê_A, Ê_T of
the same rows:

* A→T target (rows of L): ``Y_A = (1 − α)·I + α·Ê_A Ê_Aᵀ`` — the teacher's *raw* audio–audio cosines, no
  temperature, no softmax;
* T→A target (rows of Lᵀ): ``Y_T = (1 − α)·I + α·Ê_T Ê_Tᵀ`` (text–text cosines);
* loss: ``½ [KLDiv(log_softmax(L), Y_A) + KLDiv(log_softmax(Lᵀ), Y_T)]``, ``reduction='batchmean'``
  (sum over the matrix / rows).

Where ours differs, and why: KL divergence needs each target row to be a distribution. The code feeds the
mixture in as it is, so row i sums to ``S_i = 1 + α·Σ_{j≠i} cos_ij`` (the teacher's self-cosine is 1) and
may hold negative cosines. We clamp negative cosines to 0 and divide each row by its sum. For non-negative
cosines this changes only each row's weight, not what it pulls towards: the code's row loss is
``S_i·(ours_i + log S_i)``, so its gradient with respect to the logits is ``S_i`` times ours and both are
minimised by the same student distribution ``Y_i / S_i`` (tests/train/test_soft_label_reference.py checks
both statements on random inputs). Negative cosines would make the code's KL value NaN (``x·log x`` of a
negative x) and nothing there guards against them; our small CLIP's near-orthogonal captions (cosines
around 0.03) do produce them.

Because the targets use the raw cosines, captions that are merely alike still soften the targets: with
B = 32 and cosines of 0.03 the diagonal keeps ``1 / (1 + 0.3 · 31 · 0.03) ≈ 0.78``. (The previous form,
``softmax(scale · cosines)`` at the student's scale, was exactly one-hot there.) With α = 0 the targets
are one-hot and the loss equals :func:`vipant.train.loss.clip_loss`.

Under DDP the student logits are local rows against the gathered global batch (as in ``clip_loss``); the
teacher embeddings are gathered the same way, so each local row's target spans the global batch and its
one-hot part sits at the row's global index (rank · local rows + row).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F

from vipant.train.loss import contrastive_logits, gather_with_grad

SOFT_LABEL_ALPHA = 0.3  # the paper's weight of the soft part (section 3.2); softclap_beta in the released code


def _frozen(name: str, x: torch.Tensor) -> torch.Tensor:
    # A teacher tensor that wants gradients means the caller wired a trainable model in as the teacher:
    # the teacher is frozen by definition, so refuse rather than silently detach.
    if x.requires_grad:
        raise ValueError(
            f"{name} requires grad: teacher embeddings must be frozen (compute them under torch.no_grad())"
        )
    return F.normalize(x.float(), dim=-1)


def soft_targets(teacher: torch.Tensor, alpha: float) -> torch.Tensor:
    """Rows of ``(1 − α)·one_hot + α·max(Ê Ê_allᵀ, 0)``, each divided by its sum, for the local rows.

    ``teacher``: this rank's teacher embeddings ``[b, D]`` (normalised inside). Returns ``[b, B]`` where B
    is the global batch (= b without DDP); each row sums to 1.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"soft-label alpha must lie in [0, 1], got {alpha}")
    local = _frozen("teacher embedding", teacher)
    everyone = gather_with_grad(local)
    offset = dist.get_rank() * local.shape[0] if dist.is_available() and dist.is_initialized() else 0
    hard = F.one_hot(torch.arange(local.shape[0], device=local.device) + offset, everyone.shape[0]).float()
    mixed = (1.0 - alpha) * hard + alpha * (local @ everyone.T).clamp(min=0.0)
    return mixed / mixed.sum(dim=1, keepdim=True)


def kl_rows(target: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Mean over rows of KL(target_row ‖ softmax(logits_row)) (the code's ``batchmean``); zero targets add 0."""
    return F.kl_div(F.log_softmax(logits, dim=1), target, reduction="sum") / logits.shape[0]


def soft_label_loss(
    audio: torch.Tensor,
    text: torch.Tensor,
    teacher_audio: torch.Tensor,
    teacher_text: torch.Tensor,
    scale: torch.Tensor,
    *,
    alpha: float = SOFT_LABEL_ALPHA,
) -> torch.Tensor:
    """SL loss between the student's row-aligned ``audio`` and ``text`` embeddings (normalised inside).

    ``teacher_audio`` / ``teacher_text``: the frozen teacher's embeddings of the same rows (no grad);
    ``scale``: the student's logit scale (only the student's logits use it; the targets are raw cosines).
    """
    if not (audio.shape[0] == text.shape[0] == teacher_audio.shape[0] == teacher_text.shape[0]):
        raise ValueError(
            f"row counts differ: audio {audio.shape[0]}, text {text.shape[0]}, "
            f"teacher audio {teacher_audio.shape[0]}, teacher text {teacher_text.shape[0]}"
        )
    a = F.normalize(audio, dim=-1)
    t = F.normalize(text, dim=-1)
    logits_at, logits_ta, _ = contrastive_logits(a, t, scale)
    with torch.no_grad():
        y_at = soft_targets(teacher_audio, alpha)  # audio–audio cosines soften A→T (target_1 in losses.py)
        y_ta = soft_targets(teacher_text, alpha)  # text–text cosines soften T→A (target_2)
    return 0.5 * (kl_rows(y_at, logits_at) + kl_rows(y_ta, logits_ta))
