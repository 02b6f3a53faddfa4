"""Where VA pretraining's temperature starts: vip-AnT inherits CLIP's trained logit scale for a CLIP-initialised
g_A (its ``cvap_dp.build`` copies it into the loss head) and starts VA-Rand from 1/0.07."""

import importlib.util
import math
from pathlib import Path

import pytest
import torch

from vipant.embed.table import EmbeddingTable
from vipant.features.store import FbankStats, FbankStore
from vipant.models.audio_encoder import AudioEncoder
from vipant.models.vt import build_clip
from vipant.train.loop import TrainConfig, train
from vipant.train.pretrain_va import VAPretrainTask, initial_logit_scale

from .conftest import TINY_CLIP


def _script():
    spec = importlib.util.spec_from_file_location("va_train_script", Path(__file__).with_name("va_train_script.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_clip_init_inherits_the_vts_trained_scale_and_random_init_starts_fresh():
    vt = build_clip(TINY_CLIP)
    with torch.no_grad():
        vt.logit_scale.fill_(math.log(42.0))
    assert initial_logit_scale(vt, "clip") == pytest.approx(42.0, rel=1e-5)
    assert initial_logit_scale(vt, "random") == pytest.approx(1 / 0.07)
    with torch.no_grad():
        vt.logit_scale.fill_(math.log(500.0))  # beyond CLIP's clamp: the loss would clamp it anyway
    assert initial_logit_scale(vt, "clip") == pytest.approx(100.0)


def test_training_starts_from_the_given_scale_and_a_checkpoint_of_another_start_is_not_resumed(tmp_path, caplog):
    ids = _script().make_data(tmp_path)
    store = FbankStore(tmp_path / "index.csv", FbankStats(0.0, 1.0), length=200)
    task = VAPretrainTask(
        store, EmbeddingTable.load(tmp_path / "frames"), ids[:16], val_ids=ids[16:], frames_length=200
    )
    cfg = TrainConfig(epochs=1, batch_size=8, lr_weights=0.5, lr_biases=0.0, warmup_epochs=0)  # the scale cannot move

    def run(scale):
        torch.manual_seed(0)
        return train(
            AudioEncoder(build_clip(TINY_CLIP).visual, frames=200), task, cfg, tmp_path, logit_scale_init=scale
        )

    assert run(42.0)[0]["logit_scale"] == pytest.approx(42.0, rel=1e-5)
    # same recipe and inputs, another start: the finished 42.0 checkpoint must not be taken as this run's
    history = run(1 / 0.07)
    assert history[0]["logit_scale"] == pytest.approx(1 / 0.07, rel=1e-5)
    assert "different run" in caplog.text
