"""The linear probe's inputs: ``vipant embed-audio`` with ``"representation": "features"`` caches g_A's
representation before the projection; the default caches the normalised joint-space embedding."""

import json
from argparse import Namespace

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from vipant.embed.audio import embed_clips
from vipant.embed.table import EmbeddingTable
from vipant.features.store import FbankStats, FbankStore
from vipant.models.audio_encoder import AudioEncoder, load_audio_model, save_audio_model
from vipant.models.vt import build_clip

CFG = {
    "embed_dim": 16,
    "quick_gelu": True,
    "vision_cfg": {"image_size": 224, "layers": 1, "width": 32, "patch_size": 32, "head_width": 16},
    "text_cfg": {"context_length": 8, "vocab_size": 49408, "width": 16, "heads": 2, "layers": 1},
}
FRAMES = 200
IDS = [f"c{i}" for i in range(6)]


@pytest.fixture
def files(tmp_path, write_fbank_store):
    rng = np.random.default_rng(0)
    write_fbank_store(tmp_path, IDS, FRAMES, rng, shard_csv="s.csv")
    (tmp_path / "stats.json").write_text(json.dumps({"mean": 0.0, "std": 1.0, "n_clips": 6}))
    pd.DataFrame({"clip_id": IDS}).to_csv(tmp_path / "clips.csv", index=False)
    torch.manual_seed(0)
    save_audio_model(tmp_path / "model.pt", AudioEncoder(build_clip(CFG).visual, frames=FRAMES), CFG)
    return tmp_path


def _embed(files, sets, monkeypatch):
    from vipant.commands import embed_audio

    monkeypatch.setenv("VIPANT_MLFLOW_URI", "off")
    embed_audio.run(
        Namespace(
            model=str(files / "model.pt"),
            sets_json=json.dumps(sets),
            fbank_stats=str(files / "stats.json"),
            out_dir=str(files / "out"),
            track_json=None,
        )
    )


def test_probe_sets_cache_pre_projection_features(files, monkeypatch):
    """Defect caught: the probe reading the projected, L2-normalised embedding (its [N, embed_dim] table
    would change with ``proj``, and its rows would all have norm 1)."""
    spec = {"clips": str(files / "clips.csv"), "fbank": str(files / "index.csv"), "frames_length": FRAMES}
    _embed(files, {"probe": {**spec, "representation": "features"}, "joint": spec}, monkeypatch)
    probe, joint = EmbeddingTable.load(files / "out" / "probe"), EmbeddingTable.load(files / "out" / "joint")
    assert probe.keys["clip_id"].tolist() == IDS and probe.tensor().shape == (6, 32) and joint.tensor().shape == (6, 16)
    enc, _ = load_audio_model(files / "model.pt")
    x = FbankStore(files / "index.csv", FbankStats(0.0, 1.0), length=FRAMES).batch(IDS)
    with torch.no_grad():
        tokens, _ = enc.encode_tokens(x)
        # tables are stored as float16: compare to that precision
        assert torch.allclose(probe.tensor(), enc.ln_post(tokens[:, 0]), rtol=2e-3, atol=2e-3)  # CLS after ln_post
        assert torch.allclose(joint.tensor(), F.normalize(enc(x), dim=-1), rtol=2e-3, atol=2e-3)
        store = FbankStore(files / "index.csv", FbankStats(0.0, 1.0), length=FRAMES)
        before = embed_clips(enc, store, IDS, representation="features")[1]
        enc.proj.mul_(-2.0)
        assert torch.equal(embed_clips(enc, store, IDS, representation="features")[1], before)


def test_an_unknown_representation_is_refused_naming_the_set(files, monkeypatch):
    spec = {
        "clips": str(files / "clips.csv"),
        "fbank": str(files / "index.csv"),
        "frames_length": FRAMES,
        "representation": "logits",
    }
    with pytest.raises(ValueError, match="'probe'.*logits"):
        _embed(files, {"probe": spec}, monkeypatch)
