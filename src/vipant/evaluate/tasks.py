"""The evaluation tasks of ``vipant evaluate``: which clips each task scores, their audio embeddings, and
the task's scorer.

A *task* is one benchmark a model is scored on: audio-text retrieval on a caption set (AudioCaps,
Clotho), zero-shot classification against class prompts (ESC-50, US8K, TUT17, AudioSet), or audio-image
retrieval against each clip's middle frame (follow-up A). It is named by a key of :data:`TASKS`, which
gives the FBANK collection its clips come from and, for classification, the label and fold columns of
its annotation file. Its inputs are named files in a dict (``fbank_<collection>``, ``captions_<task>``,
``labels_<task>``, ``class_prompt_<task>``, ...), as the workflow passes them in ``--inputs-json``.

Heavy imports happen inside the functions: the command's parser lists :data:`TASKS` and ``vipant
--help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import torch

# task -> (FBANK collection, label column, fold column)
TASKS = {
    "audiocaps_retrieval": ("audioset", None, None),
    "clotho_retrieval": ("clotho_evaluation", None, None),
    # vip-AnT Table 8: the same Clotho retrieval with a shorter input (frames given per task, e.g. 10 s)
    "clotho_10s_retrieval": ("clotho_evaluation", None, None),
    "esc50_zs": ("esc50", "target", "fold"),
    "us8k_zs": ("us8k", "classID", "fold"),
    "tut17_zs": ("tut17", "scene", None),
    "audioset_zs": ("audioset", "labels", None),
    # follow-up A: audio <-> image retrieval on held-out AudioSet clips against their 2nd frame
    "audioset_a2i": ("audioset", None, None),
}


def clip_ids(task: str, inputs: dict) -> list[str]:
    """The clips ``task`` is scored on, in the order of its annotation file."""
    import pandas as pd

    from vipant.embed.table import EmbeddingTable

    if task.endswith("_retrieval"):
        return EmbeddingTable.load(inputs[f"captions_{task}"]).keys["clip_id"].drop_duplicates().tolist()
    if task == "audioset_zs":
        return pd.read_csv(inputs["clips_audioset_zs"], dtype=str, keep_default_na=False)["clip_id"].tolist()
    if task == "audioset_a2i":  # held-out clips that have frames (a clip whose video failed has none)
        framed = set(EmbeddingTable.load(inputs["frames"]).keys["clip_id"])
        clips = pd.read_csv(inputs["clips_audioset_a2i"], dtype=str, keep_default_na=False)["clip_id"]
        return [c for c in clips if c in framed]
    return pd.read_csv(inputs[f"labels_{task}"], dtype=str, keep_default_na=False)["clip_id"].tolist()


def task_audio(
    task: str, inputs: dict, model, frames_length: int, device, cache: dict | None = None
) -> tuple[list[str], torch.Tensor]:
    """``(clip ids, audio embeddings)`` of the task's clips that have audio: embedded with the model's g_A
    from ``frames_length`` FBANK frames, or, when ``model`` is ``"frames"`` (OracleAV-CLIP), the clip's
    cached middle-frame embedding.

    ``cache`` (a dict the caller keeps across tasks) holds every clip already embedded per (collection,
    length), so tasks that share clips (AudioSet's zero-shot and audio-image tasks, AudioCaps retrieval on
    the same collection) embed each clip once."""
    from vipant.curation.curate import EVAL_FRAME
    from vipant.embed.table import EmbeddingTable

    ids = clip_ids(task, inputs)
    if model == "frames":  # OracleAV-CLIP: the clip's middle frame stands in for its audio
        table = EmbeddingTable.load(inputs["frames"])
        have = [c for c in ids if c in set(table.keys["clip_id"])]
        return have, table.tensor(table.rows("clip_id", have))[:, EVAL_FRAME]
    import torch

    from vipant.embed.audio import embed_clips
    from vipant.features.store import FbankStats, FbankStore

    collection = TASKS[task][0]
    store = FbankStore(inputs[f"fbank_{collection}"], FbankStats.load(inputs["fbank_stats"]), length=frames_length)
    if cache is None:
        return embed_clips(model, store, ids, device=device)
    known = cache.setdefault((collection, frames_length), {})
    new = [c for c in dict.fromkeys(ids) if c not in known]
    if new:
        got, audio = embed_clips(model, store, new, device=device)
        known.update({c: None for c in new})  # a clip without features stays absent
        known.update(zip(got, audio))
    have = [c for c in dict.fromkeys(ids) if known[c] is not None]
    return have, (torch.stack([known[c] for c in have]) if have else torch.zeros(0, model.embed_dim))


def task_scorer(task: str, clip_ids: list[str], inputs: dict) -> Callable[[torch.Tensor], tuple[dict, dict]]:
    """The task's annotations for ``clip_ids``, loaded once, as ``score(audio) -> (metrics, chance)``, where row
    i of ``audio`` is clip i's embedding. Scoring the same annotations against shuffled rows is the
    permutation test (:mod:`vipant.evaluate.significance`)."""
    import numpy as np
    import pandas as pd

    from vipant.embed.table import EmbeddingTable
    from vipant.evaluate import metrics as M
    from vipant.evaluate.zero_shot import classification_task_metrics, multilabel_task_metrics

    if task.endswith("_retrieval"):
        captions = EmbeddingTable.load(inputs[f"captions_{task}"])
        position = {c: i for i, c in enumerate(clip_ids)}
        keep = captions.keys["clip_id"].isin(position).to_numpy()
        caption_clip = np.array([position[c] for c in captions.keys["clip_id"][keep]])
        text = captions.tensor(np.flatnonzero(keep))
        chance = M.audio_text_chance(caption_clip, len(clip_ids))
        return lambda audio: (M.audio_text_retrieval(audio, text, caption_clip), chance)
    if task == "audioset_a2i":
        from vipant.curation.curate import EVAL_FRAME

        frames = EmbeddingTable.load(inputs["frames"])
        image = frames.tensor(frames.rows("clip_id", clip_ids))[:, EVAL_FRAME]
        chance = {f"{d}_R@{k}": M.chance_retrieval(len(clip_ids), 1, k) for d in ("a2i", "i2a") for k in (1, 5)}
        return lambda audio: (M.modality_retrieval(audio, image, ks=(1, 5)), chance)
    prompt_table = EmbeddingTable.load(inputs[f"class_prompt_{task}"])
    prompt = prompt_table.tensor()
    noprompt = EmbeddingTable.load(inputs[f"class_noprompt_{task}"]).tensor()
    _, label_col, fold_col = TASKS[task]
    meta = (
        pd.read_csv(inputs[f"labels_{task}"], dtype=str, keep_default_na=False)
        .drop_duplicates("clip_id")
        .set_index("clip_id")
    )
    if task == "audioset_zs":
        mids = pd.read_csv(inputs["class_mids"], dtype=str, keep_default_na=False)["mid"].tolist()
        column = {m: j for j, m in enumerate(mids)}
        targets = np.zeros((len(clip_ids), len(mids)), dtype=np.int8)
        for i, labels in enumerate(meta.loc[clip_ids, label_col]):
            for m in labels.split(","):
                if m in column:
                    targets[i, column[m]] = 1
        return lambda audio: multilabel_task_metrics(audio, prompt, noprompt, targets)
    classes = prompt_table.keys["class"].astype(str).tolist()
    if label_col == "scene":
        labels = np.array([classes.index(s) for s in meta.loc[clip_ids, label_col]])
    else:  # ESC-50 target / US8K classID index the class pools, which are written in that order
        labels = meta.loc[clip_ids, label_col].astype(int).to_numpy()
    folds = meta.loc[clip_ids, fold_col].astype(int).to_numpy() if fold_col else None
    return lambda audio: classification_task_metrics(audio, prompt, noprompt, labels, folds)


def evaluate_task(
    task: str, clip_ids: list[str], audio: torch.Tensor, inputs: dict, permutations: int = 0
) -> tuple[dict, dict, dict | None]:
    """``(metrics, chance, p)`` of one task; ``p`` holds each score's permutation p-value against chance
    (``permutations`` shuffles of the clips' pairing; None when 0)."""
    import torch

    from vipant.evaluate.significance import permutation_p_values

    score = task_scorer(task, clip_ids, inputs)
    metrics, chance = score(audio)
    if not permutations:
        return metrics, chance, None
    p = permutation_p_values(
        lambda order: score(audio[torch.as_tensor(order)])[0], len(clip_ids), metrics, n_permutations=permutations
    )
    return metrics, chance, p
