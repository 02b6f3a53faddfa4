"""Frame matching inside VA pretraining (the tests-that-catch issue): the random frame is redrawn every
epoch by the loop, Nearest Match switches on at epoch n inside the task, a clip's frame targets are its own
when the frame cache lists clips in another order, and Multiframe's segments follow time in order."""

import numpy as np
import pandas as pd
import torch
from torch import nn

from vipant.embed.table import EmbeddingTable
from vipant.train.loop import TrainConfig, train
from vipant.train.pretrain_va import VAPretrainTask

N, L, D, T, BINS = 8, 4, 6, 8, 5


def _world(array_store, *, order=None):
    """N clips; the frame cache lists them in ``order`` (a non-identity clip -> row mapping by default)."""
    g = torch.Generator().manual_seed(0)
    ids = [f"clip{i}" for i in range(N)]
    store = array_store(ids, torch.randn(N, T, BINS, generator=g))
    frames = torch.nn.functional.normalize(torch.randn(N, L, D, generator=g), dim=-1)
    order = list(range(N))[::-1][3:] + list(range(N))[::-1][:3] if order is None else order
    table = EmbeddingTable(pd.DataFrame({"clip_id": [ids[i] for i in order]}), frames[order].numpy().astype(np.float16))
    return store, ids, table, frames.half().float()  # frames[i] = clip i's, at the cache's precision


def test_frame_targets_follow_the_clip_not_the_cache_row(array_store):
    """The cache lists clips in a rotated, reversed order: clip i's target is still clip i's chosen frame.
    Catches targets read at the example index (or at sorted rows without undoing the sort)."""
    store, ids, table, frames = _world(array_store)
    assert list(table.keys["clip_id"]) != ids
    task = VAPretrainTask(store, table, ids, match="random")
    task.start_epoch(0, torch.Generator().manual_seed(5))
    index = torch.tensor([6, 0, 3, 7, 1])
    out = task.targets(index, torch.zeros(5, D))
    assert torch.equal(out, frames[index, task.choice[index]])
    multi = VAPretrainTask(store, table, ids, match="multiframe")
    assert torch.equal(multi.targets(index, torch.zeros(5, L, D)), frames[index])


def test_nearest_switches_on_at_epoch_n_in_the_task(array_store):
    """Before epoch 2 the epoch's random frame, from epoch 2 the frame nearest the audio embedding."""
    store, ids, table, frames = _world(array_store)
    task = VAPretrainTask(store, table, ids, match="nearest@2")
    index = torch.arange(N)
    planted = torch.tensor([3, 1, 0, 2, 2, 0, 1, 3])
    audio = frames[index, planted] * 4
    for epoch in range(4):
        task.start_epoch(epoch, torch.Generator().manual_seed(10 + epoch))
        out = task.targets(index, audio)
        pick = planted if epoch >= 2 else task.choice
        assert torch.equal(out, frames[index, pick]), epoch
        if epoch < 2:
            assert not torch.equal(task.choice, planted)


class _RecordingTask(VAPretrainTask):
    def start_epoch(self, epoch, generator):
        super().start_epoch(epoch, generator)
        self.draws = getattr(self, "draws", []) + [self.choice.clone()]


def test_the_loop_redraws_the_random_frame_every_epoch(tmp_path, array_store, pool_encoder):
    """Through the loop: each epoch's per-clip frames differ, and a rerun with the seed draws the same.
    Catches a draw seeded without the epoch (the same frames every epoch) or drawn once per run."""
    store, ids, table, _ = _world(array_store)
    runs = []
    for run in range(2):
        task = _RecordingTask(store, table, ids, match="random")
        cfg = TrainConfig(epochs=4, batch_size=4, warmup_epochs=0, spec_augment=False, device="cpu")
        train(pool_encoder(BINS, D), task, cfg, tmp_path / f"r{run}")
        runs.append(task.draws)
    draws = runs[0]
    assert len(draws) == 4
    assert all(not torch.equal(draws[a], draws[b]) for a in range(4) for b in range(a + 1, 4))
    assert all(torch.equal(x, y) for x, y in zip(runs[0], runs[1]))


def test_perturbing_time_slice_i_changes_only_segment_i(tiny_encoder):
    """g_A's segment pooling with the transformer replaced by an identity (attention would mix time): 144 frames
    give 8 time tokens (token j covers frames 16j..16j+31), 2 per segment; frames 32i+16..32i+31 reach only
    segment i's tokens. Catches segments returned in reverse order, pooled over frequency instead of time,
    or bounded by the wrong token index."""
    enc = tiny_encoder(144).eval()
    enc.transformer = nn.Identity()
    x = torch.randn(2, 144, 128, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        base = enc(x, 4)
        assert base.shape == (2, 4, enc.embed_dim)
        for i in range(4):
            y = x.clone()
            y[:, 32 * i + 16 : 32 * i + 32] += 3.0 * torch.randn(2, 16, 128, generator=torch.Generator().manual_seed(i))
            changed = (enc(y, 4) - base).abs().amax(dim=(0, 2)) > 1e-5
            assert changed.tolist() == [s == i for s in range(4)], i
