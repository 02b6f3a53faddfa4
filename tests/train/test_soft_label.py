import math

import pytest
import torch
import torch.nn.functional as F

from vipant.train.loss import clip_loss
from vipant.train.soft_label import soft_label_loss, soft_targets


def _batch(seed: int = 0, b: int = 6, d: int = 8):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b, d, generator=g) for _ in range(4)]


def test_alpha_zero_is_the_ordinary_contrastive_loss():
    audio, text, t_audio, t_text = _batch()
    scale = torch.tensor(12.5)
    ours = soft_label_loss(audio, text, t_audio, t_text, scale, alpha=0.0)
    assert torch.allclose(ours, clip_loss(audio, text, scale), atol=1e-6)


def test_target_rows_sum_to_one_and_mix_one_hot_with_teacher_similarities():
    teacher = torch.randn(5, 4)
    y = soft_targets(teacher, 3.0, alpha=0.3)
    assert torch.allclose(y.sum(dim=1), torch.ones(5))
    assert (y >= 0).all()
    # the diagonal keeps at least the hard share; off-diagonal mass is all soft
    assert (y.diag() >= 0.7).all()
    tn = F.normalize(teacher, dim=-1)
    assert torch.allclose(y - 0.7 * torch.eye(5), 0.3 * torch.softmax(3.0 * tn @ tn.T, dim=1))


def test_gradient_reaches_the_student_only():
    audio, text, t_audio, t_text = _batch(1)
    audio.requires_grad_(True)
    scale = torch.tensor(10.0, requires_grad=True)
    soft_label_loss(audio, text, t_audio, t_text, scale, alpha=0.3).backward()
    assert audio.grad is not None and audio.grad.abs().sum() > 0
    assert scale.grad is not None
    assert t_audio.grad is None and t_text.grad is None


@pytest.mark.parametrize("which", ["audio", "text"])
def test_a_teacher_tensor_that_requires_grad_is_refused(which):
    audio, text, t_audio, t_text = _batch(2)
    (t_audio if which == "audio" else t_text).requires_grad_(True)
    with pytest.raises(ValueError, match="teacher embeddings must be frozen"):
        soft_label_loss(audio, text, t_audio, t_text, torch.tensor(5.0))


def test_hand_computed_two_by_two_case():
    # student: audio = e1, e2; text = e1, e2 -> logits scale * I
    audio = torch.eye(2)
    text = torch.eye(2)
    # teacher audio: identical clips (cosine 1), teacher text: orthogonal captions (cosine 0)
    t_audio = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    t_text = torch.eye(2)
    s, alpha = 2.0, 0.3
    loss = soft_label_loss(audio, text, t_audio, t_text, torch.tensor(s), alpha=alpha)
    # A→T targets: softmax of equal similarities is (0.5, 0.5): y = (0.85, 0.15) / (0.15, 0.85)
    # T→A targets: softmax(2·I) rows = (e²/(e²+1), 1/(e²+1))
    p = math.exp(s) / (math.exp(s) + 1)  # student probability of the matching column
    q = 1 - p
    y_at = (1 - alpha + alpha * 0.5, alpha * 0.5)
    y_ta = (1 - alpha + alpha * p, alpha * q)

    def kl(y):
        return sum(yi * math.log(yi / pi) for yi, pi in zip(y, (p, q)))

    assert loss.item() == pytest.approx(0.5 * (kl(y_at) + kl(y_ta)), rel=1e-5)


def test_soft_labels_lower_the_penalty_for_a_duplicate_in_the_batch():
    # two clips of the same sound with two interchangeable captions: the student cannot tell them apart
    audio = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    text = audio.clone()
    scale = torch.tensor(10.0)
    hard = soft_label_loss(audio, text, audio, text, scale, alpha=0.0)
    soft = soft_label_loss(audio, text, audio, text, scale, alpha=0.3)
    assert soft < hard


def test_mismatched_rows_and_bad_alpha_are_errors():
    audio, text, t_audio, t_text = _batch(3)
    with pytest.raises(ValueError, match="row counts differ"):
        soft_label_loss(audio, text[:3], t_audio, t_text, torch.tensor(5.0))
    with pytest.raises(ValueError, match="alpha"):
        soft_targets(t_audio, 5.0, alpha=1.5)
