"""AT fine-tuning (docs/design.md, Stages: finetune_at): the validation metric that picks the AT recipe, the (clip, caption) pairing
of the AT and student tasks, and that training on the pairing is what teaches the encoder.

Every FBANK array here carries its clip's number in cell ``[0, 0]`` so a test can tell which clip's
features reached the encoder; every pool row is a distinct random unit vector so a test can tell which
caption reached the loss. Mappings are never the identity: an index that is off, or taken from the wrong
list, lands on another clip or caption and fails.
"""

import numpy as np
import pandas as pd
import pytest
import torch

from vipant.embed.table import EmbeddingTable, save_table
from vipant.evaluate.metrics import chance_retrieval
from vipant.features.fbank import INDEX_COLUMNS
from vipant.features.store import FbankStats, FbankStore, merge_indexes
from vipant.train.finetune_at import ATFinetuneTask, StudentTask
from vipant.train.loop import TrainConfig, train

FRAMES = 96
DIM = 16


def _unit(rng, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _store(folder, features: np.ndarray, ids: list[str]) -> FbankStore:
    np.save(folder / "shard-000.npy", features.astype(np.float16))
    pd.DataFrame(
        [
            {
                "clip_id": c,
                "shard": "shard-000.npy",
                "row": i,
                "n_frames": features.shape[1],
                "status": "ok",
                "reason": "",
                "detail": "",
            }
            for i, c in enumerate(ids)
        ],
        columns=INDEX_COLUMNS,
    ).to_csv(folder / "shard-000.csv", index=False)
    merge_indexes([folder / "shard-000.csv"], folder / "index.csv")
    return FbankStore(folder / "index.csv", FbankStats(0.0, 1.0), length=features.shape[1])


def _numbered_store(folder, n: int) -> FbankStore:
    """Clips ``c00..`` whose FBANK is zero except cell [0, 0] = the clip's number."""
    features = np.zeros((n, FRAMES, 128), dtype=np.float32)
    features[:, 0, 0] = np.arange(n)
    return _store(folder, features, [f"c{i:02d}" for i in range(n)])


def _clip_number(fbank: torch.Tensor) -> torch.Tensor:
    return fbank[:, 0, 0].round().long()


def _validation(folder, n_clips: int, captions_per_clip: int, seed: int = 0):
    """A validation set in the order the command builds it: clip list, caption table, caption -> clip position.

    Captions are listed in a shuffled order and the clip list is not the store's order, so the positions are
    a non-identity mapping."""
    rng = np.random.default_rng(seed)
    clips = [f"c{i:02d}" for i in rng.permutation(n_clips)]
    owner = rng.permutation(np.repeat(np.arange(n_clips), captions_per_clip))
    text = _unit(rng, (len(owner), DIM))
    save_table(folder / "val", pd.DataFrame({"clip_id": [clips[o] for o in owner]}), text)
    return clips, EmbeddingTable.load(folder / "val"), owner.tolist()


def _task(store, folder, val) -> ATFinetuneTask:
    save_table(folder / "pool", pd.DataFrame({"text": ["x"]}), _unit(np.random.default_rng(1), (1, DIM)))
    pairs = pd.DataFrame({"clip_id": [store.clip_ids[0]], "text_row": [0]})
    return ATFinetuneTask(store, pairs, EmbeddingTable.load(folder / "pool"), frames_length=FRAMES, val=val)


# ---- the validation metric ----------------------------------------------------------------------------
def test_validation_of_a_constant_embedding_is_not_better_than_chance(tmp_path):
    """Catches ties broken in the model's favour: the old metric counted only strictly better clips, so a
    collapsed g_A (every clip the same embedding) scored R@1 = R@10 = 100 and won recipe selection."""
    store = _numbered_store(tmp_path, 30)
    task = _task(store, tmp_path, _validation(tmp_path, 30, 3))
    scores = task.validate(lambda x: torch.ones(len(x), DIM))
    # every tied clip ranks ahead of the gold one (vipant.evaluate.metrics): the gold clip is last of 30
    assert scores == {"val_t2a_R@1": 0.0, "val_t2a_R@10": 0.0}
    assert scores["val_t2a_R@10"] <= chance_retrieval(30, 1, 10)


def test_validation_of_random_embeddings_is_at_chance(tmp_path):
    """Catches a metric biased either way: random audio embeddings average chance (1/30 R@1, 10/30 R@10)
    over 40 draws within a few standard errors."""
    store = _numbered_store(tmp_path, 30)
    task = _task(store, tmp_path, _validation(tmp_path, 30, 3))
    generator = torch.Generator().manual_seed(0)
    draws = [task.validate(lambda x: torch.randn(len(x), DIM, generator=generator)) for _ in range(40)]
    r1 = np.mean([d["val_t2a_R@1"] for d in draws])
    r10 = np.mean([d["val_t2a_R@10"] for d in draws])
    # 40 draws x 90 queries: standard errors ~0.3 (R@1) and ~0.8 (R@10) percentage points
    assert r1 == pytest.approx(chance_retrieval(30, 1, 1), abs=1.5)
    assert r10 == pytest.approx(chance_retrieval(30, 1, 10), abs=3.0)


def test_validation_of_the_oracle_is_perfect_and_of_a_misaligned_oracle_is_zero(tmp_path):
    """Catches validation audio embedded in another order than ``clip_ids`` (or batches concatenated out of
    order): the oracle embeds each clip as its own caption, found through the number its FBANK carries, so
    only a correctly aligned metric gives 100; shifting every clip by one gives 0."""
    store = _numbered_store(tmp_path, 30)
    clips, table, owner = _validation(tmp_path, 30, 1)
    text = table.tensor()
    by_number = torch.zeros(30, DIM)
    for caption, position in enumerate(owner):
        by_number[int(clips[position][1:])] += text[caption]
    save_table(tmp_path / "pool", pd.DataFrame({"text": ["x"]}), _unit(np.random.default_rng(1), (1, DIM)))
    pairs = pd.DataFrame({"clip_id": ["c00"], "text_row": [0]})
    task = ATFinetuneTask(
        store,
        pairs,
        EmbeddingTable.load(tmp_path / "pool"),
        frames_length=FRAMES,
        val=(clips, table, owner),
        val_batch=7,
    )  # several batches, the last one short
    assert task.validate(lambda x: by_number[_clip_number(x)]) == {"val_t2a_R@1": 100.0, "val_t2a_R@10": 100.0}
    shifted = task.validate(lambda x: by_number[(_clip_number(x) + 1) % 30])
    assert shifted["val_t2a_R@1"] == 0.0


# ---- pairing --------------------------------------------------------------------------------------------
@pytest.fixture
def pairing(tmp_path):
    """12 numbered clips of which c05 has no features; a 20-row caption pool; pairs in a scrambled order."""
    store = _numbered_store(tmp_path, 12)
    index = pd.read_csv(tmp_path / "index.csv", keep_default_na=False)
    index.loc[index["clip_id"] == "c05", ["status", "reason", "row"]] = ["failed", "decode_error", -1]
    index.to_csv(tmp_path / "index.csv", index=False)
    store = FbankStore(tmp_path / "index.csv", FbankStats(0.0, 1.0), length=FRAMES)
    save_table(
        tmp_path / "pool",
        pd.DataFrame({"text": [f"t{i}" for i in range(20)]}),
        _unit(np.random.default_rng(2), (20, DIM)),
    )
    pairs = pd.DataFrame(
        {"clip_id": ["c07", "c02", "c05", "c11", "c00", "c02", "c09"], "text_row": [13, 4, 19, 0, 17, 8, 2]}
    )
    return store, EmbeddingTable.load(tmp_path / "pool"), pairs


def test_at_task_serves_each_pairs_clip_and_caption(pairing):
    """Catches a misaligned pair: text rows not filtered with the clips (c05 has no features, so every
    later pair would take its neighbour's caption), audio read by position instead of clip id, or targets
    indexed by example instead of by the example's text row."""
    store, pool, pairs = pairing
    task = ATFinetuneTask(store, pairs, pool, frames_length=FRAMES)
    kept = pairs[pairs["clip_id"] != "c05"].reset_index(drop=True)
    assert len(task) == 6
    index = torch.tensor([5, 0, 3, 1])  # not in order, with a clip (c02) paired twice
    assert _clip_number(task.audio(index)).tolist() == [int(kept["clip_id"][i][1:]) for i in index.tolist()]
    expected = pool.tensor()[kept["text_row"].to_numpy()[index.numpy()]]
    assert torch.equal(task.targets(index, torch.zeros(4, DIM)), expected)


def test_student_task_serves_replay_pairs_and_teacher_audio_of_the_same_clip(pairing, tmp_path):
    """Catches replay pairs or teacher embeddings misaligned with ``clip_ids``: the replay set's captions
    and the teacher table (written in another clip order) must follow each pair's own clip."""
    store, pool, pairs = pairing
    replay = pd.DataFrame({"clip_id": ["c03", "c05", "c10", "c01"], "text_row": [11, 6, 15, 3]})
    teacher_ids = [f"c{i:02d}" for i in (4, 10, 1, 7, 0, 11, 2, 9, 3, 6, 8, 5)]
    teacher = _unit(np.random.default_rng(3), (12, DIM))
    save_table(tmp_path / "teacher", pd.DataFrame({"clip_id": teacher_ids}), teacher)
    task = StudentTask(
        store,
        pairs,
        pool,
        replay=replay,
        soft_label_alpha=0.3,
        teacher_audio=EmbeddingTable.load(tmp_path / "teacher"),
        frames_length=FRAMES,
    )
    kept = pd.concat([pairs[pairs["clip_id"] != "c05"], replay[replay["clip_id"] != "c05"]], ignore_index=True)
    assert len(task) == 6 and task.n_replay == 3
    index = torch.tensor([8, 1, 6, 4, 7])  # replay examples (>= 6) mixed with improvement ones
    clips = [kept["clip_id"][i] for i in index.tolist()]
    assert _clip_number(task.audio(index)).tolist() == [int(c[1:]) for c in clips]
    assert torch.equal(
        task.targets(index, torch.zeros(5, DIM)), pool.tensor()[kept["text_row"].to_numpy()[index.numpy()]]
    )
    teacher_rows = [teacher_ids.index(c) for c in clips]
    assert torch.allclose(task.teacher_audio[index], torch.from_numpy(teacher[teacher_rows]), atol=1e-3)


# ---- learning -------------------------------------------------------------------------------------------
def _class_world(tmp_path, n_classes=8, train_per_class=8, val_per_class=4, seed=0):
    """Clips whose FBANK is a class-specific spectral band plus noise; captions that are a class prototype
    plus noise. Returns the store, the pool, gold train pairs and a validation set of unseen clips."""
    rng = np.random.default_rng(seed)
    n_train, n_val = n_classes * train_per_class, n_classes * val_per_class
    label = np.r_[np.repeat(np.arange(n_classes), train_per_class), np.repeat(np.arange(n_classes), val_per_class)]
    features = rng.standard_normal((len(label), FRAMES, 128)).astype(np.float32)
    width = 128 // n_classes
    for i, c in enumerate(label):
        features[i, :, c * width : (c + 1) * width] += 3.0
    ids = [f"k{i:03d}" for i in range(len(label))]
    store = _store(tmp_path, features, ids)
    prototype = _unit(rng, (n_classes, DIM))
    captions = prototype[label] + 0.3 * _unit(rng, (len(label), DIM))
    save_table(tmp_path / "pool", pd.DataFrame({"text": [f"t{i}" for i in range(n_train)]}), captions[:n_train])
    save_table(tmp_path / "val", pd.DataFrame({"clip_id": ids[n_train:]}), captions[n_train:])
    gold = pd.DataFrame({"clip_id": ids[:n_train], "text_row": np.arange(n_train)})
    val = (ids[n_train:], EmbeddingTable.load(tmp_path / "val"), list(range(n_val)))
    return store, EmbeddingTable.load(tmp_path / "pool"), gold, val


def test_training_on_gold_pairs_beats_training_on_shuffled_pairs(tmp_path, tiny_encoder):
    """Catches fine-tuning that ignores its pair list (targets not following the pairs, or pairs reshuffled
    inside the task): the same encoder, recipe and seed trained on the gold pairing must retrieve unseen
    clips from their captions far better than when trained on the same captions shuffled across clips."""
    store, pool, gold, val = _class_world(tmp_path)
    shuffled = gold.assign(text_row=np.random.default_rng(1).permutation(gold["text_row"].to_numpy()))
    cfg = TrainConfig(
        epochs=10, batch_size=16, lr_weights=20.0, lr_biases=0.5, warmup_epochs=0, spec_augment=False, device="cpu"
    )
    scores = {}
    for name, pairs in (("gold", gold), ("shuffled", shuffled)):
        torch.manual_seed(0)
        encoder = tiny_encoder(FRAMES)
        task = ATFinetuneTask(store, pairs, pool, frames_length=FRAMES, val=val)
        scores[name] = train(encoder, task, cfg, tmp_path / name)[-1]["val_t2a_R@10"]
    # 32 unseen clips, 4 per class: a model that tells the 8 classes apart puts the gold clip in the top 10
    chance = chance_retrieval(len(val[0]), 1, 10)  # 31.25
    assert scores["gold"] >= 90.0, scores
    assert scores["shuffled"] <= chance + 20.0, scores
