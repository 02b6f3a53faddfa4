"""VAT fine-tuning (vip-AnT appendix E): the task's loss is L_cst(A, T) + L_cst(V, A) with a random cached
frame per clip and epoch; pairs without frame embeddings are left out; the shared loop trains with it."""

import numpy as np
import pandas as pd
import pytest
import torch

from vipant.checkpoint import load_checkpoint
from vipant.embed.table import EmbeddingTable, save_table
from vipant.features.store import FbankStats, FbankStore
from vipant.train.finetune_at import ATFinetuneTask, VATFinetuneTask
from vipant.train.loop import TrainConfig, train
from vipant.train.loss import clip_loss

FRAMES = 96  # FBANK frames per clip: small, still a valid token grid


def _unit(rng, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


@pytest.fixture
def data(tmp_path, write_fbank_store):
    """12 clips with FBANK; frame embeddings for the first 10 only; a pool of 12 captions, one pair per clip."""
    rng = np.random.default_rng(0)
    ids = [f"clip{i:02d}" for i in range(12)]
    write_fbank_store(tmp_path, ids, FRAMES, rng)
    save_table(tmp_path / "frames", pd.DataFrame({"clip_id": ids[:10]}), _unit(rng, (10, 4, 16)))
    save_table(tmp_path / "pool", pd.DataFrame({"text": [f"caption {i}" for i in range(12)]}), _unit(rng, (12, 16)))
    pairs = pd.DataFrame({"clip_id": ids, "text_row": list(range(12))})
    store = FbankStore(tmp_path / "index.csv", FbankStats(0.0, 1.0), length=FRAMES)
    return store, pairs, EmbeddingTable.load(tmp_path / "pool"), EmbeddingTable.load(tmp_path / "frames")


def test_pairs_without_frame_embeddings_are_left_out(data):
    store, pairs, pool, frames = data
    at = ATFinetuneTask(store, pairs, pool, frames_length=FRAMES)
    vat = VATFinetuneTask(store, pairs, pool, frames, frames_length=FRAMES)
    assert len(at) == 12 and len(vat) == 10
    assert vat.clip_ids == [f"clip{i:02d}" for i in range(10)]


def test_vat_loss_is_at_loss_plus_va_loss_on_the_epochs_frame(data):
    store, pairs, pool, frames = data
    task = VATFinetuneTask(store, pairs, pool, frames, frames_length=FRAMES)
    task.start_epoch(0, torch.Generator().manual_seed(3))
    index = torch.tensor([4, 0, 7, 2])
    audio = torch.randn(4, 16)
    scale = torch.tensor(10.0)
    chosen = task.choice[index]
    assert ((chosen >= 0) & (chosen < 4)).all()
    image = torch.from_numpy(np.asarray(frames.array, dtype=np.float32))[index, chosen]  # rows = clip order here
    text = torch.from_numpy(np.asarray(pool.array, dtype=np.float32))[index]
    # each term has its own temperature: the loop's for L_cst(A, T), the task's loss head for L_cst(V, A)
    expected = clip_loss(audio, text, scale) + clip_loss(audio, image, task.loss_head())
    assert torch.allclose(task.loss(index, audio, scale), expected)
    assert task.loss(index, audio, scale) > clip_loss(audio, text, scale)  # the V term is there


def test_frame_choice_is_redrawn_each_epoch_and_seeded(data):
    store, pairs, pool, frames = data
    task = VATFinetuneTask(store, pairs, pool, frames, frames_length=FRAMES)
    draws = []
    for epoch in range(4):
        task.start_epoch(epoch, torch.Generator().manual_seed(epoch))
        draws.append(task.choice.clone())
    task.start_epoch(0, torch.Generator().manual_seed(0))
    assert torch.equal(task.choice, draws[0])
    assert any(not torch.equal(draws[0], d) for d in draws[1:])


def test_every_frame_can_be_drawn_and_the_at_settings_reach_the_task(data):
    """Over 4 epochs x 10 clips every one of the 4 frames is drawn, the first included; ``frames_length``
    passes through to the AT task underneath. Catches draws that start at frame 1 and settings dropped on the
    way to ``ATFinetuneTask``."""
    store, pairs, pool, frames = data
    task = VATFinetuneTask(store, pairs, pool, frames, frames_length=FRAMES // 2)
    drawn = set()
    for epoch in range(4):
        task.start_epoch(epoch, torch.Generator().manual_seed(epoch))
        drawn |= set(task.choice.tolist())
    assert drawn == {0, 1, 2, 3}
    assert task.audio(torch.tensor([0, 1])).shape == (2, FRAMES // 2, 128)


def test_the_shared_loop_trains_with_the_vat_loss(data, tmp_path, tiny_encoder):
    store, pairs, pool, frames = data
    task = VATFinetuneTask(store, pairs, pool, frames, frames_length=FRAMES)
    torch.manual_seed(0)
    encoder = tiny_encoder(FRAMES)
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    cfg = TrainConfig(epochs=1, batch_size=5, lr_weights=0.5, lr_biases=0.01, warmup_epochs=0, spec_augment=False)
    history = train(encoder, task, cfg, tmp_path / "run")
    # two InfoNCE terms over batches of 5: each starts near log(5), so the sum is far above one term's
    assert history[0]["loss"] > 1.2 * np.log(5)
    # on a GPU machine the loop trains (and leaves) the encoder on CUDA: compare on the CPU
    assert any(not torch.equal(before[k], v.cpu()) for k, v in encoder.state_dict().items())
    assert load_checkpoint(tmp_path / "run" / "checkpoint.pt")["epoch"] == 0
