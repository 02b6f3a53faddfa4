"""Nearest Match at n started from the Random Match run's state at epoch n: the same weights as from step 0."""

import logging
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from vipant.embed.table import EmbeddingTable
from vipant.train.loop import TrainConfig, epoch_snapshot, train
from vipant.train.pretrain_va import VAPretrainTask, random_match_warm_start

N, T, BINS, D = 24, 8, 6, 5
INPUTS = {"inputs": ["fbank.csv", "frames.csv"]}  # stands for the command's identity besides the matching


def _task(array_store, match):
    g = torch.Generator().manual_seed(0)
    ids = [f"c{i:02d}" for i in range(N)]
    frames = torch.nn.functional.normalize(torch.randn(N, 4, D, generator=g), dim=-1)
    table = EmbeddingTable(pd.DataFrame({"clip_id": ids}), frames.numpy().astype(np.float16))
    audio = torch.randn(N, T, BINS, generator=g)
    return VAPretrainTask(array_store(ids, audio), table, ids[:16], match=match, val_ids=ids[16:], frames_length=T)


def _cfg(**kw):
    return TrainConfig(**{"epochs": 4, "batch_size": 8, "lr_weights": 50.0, "lr_biases": 0.5, "warmup_epochs": 1, **kw})


def _run(array_store, pool_encoder, out, match, **kw):
    encoder = pool_encoder(BINS, D)
    history = train(encoder, _task(array_store, match), kw.pop("cfg", _cfg()), out, **kw)
    return encoder, history


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def _random(array_store, pool_encoder, out, keep, **kw):
    """The Random Match run, keeping its state at the start of the epochs ``keep``."""
    return _run(
        array_store, pool_encoder, out, "random", identity={**INPUTS, "match": "random"}, keep_epochs=keep, **kw
    )


def _nearest(array_store, pool_encoder, out, n, **kw):
    """Nearest Match at ``n`` (``kw``: e.g. a warm start)."""
    return _run(array_store, pool_encoder, out, f"nearest@{n}", identity={**INPUTS, "match": f"nearest@{n}"}, **kw)


def _warm(donor, n):
    return random_match_warm_start(donor, f"nearest@{n}", {**INPUTS, "match": f"nearest@{n}"})


def test_nearest_match_from_random_matchs_kept_state_ends_with_the_weights_it_has_from_step_0(
    tmp_path, array_store, pool_encoder, caplog
):
    rand, _ = _random(array_store, pool_encoder, tmp_path / "random", [2])
    assert epoch_snapshot(tmp_path / "random", 2).is_file() and not epoch_snapshot(tmp_path / "random", 1).exists()
    scratch, scratch_history = _nearest(array_store, pool_encoder, tmp_path / "scratch", 2)
    steps = []
    with caplog.at_level(logging.INFO, logger="vipant.train.loop"):
        warm, warm_history = _nearest(
            array_store,
            pool_encoder,
            tmp_path / "warm",
            2,
            warm_start=_warm(tmp_path / "random", 2),
            on_step=lambda s, m: steps.append(s),
            cfg=_cfg(log_every=1),
        )
    assert "starting from" in caplog.text
    assert steps == [5, 6, 7, 8]  # epochs 2 and 3 only: 16 clips, 2 steps each
    assert _same(warm, scratch)
    assert [h["loss"] for h in warm_history] == [h["loss"] for h in scratch_history]
    assert not _same(warm, rand)  # Nearest Match did change the last two epochs


def test_a_snapshot_of_another_run_or_none_at_all_trains_from_step_0(tmp_path, array_store, pool_encoder, caplog):
    _random(array_store, pool_encoder, tmp_path / "donor", [2], cfg=_cfg(lr_weights=10.0))  # another recipe
    scratch, _ = _nearest(array_store, pool_encoder, tmp_path / "scratch", 2)
    with caplog.at_level(logging.WARNING, logger="vipant.train.loop"):
        other, _ = _nearest(array_store, pool_encoder, tmp_path / "other", 2, warm_start=_warm(tmp_path / "donor", 2))
        missing, _ = _nearest(array_store, pool_encoder, tmp_path / "missing", 2, warm_start=_warm(tmp_path / "no", 2))
    assert "another run" in caplog.text and "no such snapshot" in caplog.text
    assert _same(other, scratch) and _same(missing, scratch)


def test_a_snapshot_of_another_epoch_trains_from_step_0(tmp_path, array_store, pool_encoder, caplog):
    # a later epoch's state under epoch 2's name would skip Nearest Match's own first epoch
    _random(array_store, pool_encoder, tmp_path / "random", [3])
    shutil.copy(epoch_snapshot(tmp_path / "random", 3), epoch_snapshot(tmp_path / "random", 2))
    scratch, _ = _nearest(array_store, pool_encoder, tmp_path / "scratch", 2)
    with caplog.at_level(logging.WARNING, logger="vipant.train.loop"):
        warm, _ = _nearest(array_store, pool_encoder, tmp_path / "warm", 2, warm_start=_warm(tmp_path / "random", 2))
    assert "not epoch 2's start" in caplog.text
    assert _same(warm, scratch)


def test_the_runs_own_checkpoint_goes_before_a_warm_start(tmp_path, array_store, pool_encoder, caplog):
    _random(array_store, pool_encoder, tmp_path / "random", [1])
    _nearest(array_store, pool_encoder, tmp_path / "nearest", 1)
    with caplog.at_level(logging.INFO, logger="vipant.train.loop"):
        _, history = _nearest(
            array_store, pool_encoder, tmp_path / "nearest", 1, warm_start=_warm(tmp_path / "random", 1)
        )
    assert "resuming" in caplog.text and "starting from" not in caplog.text
    assert len(history) == 4


@pytest.mark.parametrize("epochs", [[0], [4], [5]])
def test_kept_epochs_must_start_inside_the_run(tmp_path, array_store, pool_encoder, epochs):
    with pytest.raises(ValueError, match="cannot keep"):
        _run(array_store, pool_encoder, tmp_path, "random", keep_epochs=epochs)


def test_kept_epochs_must_start_at_an_evaluation(tmp_path, array_store, pool_encoder):
    with pytest.raises(ValueError, match="at an evaluation"):  # 2 steps per epoch, evaluated every 3
        _run(array_store, pool_encoder, tmp_path, "random", keep_epochs=[1], cfg=_cfg(eval_every=3))


def test_only_nearest_match_after_epoch_0_starts_from_random_match(tmp_path):
    me = {"inputs": ["x"], "match": "nearest@5"}
    warm = random_match_warm_start(tmp_path, "nearest@5", me)
    assert (
        warm.snapshot == epoch_snapshot(tmp_path, 5)
        and warm.epoch == 5
        and warm.identity == {"inputs": ["x"], "match": "random"}
    )
    for match in ("random", "multiframe", "nearest@0"):
        assert random_match_warm_start(tmp_path, match, {**me, "match": match}) is None
