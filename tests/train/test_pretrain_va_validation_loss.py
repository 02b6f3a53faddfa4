"""The held-out VA loss: L_cst(A, I) of each validation clip against its own 2nd frame."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from vipant.embed.table import EmbeddingTable
from vipant.train.loss import clip_loss
from vipant.train.pretrain_va import EVAL_FRAME, VAPretrainTask

N, T, BINS, D = 10, 8, 6, 5


def _task(array_store, frames, val_ids):
    ids = [f"c{i}" for i in range(N)]
    audio = torch.arange(N, dtype=torch.float32)[:, None, None].expand(N, T, BINS).clone()  # row i holds i
    table = EmbeddingTable(pd.DataFrame({"clip_id": ids}), frames.numpy().astype(np.float16))
    return VAPretrainTask(array_store(ids, audio), table, ids, val_ids=val_ids, frames_length=T)


def test_the_loss_pairs_each_clip_with_its_own_second_frame(array_store):
    frames = torch.randn(N, 4, D, generator=torch.Generator().manual_seed(0))
    val = [f"c{i}" for i in (7, 2, 9, 4, 0, 5)]  # not in table order: a row mix-up would show
    task = _task(array_store, frames, val)
    own = lambda fbank: frames[fbank[:, 0, 0].long(), EVAL_FRAME]  # noqa: E731  an "encoder" that is exactly right
    first = lambda fbank: frames[fbank[:, 0, 0].long(), 0]  # noqa: E731
    scale = 20.0
    rows = torch.tensor([7, 2, 9, 4, 0, 5])
    expected = float(clip_loss(frames[rows[:4], EVAL_FRAME], frames[rows[:4], EVAL_FRAME], torch.tensor(scale))) * 4
    expected += float(clip_loss(frames[rows[4:], EVAL_FRAME], frames[rows[4:], EVAL_FRAME], torch.tensor(scale))) * 2
    assert task.validation_loss(own, scale, batch=4) == pytest.approx(expected / 6, rel=1e-3)
    assert task.validation_loss(own, scale, batch=4) < task.validation_loss(first, scale, batch=4)
    shifted = lambda fbank: frames[(fbank[:, 0, 0].long() + 1) % N, EVAL_FRAME]  # noqa: E731  misaligned pairs
    assert task.validation_loss(shifted, scale, batch=6) > math.log(6)


def test_a_lone_leftover_clip_is_left_out_and_too_few_clips_refused(array_store):
    frames = torch.randn(N, 4, D, generator=torch.Generator().manual_seed(1))
    task = _task(array_store, frames, [f"c{i}" for i in range(5)])
    same = lambda fbank: frames[fbank[:, 0, 0].long(), EVAL_FRAME]  # noqa: E731
    four = _task(array_store, frames, [f"c{i}" for i in range(4)]).validation_loss(same, 10.0, batch=4)
    assert task.validation_loss(same, 10.0, batch=4) == pytest.approx(four, rel=1e-6)
    with pytest.raises(ValueError, match="at least 2"):
        _task(array_store, frames, ["c0"]).validation_loss(same, 10.0, batch=4)
