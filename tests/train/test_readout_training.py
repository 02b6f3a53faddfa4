"""A model is evaluated and fine-tuned through the readout its training loss used (docs/design.md, Frame matching; follow-up A).

``vipant pretrain-va --match multiframe`` trains the mean of L segment embeddings (the CLS output is never
in its loss); evaluation must read exactly that, the checkpoint must say so, and AT fine-tuning must train
(and save) the same readout. Both commands run in-process on a tiny CLIP and random features.
"""

import json
from argparse import Namespace

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from vipant.checkpoint import load_checkpoint, save_checkpoint
from vipant.embed.audio import embed_clips
from vipant.embed.table import EmbeddingTable, save_table
from vipant.features.store import FbankStats, FbankStore
from vipant.models.audio_encoder import load_audio_model, segment_mean
from vipant.models.vt import build_clip
from vipant.train.loss import LOGIT_SCALE_INIT, LogitScale, clip_loss

from .conftest import TINY_CLIP

FRAMES = 200  # 11 x 5 token grid
N = 16


def _unit(rng, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory, write_fbank_store):
    """Tiny VT checkpoint, FBANK shard + stats, 4 frame embeddings per clip, a caption pool (one per clip)."""
    d = tmp_path_factory.mktemp("readout")
    rng = np.random.default_rng(0)
    ids = [f"clip{i:02d}" for i in range(N)]
    write_fbank_store(d, ids, FRAMES, rng)
    (d / "stats.json").write_text(json.dumps({"mean": 0.0, "std": 1.0, "n_clips": N}))
    save_table(d / "frames", pd.DataFrame({"clip_id": ids}), _unit(rng, (N, 4, 16)))
    save_table(d / "pool", pd.DataFrame({"text": [f"caption {i}" for i in range(N)]}), _unit(rng, (N, 16)))
    pd.DataFrame({"clip_id": ids, "text_row": range(N)}).to_csv(d / "pairs.csv", index=False)
    pd.DataFrame({"clip_id": ids[:12]}).to_csv(d / "train.csv", index=False)
    pd.DataFrame({"clip_id": ids[12:]}).to_csv(d / "val.csv", index=False)
    torch.manual_seed(0)
    save_checkpoint(d / "vt.pt", {"model": build_clip(TINY_CLIP).state_dict(), "config": TINY_CLIP})
    return d, ids


def _pretrain(d, match: str, out: str):
    from vipant.commands import pretrain_va

    pretrain_va.run(
        Namespace(
            vt_json=json.dumps({"checkpoint": str(d / "vt.pt")}),
            fbank_index=str(d / "index.csv"),
            fbank_stats=str(d / "stats.json"),
            frames=str(d / "frames.csv"),
            train_clips=str(d / "train.csv"),
            val_clips=str(d / "val.csv"),
            max_val=100,
            val_labels=None,
            init="clip",
            match=match,
            frames_length=FRAMES,
            train_json=json.dumps(
                {
                    "epochs": 3,
                    "batch_size": 4,
                    "lr_weights": 0.5,
                    "lr_biases": 0.01,
                    "warmup_epochs": 0,
                    "device": "cpu",
                }
            ),
            out_dir=str(d / out),
            track_json=None,
        )
    )
    return d / out / "model.pt"


@pytest.fixture(scope="module")
def multiframe_model(world):
    d, _ = world
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VIPANT_MLFLOW_URI", "off")
        return _pretrain(d, "multiframe", "va_multiframe")


@torch.no_grad()
def test_a_multiframe_model_is_evaluated_through_the_segment_mean_it_trained(world, multiframe_model):
    """Defect caught: evaluation (embed_clips: every task, audioset_a2i included) reading a Multiframe model
    through its CLS output, which its loss never trained (the old behaviour), or a checkpoint that forgets
    the readout (the loaded model falls back to CLS)."""
    d, ids = world
    state = load_checkpoint(multiframe_model)
    assert (state["readout"], state["segments"], state["match"]) == ("segment_mean", 4, "multiframe")
    enc, _ = load_audio_model(multiframe_model)
    store = FbankStore(d / "index.csv", FbankStats(0.0, 1.0), length=FRAMES)
    have, emb = embed_clips(enc, store, ids, batch_size=5)
    assert have == ids and emb.shape == (N, 16)
    x = store.batch(ids)
    trained = F.normalize(segment_mean(enc.forward_segments(x, 4)), dim=-1)  # what the Multiframe loss trained
    assert torch.allclose(emb, trained, atol=1e-5)
    tokens, _ = enc.encode_tokens(x)
    cls = F.normalize(enc.ln_post(tokens[:, 0]) @ enc.proj, dim=-1)
    assert (emb * cls).sum(dim=-1).max() < 0.9  # not the CLS output
    # the VA validation's A->I numbers are those of the same readout
    history = json.loads((multiframe_model.parent / "history.json").read_text())["history"]
    frames = EmbeddingTable.load(d / "frames")
    image = F.normalize(frames.tensor(frames.rows("clip_id", ids[12:]))[:, 1], dim=-1)
    sim = emb[12:] @ image.T
    r1 = float((sim.argmax(dim=1) == torch.arange(4)).float().mean() * 100)
    assert history[-1]["val_a2i_R@1"] == pytest.approx(r1)


def test_a_random_match_model_keeps_the_cls_readout(world, monkeypatch):
    """Defect caught: pretrain-va recording segment_mean for a loss over one embedding per clip."""
    monkeypatch.setenv("VIPANT_MLFLOW_URI", "off")
    d, _ = world
    state = load_checkpoint(_pretrain(d, "random", "va_random"))
    assert (state["readout"], state["segments"]) == ("cls", None)


def test_at_finetuning_trains_and_saves_the_segment_readout(world, multiframe_model, monkeypatch):
    """Defect caught: AT fine-tuning of a Multiframe model computing its loss on the CLS output (the old
    ``segments = None`` path) and saving a model read through CLS. One step over all 16 pairs: the logged
    loss is L_cst at the initial weights, which must be that of the segment readout; the step then moves
    the segment readout, and the saved model keeps it."""
    from vipant.commands import finetune_at

    monkeypatch.setenv("VIPANT_MLFLOW_URI", "off")
    d, ids = world
    init, _ = load_audio_model(multiframe_model)
    store = FbankStore(d / "index.csv", FbankStats(0.0, 1.0), length=FRAMES)
    x = store.batch(ids)
    text = EmbeddingTable.load(d / "pool").tensor()
    scale = LogitScale(LOGIT_SCALE_INIT)()
    with torch.no_grad():
        seg = segment_mean(init.forward_segments(x, 4))
        tokens, _ = init.encode_tokens(x)
        expected = float(clip_loss(seg, text, scale))
        through_cls = float(clip_loss(init.ln_post(tokens[:, 0]) @ init.proj, text, scale))
    assert abs(expected - through_cls) > 1e-3
    out = d / "at"
    finetune_at.run(
        Namespace(
            init_model=str(multiframe_model),
            pairs=str(d / "pairs.csv"),
            text=str(d / "pool.csv"),
            val_text=None,
            fbank_index=str(d / "index.csv"),
            fbank_stats=str(d / "stats.json"),
            frames_length=FRAMES,
            train_json=json.dumps(
                {
                    "epochs": 1,
                    "batch_size": N,
                    "lr_weights": 1.0,
                    "lr_biases": 0.02,
                    "warmup_epochs": 0,
                    "spec_augment": False,
                    "device": "cpu",
                }
            ),
            out_dir=str(out),
            vat_frames=None,
            replay_pairs=None,
            replay_prob=0.5,
            soft_label_alpha=None,
            teacher_audio=None,
            track_json=None,
        )
    )
    history = json.loads((out / "history.json").read_text())["history"]
    assert history[0]["loss"] == pytest.approx(expected, rel=1e-5)
    tuned, state = load_audio_model(out / "model.pt")
    assert (tuned.readout, tuned.segments) == ("segment_mean", 4)
    with torch.no_grad():
        moved = segment_mean(tuned.forward_segments(x, 4))
        assert not torch.allclose(moved, seg, atol=1e-4)
        assert torch.allclose(tuned(x), moved, atol=1e-5)
