"""Follow-up B's student task: replay batches from another pair set, soft-label loss with cached teacher
audio embeddings; without either option it is plain AT fine-tuning."""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from vipant.checkpoint import load_checkpoint
from vipant.embed.table import EmbeddingTable, save_table
from vipant.features.store import FbankStats, FbankStore
from vipant.models.audio_encoder import AudioEncoder, save_audio_model
from vipant.models.vt import build_clip
from vipant.train.finetune_at import (
    ATFinetuneTask,
    StudentTask,
    VATFinetuneTask,
    finetune_task,
    student_logit_scale,
    student_task,
    validation_captions,
)
from vipant.train.loop import TrainConfig, train
from vipant.train.loss import clip_loss
from vipant.train.soft_label import soft_label_loss

FRAMES = 96
TINY_CLIP = {
    "embed_dim": 16,
    "quick_gelu": True,  # tests/train/conftest.py's tiny CLIP
    "vision_cfg": {"image_size": 224, "layers": 1, "width": 32, "patch_size": 32, "head_width": 16},
    "text_cfg": {"context_length": 8, "vocab_size": 49408, "width": 16, "heads": 2, "layers": 1},
}


def _unit(rng, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


@pytest.fixture
def data(tmp_path, write_fbank_store):
    """16 clips with FBANK; improvement pairs on clips 0-9, replay pairs on clips 10-15; teacher audio for all."""
    rng = np.random.default_rng(0)
    ids = [f"clip{i:02d}" for i in range(16)]
    write_fbank_store(tmp_path, ids, FRAMES, rng)
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
    assert torch.equal(
        task.epoch_order(torch.Generator().manual_seed(5), 4),
        torch.randperm(10, generator=torch.Generator().manual_seed(5)),
    )
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
            chunk = order[s * batch : (s + 1) * batch]
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
    assert sum(bool((order[s * 3 : (s + 1) * 3] >= 10).all()) for s in range(3)) == expect


def test_a_replay_set_no_larger_than_a_batch(data):
    """6 replay pairs. A batch of 6 is a permutation of them (no repeats); a batch of 8 draws them with
    replacement, every replay pair reachable, seeded, and only the epoch's one full batch is swapped (the 2
    improvement pairs after it stay). Catches repeats where a permutation fits, draws that skip replay pair 0
    or ignore the generator, and a swapped second, partial batch."""
    store, improve, replay, pool, _ = data
    task = StudentTask(store, improve, pool, replay=replay, replay_prob=1.0, frames_length=FRAMES)
    six = task.epoch_order(torch.Generator().manual_seed(0), 6)
    assert sorted(six[:6].tolist()) == list(range(10, 16))
    assert torch.equal(six, task.epoch_order(torch.Generator().manual_seed(0), 6))  # seeded: the permutation too
    drawn = set()
    for seed in range(6):
        order = task.epoch_order(torch.Generator().manual_seed(seed), 8)
        assert torch.equal(order, task.epoch_order(torch.Generator().manual_seed(seed), 8))
        assert ((order[:8] >= 10) & (order[:8] < 16)).all() and (order[8:] < 10).all()
        drawn |= set(order[:8].tolist())
    assert drawn == set(range(10, 16))


@pytest.mark.parametrize("alpha", [0.3, 0.6])  # the paper's 0.3 (the default) and another: the task's own is used
def test_soft_label_loss_uses_the_cached_teacher_audio_of_each_clip(data, alpha):
    store, improve, replay, pool, teacher = data
    task = StudentTask(
        store, improve, pool, replay=replay, soft_label_alpha=alpha, teacher_audio=teacher, frames_length=FRAMES
    )
    index = torch.tensor([12, 2, 0, 15])  # two replay pairs, two improvement pairs
    clips = [task.clip_ids[i] for i in index.tolist()]
    t_audio = teacher.tensor(teacher.rows("clip_id", clips))
    text = torch.from_numpy(np.asarray(pool.array, dtype=np.float32))[task.text_rows[index]]
    audio, scale = torch.randn(4, 16), torch.tensor(8.0)
    expected = soft_label_loss(audio, text, t_audio, text, scale, alpha=alpha)
    assert torch.allclose(task.loss(index, audio, scale), expected)
    assert not torch.allclose(task.loss(index, audio, scale), clip_loss(audio, text, scale))


def test_bad_inputs_are_clear_errors(data):
    store, improve, replay, pool, teacher = data
    with pytest.raises(ValueError, match=r"^soft labels need the teacher's audio embeddings \(teacher_audio\)$"):
        StudentTask(store, improve, pool, soft_label_alpha=0.3, frames_length=FRAMES)
    partial = EmbeddingTable(teacher.keys.iloc[:8].reset_index(drop=True), teacher.array[:8])
    with pytest.raises(KeyError, match="not in the table"):
        StudentTask(store, improve, pool, soft_label_alpha=0.3, teacher_audio=partial, frames_length=FRAMES)
    with pytest.raises(ValueError, match="text row 16 but the pool has 16 rows"):  # one past the last row
        StudentTask(store, improve, pool, replay=replay.assign(text_row=16), frames_length=FRAMES)
    with pytest.raises(ValueError, match="^no replay pair has FBANK features$"):
        StudentTask(store, improve, pool, replay=replay.assign(clip_id="nowhere"), frames_length=FRAMES)
    with pytest.raises(ValueError, match="replay probability"):
        StudentTask(store, improve, pool, replay=replay, replay_prob=2.0, frames_length=FRAMES)


def test_the_shared_loop_trains_a_student_with_replay_and_soft_labels(data, tmp_path, tiny_encoder):
    store, improve, replay, pool, teacher = data
    task = StudentTask(
        store,
        improve,
        pool,
        replay=replay,
        replay_prob=0.5,
        soft_label_alpha=0.3,
        teacher_audio=teacher,
        frames_length=FRAMES,
    )
    torch.manual_seed(0)
    encoder = tiny_encoder(FRAMES)
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    cfg = TrainConfig(epochs=2, batch_size=4, lr_weights=0.5, lr_biases=0.01, warmup_epochs=0, spec_augment=False)
    history = train(encoder, task, cfg, tmp_path / "run")
    assert len(history) == 2 and all(np.isfinite(h["loss"]) for h in history)
    # on a GPU machine the loop trains (and leaves) the encoder on CUDA: compare on the CPU
    assert any(not torch.equal(before[k], v.cpu()) for k, v in encoder.state_dict().items())


def test_replay_share_matches_replay_prob_and_replay_rows_are_real_replay_pairs(data):
    """Reference: ``CLAP.fit_batch`` in ``zhepeiw/clap_curation``, file ``softclap_train.py``, draws
    ``torch.rand(1) < curation_prob`` once per step and then takes a whole batch from the other loader.
    Over 1,200 steps at replay_prob 0.2 the replay share is 0.2 within 3 binomial standard errors (0.035);
    a reversed comparison (0.8), a hard-coded 0.5 or a per-example draw fail. Every replay index maps to
    a (clip, caption row) pair of the replay list, never to an improvement pair or a shifted row."""
    store, improve, replay, pool, _ = data
    task = StudentTask(store, improve, pool, replay=replay, replay_prob=0.2, frames_length=FRAMES)
    batch, steps, replayed = 5, 0, 0
    pairs = set(zip(replay["clip_id"], replay["text_row"]))
    for epoch in range(600):
        order = task.epoch_order(torch.Generator().manual_seed(epoch), batch)
        for s in range(2):
            chunk = order[s * batch : (s + 1) * batch].tolist()
            steps += 1
            if chunk[0] >= task.n_improve:
                replayed += 1
                assert {(task.clip_ids[i], int(task.text_rows[i])) for i in chunk} <= pairs
    assert steps == 1200
    assert abs(replayed / steps - 0.2) < 3 * (0.2 * 0.8 / steps) ** 0.5


def test_validation_loss_is_the_hard_contrastive_loss_on_first_captions(data):
    """Each validation clip with its first caption, batches of ``batch`` pairs, mean over pairs. Catches a
    loss over all captions of a clip (duplicate positives), a caption paired with the wrong clip, and a
    mean over batches instead of pairs."""
    store, improve, _, pool, _ = data
    rng = np.random.default_rng(1)
    clips = ["clip11", "clip12", "clip13"]
    caption_clip = [0, 0, 1, 2, 2, 1]  # two captions per clip; first captions are rows 0, 2, 3
    text = _unit(rng, (6, 16))
    table = EmbeddingTable(pd.DataFrame({"clip_id": [clips[c] for c in caption_clip]}), text)
    task = StudentTask(store, improve, pool, frames_length=FRAMES, val=(clips, table, caption_clip))
    audio = {c: torch.randn(16, generator=torch.Generator().manual_seed(i)) for i, c in enumerate(clips)}
    embeds = iter([torch.stack([audio["clip11"], audio["clip12"]]), torch.stack([audio["clip13"]])])
    got = task.validation_loss(lambda x: next(embeds), logit_scale=7.0, batch=2)
    a = F.normalize(torch.stack([audio[c] for c in clips]), dim=-1)
    t = F.normalize(torch.from_numpy(text[[0, 2, 3]]), dim=-1)
    first = clip_loss(a[:2], t[:2], torch.tensor(7.0)).item() * 2  # two pairs
    second = clip_loss(a[2:], t[2:], torch.tensor(7.0)).item()  # one pair: loss 0
    assert got == pytest.approx((first + second) / 3, rel=1e-5)


def test_validation_loss_reads_the_tasks_input_length_and_needs_validation_captions(data):
    """Validation clips are read at the task's ``frames_length`` (48 here), not at the store's default (96):
    the encoder must see what training fed it. Without validation captions the loss is refused."""
    store, improve, _, pool, _ = data
    table = EmbeddingTable(pd.DataFrame({"clip_id": ["clip11", "clip12"]}), _unit(np.random.default_rng(2), (2, 16)))
    task = StudentTask(store, improve, pool, frames_length=FRAMES // 2, val=(["clip11", "clip12"], table, [0, 1]))
    shapes = []

    def embed(x):
        shapes.append(tuple(x.shape))
        return torch.randn(len(x), 16)

    task.validation_loss(embed, logit_scale=7.0, batch=2)
    assert shapes == [(2, FRAMES // 2, 128)]
    with pytest.raises(ValueError, match=r"^a student's validation loss needs validation captions \(--val-text\)$"):
        StudentTask(store, improve, pool, frames_length=FRAMES).validation_loss(embed, 7.0, 2)


@pytest.fixture
def command_inputs(data, tmp_path):
    """Files for ``vipant finetune-at``: a teacher checkpoint recording logit scale 23.5, pairs, replay pairs,
    FBANK stats and validation captions."""
    store, improve, replay, pool, teacher = data
    torch.manual_seed(0)
    save_audio_model(
        tmp_path / "teacher.pt",
        AudioEncoder(build_clip(TINY_CLIP).visual, frames=FRAMES),
        TINY_CLIP,
        init="clip",
        logit_scale=23.5,
    )
    improve.to_csv(tmp_path / "pairs.csv", index=False)
    replay.to_csv(tmp_path / "replay.csv", index=False)
    FbankStats(0.0, 1.0).save(tmp_path / "stats.json")
    rng = np.random.default_rng(2)
    save_table(
        tmp_path / "val", pd.DataFrame({"clip_id": ["clip11", "clip12", "clip13", "clip14"]}), _unit(rng, (4, 16))
    )
    # lr_biases 0: the logit scale cannot move, so every record shows the scale the run started from
    train_cfg = {
        "max_steps": 2,
        "eval_every": 1,
        "keep_best": True,
        "batch_size": 4,
        "lr_weights": 0.5,
        "lr_biases": 0.0,
        "warmup_epochs": 0,
        "spec_augment": False,
    }
    return argparse.Namespace(
        init_model=str(tmp_path / "teacher.pt"),
        pairs=str(tmp_path / "pairs.csv"),
        text=str(tmp_path / "pool"),
        val_text=str(tmp_path / "val"),
        fbank_index=str(tmp_path / "index.csv"),
        fbank_stats=str(tmp_path / "stats.json"),
        frames_length=FRAMES,
        train_json=json.dumps(train_cfg),
        out_dir=str(tmp_path / "out"),
        vat_frames=None,
        replay_pairs=str(tmp_path / "replay.csv"),
        replay_prob=0.5,
        soft_label_alpha=None,
        teacher_audio=None,
        track_json=None,
    )


def test_a_student_starts_from_its_teachers_logit_scale_and_saves_the_kept_one(command_inputs, monkeypatch):
    """Catches a student that starts from a fresh 1/0.07 head (the earlier behaviour: save_audio_model
    dropped the scale) and a saved model without its scale."""
    from vipant.commands.finetune_at import run

    monkeypatch.setenv("VIPANT_MLFLOW_URI", "off")
    run(command_inputs)
    history = json.loads((Path(command_inputs.out_dir) / "history.json").read_text())["history"]
    assert [h["step"] for h in history] == [1, 2]
    assert history[0]["logit_scale"] == pytest.approx(23.5, rel=1e-6)
    saved = load_checkpoint(Path(command_inputs.out_dir) / "model.pt")
    assert saved["logit_scale"] == pytest.approx(23.5, rel=1e-6)


def test_plain_at_finetuning_keeps_a_fresh_head_and_saves_its_scale(command_inputs, monkeypatch):
    """AT fine-tuning from a VA model starts at CLIP's 1/0.07, as vip-AnT's cvalp_dp (not the teacher's)."""
    from vipant.commands.finetune_at import run

    monkeypatch.setenv("VIPANT_MLFLOW_URI", "off")
    command_inputs.replay_pairs = None
    command_inputs.train_json = json.dumps({**json.loads(command_inputs.train_json), "keep_best": False})
    run(command_inputs)
    saved = load_checkpoint(Path(command_inputs.out_dir) / "model.pt")
    assert saved["logit_scale"] == pytest.approx(1 / 0.07, rel=1e-6)


def test_a_teacher_without_a_recorded_scale_is_refused_for_students(command_inputs, monkeypatch, tmp_path):
    from vipant.commands.finetune_at import run

    monkeypatch.setenv("VIPANT_MLFLOW_URI", "off")
    state = load_checkpoint(command_inputs.init_model)
    del state["logit_scale"]
    torch.save(state, tmp_path / "old_teacher.pt")
    command_inputs.init_model = str(tmp_path / "old_teacher.pt")
    with pytest.raises(ValueError, match="old_teacher.pt: the teacher checkpoint records no logit_scale"):
        run(command_inputs)


def test_validation_captions_keep_clips_with_features_in_first_seen_order(data):
    store, *_ = data
    table = EmbeddingTable(
        pd.DataFrame({"clip_id": ["clip12", "nofbank", "clip03", "clip12"]}), _unit(np.random.default_rng(3), (4, 16))
    )
    clip_ids, kept, caption_clip = validation_captions(table, store.clip_ids)
    assert clip_ids == ["clip12", "clip03"] and caption_clip == [0, 1, 0]
    assert kept.keys["clip_id"].tolist() == ["clip12", "clip03", "clip12"]
    assert np.array_equal(kept.array, table.array[[0, 2, 3]])


def test_student_task_input_problems_name_their_file(command_inputs, data, tmp_path):
    """The student's inputs are checked with the file they come from: a replay list without text_row, soft
    labels without teacher embeddings, teacher embeddings missing a clip, pairs beyond the pool."""
    store, improve, *_ = data
    files = {"pairs_path": command_inputs.pairs, "text": command_inputs.text, "frames_length": FRAMES}
    task = student_task(store, improve, replay_pairs=command_inputs.replay_pairs, **files)
    assert len(task) == 10 and task.n_replay == 6
    pd.DataFrame({"clip_id": ["clip10"]}).to_csv(tmp_path / "bad_replay.csv", index=False)
    with pytest.raises(ValueError, match=r"bad_replay.csv: replay pair list lacks columns \['text_row'\]"):
        student_task(store, improve, replay_pairs=str(tmp_path / "bad_replay.csv"), **files)
    with pytest.raises(ValueError, match="--soft-label-alpha needs --teacher-audio"):
        student_task(store, improve, soft_label_alpha=0.3, **files)
    save_table(tmp_path / "few", pd.DataFrame({"clip_id": ["clip00"]}), _unit(np.random.default_rng(4), (1, 16)))
    with pytest.raises(ValueError, match="few: teacher audio embeddings miss clips of .*pairs.csv"):
        student_task(store, improve, soft_label_alpha=0.3, teacher_audio=str(tmp_path / "few"), **files)
    beyond = improve.assign(text_row=improve["text_row"] + 100)
    with pytest.raises(ValueError, match="pairs.csv / None with pool .*pool: pairs point at text row"):
        student_task(store, beyond, **files)


@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_finetune_task_picks_the_student_for_any_soft_label_alpha_even_zero(data, tmp_path, alpha):
    # alpha = 0 is a student with a pure soft-label loss: a truthiness test would make it plain AT
    store, improve, _, _, _ = data
    common = dict(pairs_path="pairs.csv", text=str(tmp_path / "pool"), frames_length=FRAMES)
    task, objective = finetune_task(
        store, improve, soft_label_alpha=alpha, teacher_audio=str(tmp_path / "teacher"), **common
    )
    assert isinstance(task, StudentTask) and task.alpha == alpha and objective == "AT"
    task, objective = finetune_task(store, improve, replay_pairs=None, **common)
    assert type(task) is ATFinetuneTask and objective == "AT"
    task, objective = finetune_task(store, improve, vat_frames=str(tmp_path / "teacher"), **common)
    assert isinstance(task, VATFinetuneTask) and objective == "VAT"
    with pytest.raises(ValueError, match="--vat-frames cannot be combined"):
        finetune_task(store, improve, vat_frames=str(tmp_path / "teacher"), soft_label_alpha=0.0, **common)


def test_student_logit_scale_reads_the_teachers_and_names_the_checkpoint_without_one():
    assert student_logit_scale({"logit_scale": 42.5}, "t.pt") == 42.5
    with pytest.raises(ValueError, match="t.pt: the teacher checkpoint records no logit_scale"):
        student_logit_scale({}, "t.pt")
