"""Replay probability against follow-up B's released trainer (zhepeiw/clap_curation, ``softclap_train.py``,
``fit_batch``): per step, ``u = torch.rand(1)``; if ``u < curation_prob`` the step's whole batch comes from
the curation loader, otherwise from the other set (``curation_prob: 0.5`` in ``hparams/*/softclap_train.yaml``).
Ours states the replay side: a step's batch is replaced by a replay batch with probability ``replay_prob``."""

import math

import pandas as pd
import pytest
import torch

from vipant.embed.table import EmbeddingTable
from vipant.train.finetune_at import StudentTask


def _task(array_store, prob, n_improve=12, n_replay=9):
    ids = [f"c{i}" for i in range(n_improve + n_replay)]
    store = array_store(ids, torch.zeros(len(ids), 4, 3))
    texts = EmbeddingTable(pd.DataFrame({"text": ids}), torch.randn(len(ids), 4).numpy())
    pairs = pd.DataFrame({"clip_id": ids[:n_improve], "text_row": list(range(n_improve))})
    replay = pd.DataFrame({"clip_id": ids[n_improve:], "text_row": list(range(n_improve, len(ids)))})
    return StudentTask(store, pairs, texts, replay=replay, replay_prob=prob, frames_length=4)


def reference_replay_share(prob: float, steps: int, seed: int) -> float:
    """The reference rule with ``curation_prob = 1 - prob``: the share of steps that take the replay set."""
    g = torch.Generator().manual_seed(seed)
    return sum(float(torch.rand(1, generator=g)) >= 1 - prob for _ in range(steps)) / steps


@pytest.mark.parametrize("prob", [0.2, 0.5, 0.8])
def test_share_of_replayed_batches_is_the_replay_probability(array_store, prob):
    """Over 600 steps the share of whole replay batches is ``prob`` within 4 binomial standard deviations, as
    the reference rule gives. Catches the comparison reversed (1 - prob: visible at 0.2 and 0.8), a per-example
    instead of per-batch draw, and a draw made once per epoch."""
    task = _task(array_store, prob)
    batch, steps_per_epoch = 4, 3
    replayed, steps, per_epoch = 0, 0, set()
    for epoch in range(200):
        order = task.epoch_order(torch.Generator().manual_seed(epoch), batch)
        flags = []
        for s in range(steps_per_epoch):
            from_replay = order[s * batch : (s + 1) * batch] >= task.n_improve
            assert from_replay.all() or not from_replay.any()
            flags.append(bool(from_replay.all()))
        replayed += sum(flags)
        steps += steps_per_epoch
        per_epoch.add(tuple(flags))
    sd = math.sqrt(prob * (1 - prob) / steps)
    assert abs(replayed / steps - prob) < 4 * sd
    assert abs(reference_replay_share(prob, steps, 0) - prob) < 4 * sd
    assert len(per_epoch) > 2  # the draw is per step, not one per epoch
