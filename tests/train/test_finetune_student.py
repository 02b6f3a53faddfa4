"""Follow-up B's student task: replay batches from another pair set, soft-label loss with cached teacher
audio embeddings; without either option it is plain AT fine-tuning."""

import numpy as np
import pandas as pd
import pytest
import torch

from vipant.embed.table import EmbeddingTable, save_table
from vipant.features.fbank import INDEX_COLUMNS
from vipant.features.store import FbankStats, FbankStore, merge_indexes
from vipant.train.finetune_at import StudentTask
from vipant.train.loop import TrainConfig, train
from vipant.train.loss import clip_loss
from vipant.train.soft_label import soft_label_loss

FRAMES = 96


def _unit(rng, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


@pytest.fixture
def data(tmp_path):
    """16 clips with FBANK; improvement pairs on clips 0-9, replay pairs on clips 10-15; teacher audio for all."""
    rng = np.random.default_rng(0)
    ids = [f"clip{i:02d}" for i in range(16)]
    np.save(tmp_path / "shard-000.npy", rng.standard_normal((16, FRAMES, 128)).astype(np.float16))
    pd.DataFrame([{"clip_id": c, "shard": "shard-000.npy", "row": i, "n_frames": FRAMES, "status": "ok", "reason": "",
                   "detail": ""} for i, c in enumerate(ids)], columns=INDEX_COLUMNS).to_csv(tmp_path / "shard-000.csv",
                                                                                           index=False)
    merge_indexes([tmp_path / "shard-000.csv"], tmp_path / "index.csv")
    save_table(tmp_path / "pool", pd.DataFrame({"text": [f"caption {i}" for i in range(16)]}), _unit(rng, (16, 16)))
    save_table(tmp_path / "teacher", pd.DataFrame({"clip_id": ids[::-1]}), _unit(rng, (16, 16)))
    improve = pd.DataFrame({"clip_id": ids[:10], "text_row": list(range(10))})
    replay = pd.DataFrame({"clip_id": ids[10:], "text_row": list(range(10, 16))})
    store = FbankStore(tmp_path / "index.csv", FbankStats(0.0, 1.0), length=FRAMES)
    return store, improve, replay, EmbeddingTable.load(tmp_path / "pool"), EmbeddingTable.load(tmp_path / "teacher")


def test_without_options_the_order_and_loss_are_plain_at_finetuning(data):
    store, improve, _, pool, _ = data
    task = StudentTask(store, improve, pool, frames_length=FRAMES)
    assert len(task) == 10
    assert torch.equal(task.epoch_order(torch.Generator().manual_seed(5), 4),
                       torch.randperm(10, generator=torch.Generator().manual_seed(5)))
    index, audio, scale = torch.tensor([3, 1, 7]), torch.randn(3, 16), torch.tensor(10.0)
    text = torch.from_numpy(np.asarray(pool.array, dtype=np.float32))[index]
    assert torch.equal(task.loss(index, audio, scale), clip_loss(audio, text, scale))


def test_replay_swaps_whole_batches_for_replay_pairs(data):
    store, improve, replay, pool, _ = data
    task = StudentTask(store, improve, pool, replay=replay, replay_prob=0.5, frames_length=FRAMES)
    assert len(task) == 10 and task.n_replay == 6
    batch, replayed, steps = 3, 0, 0
    for epoch in range(40):
        order = task.epoch_order(torch.Generator().manual_seed(epoch), batch)
        for s in range(10 // batch):
            chunk = order[s * batch:(s + 1) * batch]
            from_replay = chunk >= 10
            assert from_replay.all() or not from_replay.any(), chunk  # a batch is one set or the other
            replayed += int(from_replay.all())
            steps += 1
            if from_replay.all():
                assert len(set(chunk.tolist())) == batch  # drawn without replacement
                assert [task.clip_ids[i] for i in chunk.tolist()] == [replay["clip_id"][i - 10] for i in chunk.tolist()]
    assert 0.35 < replayed / steps < 0.65
    again = task.epoch_order(torch.Generator().manual_seed(7), batch)
    assert torch.equal(again, task.epoch_order(torch.Generator().manual_seed(7), batch))


@pytest.mark.parametrize("prob, expect", [(0.0, 0), (1.0, 3)])
def test_replay_probability_bounds(data, prob, expect):
    store, improve, replay, pool, _ = data
    task = StudentTask(store, improve, pool, replay=replay, replay_prob=prob, frames_length=FRAMES)
    order = task.epoch_order(torch.Generator().manual_seed(0), 3)
    assert sum(bool((order[s * 3:(s + 1) * 3] >= 10).all()) for s in range(3)) == expect


def test_soft_label_loss_uses_the_cached_teacher_audio_of_each_clip(data):
    store, improve, replay, pool, teacher = data
    task = StudentTask(store, improve, pool, replay=replay, soft_label_alpha=0.3, teacher_audio=teacher,
                       frames_length=FRAMES)
    index = torch.tensor([12, 2, 0, 15])  # two replay pairs, two improvement pairs
    clips = [task.clip_ids[i] for i in index.tolist()]
    t_audio = teacher.tensor(teacher.rows("clip_id", clips))
    text = torch.from_numpy(np.asarray(pool.array, dtype=np.float32))[task.text_rows[index]]
    audio, scale = torch.randn(4, 16), torch.tensor(8.0)
    expected = soft_label_loss(audio, text, t_audio, text, scale, alpha=0.3)
    assert torch.allclose(task.loss(index, audio, scale), expected)
    assert not torch.allclose(task.loss(index, audio, scale), clip_loss(audio, text, scale))


def test_bad_inputs_are_clear_errors(data):
    store, improve, replay, pool, teacher = data
    with pytest.raises(ValueError, match="teacher's audio embeddings"):
        StudentTask(store, improve, pool, soft_label_alpha=0.3, frames_length=FRAMES)
    partial = EmbeddingTable(teacher.keys.iloc[:8].reset_index(drop=True), teacher.array[:8])
    with pytest.raises(KeyError, match="not in the table"):
        StudentTask(store, improve, pool, soft_label_alpha=0.3, teacher_audio=partial, frames_length=FRAMES)
    with pytest.raises(ValueError, match="pool has 16 rows"):
        StudentTask(store, improve, pool, replay=replay.assign(text_row=40), frames_length=FRAMES)
    with pytest.raises(ValueError, match="no replay pair has FBANK"):
        StudentTask(store, improve, pool, replay=replay.assign(clip_id="nowhere"), frames_length=FRAMES)
    with pytest.raises(ValueError, match="replay probability"):
        StudentTask(store, improve, pool, replay=replay, replay_prob=2.0, frames_length=FRAMES)


def test_the_shared_loop_trains_a_student_with_replay_and_soft_labels(data, tmp_path, tiny_encoder):
    store, improve, replay, pool, teacher = data
    task = StudentTask(store, improve, pool, replay=replay, replay_prob=0.5, soft_label_alpha=0.3,
                       teacher_audio=teacher, frames_length=FRAMES)
    torch.manual_seed(0)
    encoder = tiny_encoder(FRAMES)
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    cfg = TrainConfig(epochs=2, batch_size=4, lr_weights=0.5, lr_biases=0.01, warmup_epochs=0, spec_augment=False)
    history = train(encoder, task, cfg, tmp_path / "run")
    assert len(history) == 2 and all(np.isfinite(h["loss"]) for h in history)
    # on a GPU machine the loop trains (and leaves) the encoder on CUDA: compare on the CPU
    assert any(not torch.equal(before[k], v.cpu()) for k, v in encoder.state_dict().items())
