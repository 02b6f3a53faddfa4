"""Loading g_A with the text tower and stats it belongs to; self-describing checkpoints."""

import json

import pytest
import torch
from torch import nn

from vipant.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from vipant.inference.locate import LocateError
from vipant.inference.model import describe, load_inference_model
from vipant.models.vt import build_clip


def test_describe_records_the_vt_spec_and_the_stats_values(inference_layout):
    extra = describe({"checkpoint": "data/synthetic/models/vt/model.pt"}, inference_layout["stats"])
    assert extra == {
        "vt": {"checkpoint": "data/synthetic/models/vt/model.pt"},
        "fbank_stats": {"mean": -6.0, "std": 4.5, "n_clips": 10},
    }
    assert "vt" not in describe(None, inference_layout["stats"])
    # what describe adds survives the weights-only checkpoint loader
    assert load_checkpoint(inference_layout["at"])["fbank_stats"]["std"] == 4.5


@pytest.mark.parametrize("which, source", [("at", "recorded in the checkpoint"), ("legacy", "workflow layout")])
def test_load_self_describing_and_legacy_checkpoints(inference_layout, which, source):
    model = load_inference_model(inference_layout[which], device="cpu")
    assert model.frames == 1000 and model.dim == 64 and not model.encoder.training
    assert model.provenance["vt_source"].startswith(source)
    assert model.provenance["fbank_stats_source"].startswith(source)
    assert isinstance(model.text_model.visual, nn.Identity)  # image tower dropped
    assert model.stats.mean == -6.0


def test_default_checkpoint_through_config(inference_layout):
    model = load_inference_model(None, config=inference_layout["config"], device="cpu")
    assert model.checkpoint == inference_layout["at"]


def test_a_vt_of_another_architecture_is_refused(inference_layout, tmp_path):
    cfg = json.loads(json.dumps(load_checkpoint(inference_layout["vt"])["config"]))
    cfg["text_cfg"]["layers"] = 2
    other = tmp_path / "vt.pt"
    save_checkpoint(other, {"model": build_clip(cfg).state_dict(), "config": cfg})
    with pytest.raises(LocateError, match="not the architecture.*pass --vt"):
        load_inference_model(inference_layout["at"], vt=str(other), device="cpu")


def test_unreadable_checkpoint_is_a_checkpoint_error(tmp_path):
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="model.pt"):
        load_inference_model(bad, device="cpu")
    save_checkpoint(bad, {"model": {"w": torch.zeros(1)}})
    with pytest.raises(CheckpointError, match="not an audio-encoder checkpoint"):
        load_inference_model(bad, device="cpu")
