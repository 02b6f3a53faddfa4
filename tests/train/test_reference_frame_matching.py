"""Frame matching against the temporal-agreement paper (Tsubaki et al. 2024, section II-C; no released code):
Nearest Match (eq. 3) takes ``argmax_l cos(a, i_l)`` from epoch ``n`` on and a random frame before;
Multiframe Match (eq. 4) scores a clip pair by ``cos(flatten(a_all), flatten(i_all))`` of the ``L x D``
audio and image matrices."""

import torch
import torch.nn.functional as F

from vipant.train.frame_matching import FrameMatch, choose_targets
from vipant.train.loop import flat_normalise


def reference_multiframe_sim(a: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
    """Eq. 4 for every pair: ``sum_l <a_l, i_l> / (||a_all||_F * ||i_all||_F)``."""
    dots = torch.einsum("pld,qld->pq", a, i)
    return dots / (a.flatten(1).norm(dim=1)[:, None] * i.flatten(1).norm(dim=1)[None, :])


def test_multiframe_similarity_is_the_cosine_of_the_flattened_matrices():
    """Catches the mean of per-segment cosines (differs when segment norms differ), a cosine of the
    segment-averaged embeddings (order-blind), and a flatten over the wrong axes."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(5, 4, 6, generator=g) * torch.tensor([0.2, 1.0, 3.0, 0.5])[None, :, None]
    i = torch.randn(5, 4, 6, generator=g)
    ours = flat_normalise(a) @ flat_normalise(i).T
    assert torch.allclose(ours, reference_multiframe_sim(a, i), atol=1e-6)
    per_segment = torch.einsum("pld,qld->pql", F.normalize(a, dim=-1), F.normalize(i, dim=-1)).mean(-1)
    assert not torch.allclose(ours, per_segment, atol=1e-2)
    pooled = F.normalize(a.mean(1), dim=-1) @ F.normalize(i.mean(1), dim=-1).T
    assert not torch.allclose(ours, pooled, atol=1e-2)


def test_multiframe_similarity_changes_when_segments_are_reordered():
    """Segment l pairs with frame l: reversing the audio segments changes the score (unless symmetric), while
    reordering audio and frames together does not. Catches an order-invariant (pooled or sorted) similarity."""
    g = torch.Generator().manual_seed(1)
    a, i = torch.randn(3, 4, 6, generator=g), torch.randn(3, 4, 6, generator=g)
    sim = flat_normalise(a) @ flat_normalise(i).T
    reversed_audio = flat_normalise(a.flip(1)) @ flat_normalise(i).T
    assert (sim - reversed_audio).abs().min() > 1e-4
    both = flat_normalise(a[:, [2, 0, 3, 1]]) @ flat_normalise(i[:, [2, 0, 3, 1]]).T
    assert torch.allclose(sim, both, atol=1e-6)


def _frames_with_planted_nearest(g):
    """4 clips x 4 frames; clip b's audio is closest (by angle) to frame ``nearest[b]``; frame norms vary so
    that the largest dot product points elsewhere."""
    d = 8
    frames = torch.randn(4, 4, d, generator=g)
    nearest = torch.tensor([2, 0, 3, 1])
    audio = frames[torch.arange(4), nearest] * 5 + 0.05 * torch.randn(4, d, generator=g)
    scale = torch.ones(4, 4)
    scale[torch.arange(4), nearest] = 0.3  # the planted frame is short: a dot-product argmax misses it
    return frames * scale[..., None], audio, nearest


def test_nearest_match_is_the_cosine_argmax_from_epoch_n_on():
    """Catches the match switched on one epoch late or from epoch 0, an argmin, a dot-product ranking and a
    ranking over the batch instead of over the clip's own frames."""
    g = torch.Generator().manual_seed(2)
    frames, audio, nearest = _frames_with_planted_nearest(g)
    random_choice = torch.tensor([1, 1, 0, 0])  # never the planted frame
    cos = torch.einsum("bd,bld->bl", F.normalize(audio, dim=-1), F.normalize(frames, dim=-1))
    assert torch.equal(cos.argmax(1), nearest)
    assert not torch.equal(torch.einsum("bd,bld->bl", audio, frames).argmax(1), nearest)
    match = FrameMatch.parse("nearest@3")
    for epoch in range(6):
        out = choose_targets(match, epoch, frames, random_choice, audio)
        pick = nearest if epoch >= 3 else random_choice
        assert torch.equal(out, frames[torch.arange(4), pick]), epoch
    zero = choose_targets(FrameMatch.parse("nearest@0"), 0, frames, random_choice, audio)
    assert torch.equal(zero, frames[torch.arange(4), nearest])


def test_random_and_multiframe_targets():
    """random: the given per-clip choice; multiframe: all frames in their order."""
    g = torch.Generator().manual_seed(3)
    frames, audio, _ = _frames_with_planted_nearest(g)
    choice = torch.tensor([3, 2, 1, 0])
    random = choose_targets(FrameMatch.parse("random"), 9, frames, choice, audio)
    assert torch.equal(random, frames[torch.arange(4), choice])
    assert torch.equal(choose_targets(FrameMatch.parse("multiframe"), 9, frames, choice, audio), frames)
