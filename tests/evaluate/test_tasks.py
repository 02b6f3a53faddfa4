"""The scorer behind ``vipant evaluate`` (``vipant.evaluate.tasks.evaluate_task``), driven end to end
with embeddings whose right answer is known, on annotation files laid out as the workflow writes them.

* the *oracle* gives each clip the embedding its annotation asks for (its captions' prototype, its class
  prompt, the sum of its label prompts, its own frame): every score must be 100;
* the oracle with its rows *shuffled* across clips keeps every embedding and breaks only the pairing:
  averaged over shuffles, every score must come back to the chance level the scorer reports;
* a *constant* embedding (a collapsed model) must score at most chance everywhere.

The clip order handed to the scorer differs from the order of every annotation file, so a scorer that
reads labels, captions or frames by position instead of by clip id fails the oracle.
"""

import numpy as np
import pandas as pd
import pytest
import torch

from vipant.embed.table import save_table
from vipant.evaluate.tasks import evaluate_task

DIM = 32
TASKS = ("audiocaps_retrieval", "esc50_zs", "tut17_zs", "audioset_zs", "audioset_a2i")


def _orthonormal(rng, n: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((DIM, DIM)))
    return q[:n].astype(np.float32)


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Inputs of the five kinds of task for 24 clips, and each task's oracle audio embedding."""
    tmp = tmp_path_factory.mktemp("wiring")
    rng = np.random.default_rng(0)
    n = 24
    clips = [f"y{i:02d}" for i in range(n)]
    order = list(rng.permutation(n))  # the order the scorer is given: not the files' order
    asked = [clips[i] for i in order]
    inputs, oracle = {}, {}

    # retrieval: 3 near-duplicate captions per clip, listed in a shuffled order
    proto = _unit(rng.standard_normal((n, DIM)))
    owner = rng.permutation(np.repeat(np.arange(n), 3))
    save_table(
        tmp / "captions",
        pd.DataFrame({"clip_id": [clips[o] for o in owner]}),
        _unit(proto[owner] + 0.05 * rng.standard_normal((len(owner), DIM))),
    )
    inputs["captions_audiocaps_retrieval"] = str(tmp / "captions")
    oracle["audiocaps_retrieval"] = proto[order]

    # single-label zero-shot with folds (ESC-50's target/fold columns) and with scene names (TUT17)
    classes = [f"class{c}" for c in range(6)]
    prompt = _orthonormal(rng, 6)
    for task, column in (("esc50_zs", "target"), ("tut17_zs", "scene")):
        label = rng.permutation(np.arange(n) % 6)
        save_table(tmp / f"prompt_{task}", pd.DataFrame({"class": classes}), prompt)
        save_table(
            tmp / f"noprompt_{task}",
            pd.DataFrame({"class": classes}),
            _unit(prompt + 0.05 * rng.standard_normal(prompt.shape)),
        )
        values = label if column == "target" else [classes[c] for c in label]
        meta = pd.DataFrame({"clip_id": clips, column: values, "fold": np.arange(n) % 2 + 1})
        meta.iloc[::-1].to_csv(tmp / f"labels_{task}.csv", index=False)  # reversed: not the scorer's order
        inputs.update(
            {
                f"class_prompt_{task}": str(tmp / f"prompt_{task}"),
                f"class_noprompt_{task}": str(tmp / f"noprompt_{task}"),
                f"labels_{task}": str(tmp / f"labels_{task}.csv"),
            }
        )
        oracle[task] = prompt[label[order]]

    # multi-label tagging (AudioSet): 1-2 labels per clip, orthogonal label prompts
    mids = [f"/m/{c:02d}" for c in range(8)]
    labels = [sorted(set(rng.choice(8, size=rng.integers(1, 3), replace=False))) for _ in range(n)]
    tag_prompt = _orthonormal(rng, 8)
    pd.DataFrame({"mid": mids}).to_csv(tmp / "mids.csv", index=False)
    pd.DataFrame({"clip_id": clips, "labels": [",".join(mids[m] for m in ls) for ls in labels]}).iloc[::-1].to_csv(
        tmp / "labels_audioset_zs.csv", index=False
    )
    save_table(tmp / "prompt_as", pd.DataFrame({"class": mids}), tag_prompt)
    save_table(tmp / "noprompt_as", pd.DataFrame({"class": mids}), tag_prompt)
    inputs.update(
        {
            "class_mids": str(tmp / "mids.csv"),
            "labels_audioset_zs": str(tmp / "labels_audioset_zs.csv"),
            "class_prompt_audioset_zs": str(tmp / "prompt_as"),
            "class_noprompt_audioset_zs": str(tmp / "noprompt_as"),
        }
    )
    oracle["audioset_zs"] = _unit(np.stack([tag_prompt[ls].sum(axis=0) for ls in labels]))[order]

    # audio -> image: the clip's 2nd of 4 cached frames; the other frames are distractors
    frames = _unit(rng.standard_normal((n, 4, DIM)))
    save_table(tmp / "frames", pd.DataFrame({"clip_id": clips}), frames)
    inputs["frames"] = str(tmp / "frames")
    oracle["audioset_a2i"] = frames[order, 1]
    return asked, inputs, {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in oracle.items()}


SCORES = {
    "audiocaps_retrieval": ["a2t_R@1", "a2t_R@5", "a2t_R@10", "t2a_R@1", "t2a_R@5", "t2a_R@10"],
    "esc50_zs": ["acc_prompt", "acc_noprompt"],
    "tut17_zs": ["acc_prompt", "acc_noprompt"],
    "audioset_zs": ["mAP_prompt", "mAP_noprompt"],
    "audioset_a2i": ["a2i_R@1", "a2i_R@5", "i2a_R@1", "i2a_R@5"],
}


def _chance(task: str, key: str, chance: dict) -> float:
    if task.endswith("_zs"):
        return chance["mAP" if task == "audioset_zs" else "acc"]
    return chance[key]


@pytest.mark.parametrize("task", TASKS)
def test_the_oracle_scores_100(world, task):
    """Catches annotations joined to the wrong clip (labels, folds, captions or frames read by position,
    a caption's owner off by one, the wrong frame of four): only the right pairing gives 100."""
    clips, inputs, oracle = world
    metrics, chance, _ = evaluate_task(task, clips, oracle[task], inputs)
    for key in SCORES[task]:
        assert metrics[key] == pytest.approx(100.0), (key, metrics[key])
        assert _chance(task, key, chance) < 60.0


@pytest.mark.parametrize("task", TASKS)
def test_the_shuffled_oracle_scores_chance_on_average(world, task):
    """Catches a chance level that is not the scorer's (a wrong formula, a wrong number of candidates or
    classes) and a score that rewards something other than the pairing: 100 shuffles of the oracle's
    rows average within a few standard errors of the reported chance. (A→T at k > 1 is left out: a clip's
    3 captions are near-duplicates here, so a wrong clip fills 3 of the top k at once and a shuffled
    oracle scores below the uniform-ranking chance, as it should.)"""
    clips, inputs, oracle = world
    rng = np.random.default_rng(1)
    draws = [
        evaluate_task(task, clips, oracle[task][torch.as_tensor(rng.permutation(len(clips)))], inputs)
        for _ in range(100)
    ]
    chance = draws[0][1]
    for key in [k for k in SCORES[task] if k not in ("a2t_R@5", "a2t_R@10")]:
        mean = float(np.mean([m[key] for m, _, _ in draws]))
        # per-shuffle spread is at most ~20 points on 24 clips; 100 shuffles: standard error <= 1.5
        assert mean == pytest.approx(_chance(task, key, chance), abs=5.0), (key, mean, chance)


@pytest.mark.parametrize("value", [1.0, 0.0])
@pytest.mark.parametrize("task", TASKS)
def test_a_constant_embedding_scores_at_most_chance(world, task, value):
    """Catches ties broken in the model's favour anywhere in the scorer: a collapsed model (every clip the
    same embedding; the zero vector ties every class and caption at cosine 0) must not beat chance on any
    score."""
    clips, inputs, oracle = world
    constant = torch.full((len(clips), DIM), value)
    metrics, chance, _ = evaluate_task(task, clips, constant, inputs)
    for key in SCORES[task]:
        assert metrics[key] <= _chance(task, key, chance) + 1e-9, (key, metrics[key], chance)


def test_permutation_p_values_follow_the_scores(world):
    """Catches p-values computed against the wrong observed score: the oracle's scores are beaten by no
    shuffle (p at its floor 1/20), a constant embedding's by every shuffle (p = 1)."""
    clips, inputs, oracle = world
    _, _, p = evaluate_task("esc50_zs", clips, oracle["esc50_zs"], inputs, permutations=19)
    assert p["acc_prompt"] == pytest.approx(1 / 20) and p["acc_noprompt"] == pytest.approx(1 / 20)
    _, _, p = evaluate_task("esc50_zs", clips, torch.ones(len(clips), DIM), inputs, permutations=19)
    assert p["acc_prompt"] == 1.0


def test_clips_shared_by_tasks_are_embedded_once_per_length_and_come_back_in_each_tasks_order(monkeypatch):
    """Catches a cache that serves rows out of step with the clip ids, and one keyed without the input
    length (Table 8 scores Clotho at 10 s and at its full length: the 10 s embeddings must not be reused)."""
    import vipant.embed.audio
    import vipant.features.store
    from vipant.evaluate import tasks

    asked = {"audioset_zs": ["a", "b", "gone", "c"], "audioset_a2i": ["c", "d", "a"]}
    calls = []

    def fake_embed(model, store, ids, device="cpu"):
        calls.append((store.length, list(ids)))
        have = [c for c in ids if c != "gone"]
        return have, torch.tensor([[ord(c) + store.length, 1.0] for c in have])

    class Store:
        def __init__(self, path, stats, length):
            self.length = length

    monkeypatch.setattr(tasks, "clip_ids", lambda task, inputs: asked[task])
    monkeypatch.setattr(vipant.embed.audio, "embed_clips", fake_embed)
    monkeypatch.setattr(vipant.features.store, "FbankStore", Store)
    monkeypatch.setattr(vipant.features.store.FbankStats, "load", staticmethod(lambda path: None))
    model = type("M", (), {"embed_dim": 2})()
    cache: dict = {}
    inputs = {"fbank_audioset": "x", "fbank_stats": "y"}
    for task, length in (("audioset_zs", 1000), ("audioset_a2i", 1000), ("audioset_a2i", 500)):
        ids, audio = tasks.task_audio(task, inputs, model, length, "cpu", cache)
        assert ids == [c for c in asked[task] if c != "gone"]
        assert audio[:, 0].tolist() == [ord(c) + length for c in ids]
    assert calls == [(1000, ["a", "b", "gone", "c"]), (1000, ["d"]), (500, ["c", "d", "a"])]
