"""Soft-label contrastive loss (SL) of follow-up B (Wang et al., "Unsupervised Improvement of Audio-Text
Cross-Modal Representations", section 2.3, eqs. 2-5).

The ordinary contrastive loss treats a batch of B pairs as a B-way classification with one-hot targets,
so two clips of the same sound in one batch are pushed apart. SL softens the targets with the frozen
teacher's *intra-modal* similarities inside the batch:

* ``S_A = softmax(scale · Ê_A Ê_Aᵀ)`` (teacher audio–audio), ``S_T = softmax(scale · Ê_T Ê_Tᵀ)``
  (teacher text–text), row-wise (eq. 2);
* A→T target of row i: ``(1 − α) one_hot(i) + α S_A[i]`` (eq. 3); T→A target: the same with ``S_T``
  (eq. 4);
* loss: ``½ [KL(Y_A→T ‖ softmax(scale · A Tᵀ)) + KL(Y_T→A ‖ softmax(scale · T Aᵀ))]``, mean over rows
  (eq. 5).

The paper writes one temperature τ for eqs. 1 and 2; we read that as the same (learnable) logit scale,
taken detached for the targets so the scale is not trained through the targets. A fixed
``teacher_scale`` can be given instead. With α = 0 the targets are one-hot and the KL divergence equals
the cross-entropy, so the loss is exactly :func:`vipant.train.loss.clip_loss`.

Under DDP the student logits are local rows against the gathered global batch (as in ``clip_loss``), and
the teacher embeddings are gathered the same way, so every local row's target spans the global batch.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F

from vipant.train.loss import contrastive_logits, gather_with_grad

SOFT_LABEL_ALPHA = 0.3  # the paper's weight of the soft part (section 3.2)


def _frozen(name: str, x: torch.Tensor) -> torch.Tensor:
    # A teacher tensor that wants gradients means the caller wired a trainable model in as the teacher:
    # the teacher is frozen by definition, so refuse rather than silently detach.
    if x.requires_grad:
        raise ValueError(f"{name} requires grad: teacher embeddings must be frozen (compute them under torch.no_grad())")
    return F.normalize(x.float(), dim=-1)


def soft_targets(teacher: torch.Tensor, scale: torch.Tensor | float, alpha: float) -> torch.Tensor:
    """Rows of ``(1 − α) one_hot + α softmax(scale · Ê Ê_allᵀ)`` for the local rows of ``teacher``.

    ``teacher``: this rank's teacher embeddings ``[b, D]`` (normalised inside). Returns ``[b, B]`` where
    B is the global batch (= b without DDP); each row sums to 1.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"soft-label alpha must lie in [0, 1], got {alpha}")
    local = _frozen("teacher embedding", teacher)
    everyone = gather_with_grad(local)
    offset = dist.get_rank() * local.shape[0] if dist.is_available() and dist.is_initialized() else 0
    hard = F.one_hot(torch.arange(local.shape[0], device=local.device) + offset, everyone.shape[0]).float()
    soft = torch.softmax(scale * local @ everyone.T, dim=1)
    return (1.0 - alpha) * hard + alpha * soft


def _kl_rows(target: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Mean over rows of KL(target_row ‖ softmax(logits_row)); zero-probability targets contribute 0."""
    return F.kl_div(F.log_softmax(logits, dim=1), target, reduction="sum") / logits.shape[0]


def soft_label_loss(audio: torch.Tensor, text: torch.Tensor, teacher_audio: torch.Tensor, teacher_text: torch.Tensor,
                    scale: torch.Tensor, *, alpha: float = SOFT_LABEL_ALPHA,
                    teacher_scale: float | None = None) -> torch.Tensor:
    """SL loss between the student's row-aligned ``audio`` and ``text`` embeddings (normalised inside).

    ``teacher_audio`` / ``teacher_text``: the frozen teacher's embeddings of the same rows (no grad);
    ``scale``: the student's logit scale; ``teacher_scale``: the scale of the target softmax (default:
    the student's scale, detached).
    """
    if not (audio.shape[0] == text.shape[0] == teacher_audio.shape[0] == teacher_text.shape[0]):
        raise ValueError(f"row counts differ: audio {audio.shape[0]}, text {text.shape[0]}, "
                         f"teacher audio {teacher_audio.shape[0]}, teacher text {teacher_text.shape[0]}")
    a = F.normalize(audio, dim=-1)
    t = F.normalize(text, dim=-1)
    logits_at, logits_ta, _ = contrastive_logits(a, t, scale)
    tscale = scale.detach() if teacher_scale is None else teacher_scale
    with torch.no_grad():
        y_at = soft_targets(teacher_audio, tscale, alpha)  # audio–audio similarities soften A→T (eq. 3)
        y_ta = soft_targets(teacher_text, tscale, alpha)  # text–text similarities soften T→A (eq. 4)
    return 0.5 * (_kl_rows(y_at, logits_at) + _kl_rows(y_ta, logits_ta))
