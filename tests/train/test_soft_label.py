import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from vipant.train.loss import clip_loss
from vipant.train.soft_label import kl_rows, soft_label_loss, soft_targets

sys.path.insert(0, str(Path(__file__).parent))
from ddp_soft_label_script import ddp_batch  # noqa: E402  (the script's inputs, without running it)


def _batch(seed: int = 0, b: int = 6, d: int = 8):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b, d, generator=g) for _ in range(4)]


def test_alpha_zero_is_the_ordinary_contrastive_loss():
    audio, text, t_audio, t_text = _batch()
    scale = torch.tensor(12.5)
    ours = soft_label_loss(audio, text, t_audio, t_text, scale, alpha=0.0)
    assert torch.allclose(ours, clip_loss(audio, text, scale), atol=1e-6)


def test_target_rows_mix_one_hot_with_raw_teacher_cosines_and_sum_to_one():
    """Catches a target built from a softmax of the cosines (or at any temperature), a missing row
    normalisation, and negative cosines leaking into the target (KL of a negative 'probability')."""
    teacher = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    y = soft_targets(teacher, alpha=0.3)
    tn = F.normalize(teacher, dim=-1)
    cos = tn @ tn.T
    assert (cos < 0).any()  # the case the clamp is for
    mixed = 0.7 * torch.eye(5) + 0.3 * cos.clamp(min=0)
    assert torch.allclose(y, mixed / mixed.sum(dim=1, keepdim=True), atol=1e-6)
    assert torch.allclose(y.sum(dim=1), torch.ones(5))
    assert (y[cos < 0] == 0).all()


def test_alike_captions_make_targets_measurably_not_one_hot():
    """32 captions whose teacher embeddings all have cosine 0.03 (the small CLIP's caption cosines): each
    target keeps 1 / (1 + 0.3 · 31 · 0.03) ≈ 0.782 on its diagonal. Catches the earlier form, softmax(scale ·
    cosines) at the student's scale (~14), whose targets were one-hot to 4 decimals there (diagonal 0.99996)."""
    b, c = 32, 0.03
    shared = torch.zeros(b + 1)
    shared[0] = 1.0
    teacher = math.sqrt(c) * shared + math.sqrt(1 - c) * torch.eye(b + 1)[1:]  # pairwise cosine exactly c
    y = soft_targets(teacher, alpha=0.3)
    assert y.diag() == pytest.approx(torch.full((b,), 1 / (1 + 0.3 * (b - 1) * c)), abs=1e-5)
    assert y[0, 1].item() == pytest.approx(0.3 * c / (1 + 0.3 * (b - 1) * c), rel=1e-4)
    # and the loss is no longer the plain contrastive loss
    g = torch.Generator().manual_seed(1)
    audio, text = torch.randn(b, 8, generator=g), torch.randn(b, 8, generator=g)
    scale = torch.tensor(14.0)
    sl = soft_label_loss(audio, text, teacher, teacher, scale, alpha=0.3)
    assert abs(sl.item() - clip_loss(audio, text, scale).item()) > 0.05


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
    with pytest.raises(ValueError, match="^teacher embedding requires grad: teacher embeddings must be frozen"):
        soft_label_loss(audio, text, t_audio, t_text, torch.tensor(5.0))


def test_hand_computed_two_by_two_case():
    """Catches swapped directions (audio-audio cosines softening T→A instead of A→T) and a wrong mixture."""
    # student: audio = e1, e2; text = e1, e2 -> logits scale * I
    audio = torch.eye(2)
    text = torch.eye(2)
    # teacher audio: identical clips (cosine 1), teacher text: orthogonal captions (cosine 0)
    t_audio = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    t_text = torch.eye(2)
    s, alpha = 2.0, 0.3
    loss = soft_label_loss(audio, text, t_audio, t_text, torch.tensor(s), alpha=alpha)
    # A→T targets: rows (0.7 + 0.3, 0.3) / 1.3; T→A targets: one-hot (cosine 0 adds nothing)
    p = math.exp(s) / (math.exp(s) + 1)  # student probability of the matching column
    q = 1 - p
    y_at = (1 / 1.3, 0.3 / 1.3)

    def kl(y):
        return sum(yi * math.log(yi / pi) for yi, pi in zip(y, (p, q)) if yi > 0)

    assert loss.item() == pytest.approx(0.5 * (kl(y_at) + kl((1.0, 0.0))), rel=1e-5)


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
        soft_targets(t_audio, alpha=1.5)


def test_row_count_message_names_rows_and_kl_is_a_mean_over_rows():
    """The refusal counts rows, not widths; the KL term averages over a rank's rows (2 here) even when the global
    batch has more columns (6), as under DDP. Catches ``shape[1]`` read in either place."""
    g = torch.Generator().manual_seed(0)
    a, t = torch.randn(3, 5, generator=g), torch.randn(2, 7, generator=g)
    with pytest.raises(ValueError, match="row counts differ: audio 3, text 2, teacher audio 3, teacher text 2"):
        soft_label_loss(a, t, a, t, torch.tensor(5.0))
    target = torch.softmax(torch.randn(2, 6, generator=g), dim=1)
    logits = torch.randn(2, 6, generator=g)
    per_row = (target * (target.log() - torch.log_softmax(logits, dim=1))).sum(dim=1)
    assert torch.allclose(kl_rows(target, logits), per_row.mean())


def test_alpha_one_is_the_teachers_cosines_alone():
    """α = 1 is allowed (the bound is closed) and drops the one-hot part: rows are the clamped teacher cosines,
    normalised."""
    teacher = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    cos = (teacher @ teacher.T).clamp(min=0.0)
    assert torch.allclose(soft_targets(teacher, alpha=1.0), cos / cos.sum(dim=1, keepdim=True))


def test_planted_duplicates_stay_closer_with_soft_labels():
    """A batch of 8 with a planted duplicate: rows 0 and 1 are the same sound (identical teacher audio)
    with two paraphrased captions (cosine 0.5); the other rows are unrelated (cosine 0). Trained from the
    same start, the student's two audio embeddings end closer with α = 0.3 than with α = 0, which pushes
    each clip away from the other's caption. Catches soft targets that ignore the teacher's similarities
    (one-hot in practice) or that soften the wrong rows."""
    basis = torch.eye(16)
    text = basis[:8].clone()
    text[1] = 0.5 * basis[0] + math.sqrt(0.75) * basis[1]  # the paraphrase of caption 0
    t_audio = basis[8:].clone()
    t_audio[1] = t_audio[0]  # the teacher hears the same sound
    start = F.normalize(torch.randn(8, 16, generator=torch.Generator().manual_seed(0)), dim=-1)

    def trained(alpha):
        audio = start.clone().requires_grad_(True)
        opt = torch.optim.SGD([audio], lr=0.5)
        for _ in range(100):
            opt.zero_grad()
            soft_label_loss(audio, text, t_audio, text, torch.tensor(10.0), alpha=alpha).backward()
            opt.step()
        a = F.normalize(audio.detach(), dim=-1)
        return float(a[0] @ a[1])

    hard, soft = trained(0.0), trained(0.3)
    assert hard < 0.2 and soft > 0.6, (hard, soft)  # measured: 0.06 and 0.70


def test_two_gloo_ranks_give_the_single_process_targets_loss_and_gradients(tmp_path):
    """2 ranks under torchrun (gloo, CPU), 4 rows each of a global batch of 8: rank r's targets are rows
    4r..4r+3 of the single-process target matrix (the one-hot part at the global index), the mean of the
    ranks' losses is the single-process loss, and the DDP-averaged gradients are the single-process ones.
    Catches a missing or wrong rank offset of the diagonal and targets over the local batch only."""
    script = Path(__file__).with_name("ddp_soft_label_script.py")
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    for attempt in range(2):  # a second try only covers a port taken between choosing and binding it
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "torch.distributed.run",
                "--nnodes",
                "1",
                "--nproc_per_node",
                "2",
                "--master_addr",
                "127.0.0.1",
                "--master_port",
                str(port),
                str(script),
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=240,
            env=env,
        )
        if proc.returncode == 0:
            break
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    audio, text, t_audio = ddp_batch()
    single_audio = audio.clone().requires_grad_(True)
    single = soft_label_loss(single_audio, text, t_audio, text, torch.tensor(6.0), alpha=0.3)
    single.backward()
    targets = soft_targets(t_audio, alpha=0.3)
    for r in range(2):
        assert torch.allclose(torch.tensor(ranks[r]["targets"]), targets[4 * r : 4 * (r + 1)], atol=1e-6)
    assert sum(x["loss"] for x in ranks) / 2 == pytest.approx(single.item(), rel=1e-5)
    ddp_grad = torch.tensor(ranks[0]["grad"] + ranks[1]["grad"]) / 2  # DDP averages over ranks
    assert torch.allclose(ddp_grad, single_audio.grad, atol=1e-6)
