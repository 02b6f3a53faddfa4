"""``vipant evaluate``: every task of one model in one job, one ``metrics.json`` per (model, task).

The audio side is embedded here with the model's g_A (or, for OracleAV-CLIP, taken from the cached
2nd-frame embeddings); the text side always comes from the text-embedding cache.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from vipant.commands.common import tracked

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

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


def _clip_ids(task: str, inputs: dict) -> list[str]:
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


def _audio(task: str, inputs: dict, model, frames_length: int, device) -> tuple[list[str], torch.Tensor]:
    from vipant.embed.table import EmbeddingTable
    from vipant.curation.curate import EVAL_FRAME

    clip_ids = _clip_ids(task, inputs)
    if model == "frames":  # OracleAV-CLIP: the clip's middle frame stands in for its audio
        table = EmbeddingTable.load(inputs["frames"])
        have = [c for c in clip_ids if c in set(table.keys["clip_id"])]
        return have, table.tensor(table.rows("clip_id", have))[:, EVAL_FRAME]
    from vipant.embed.audio import embed_clips
    from vipant.features.store import FbankStats, FbankStore

    collection = TASKS[task][0]
    store = FbankStore(inputs[f"fbank_{collection}"], FbankStats.load(inputs["fbank_stats"]), length=frames_length)
    return embed_clips(model, store, clip_ids, device=device)


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
    meta = pd.read_csv(inputs[f"labels_{task}"], dtype=str, keep_default_na=False).drop_duplicates("clip_id").set_index("clip_id")
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


def evaluate_task(task: str, clip_ids: list[str], audio: torch.Tensor, inputs: dict,
                  permutations: int = 0) -> tuple[dict, dict, dict | None]:
    """``(metrics, chance, p)`` of one task; ``p`` holds each score's permutation p-value against chance
    (``permutations`` shuffles of the clips' pairing; None when 0)."""
    import torch
    from vipant.evaluate.significance import permutation_p_values

    score = task_scorer(task, clip_ids, inputs)
    metrics, chance = score(audio)
    if not permutations:
        return metrics, chance, None
    p = permutation_p_values(lambda order: score(audio[torch.as_tensor(order)])[0], len(clip_ids), metrics,
                             n_permutations=permutations)
    return metrics, chance, p


def run(args) -> None:
    import torch
    from vipant.tables import write_metrics

    inputs = json.loads(args.inputs_json)
    lengths = json.loads(args.frames_json)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.model == "frames":
        model = "frames"
    else:
        from vipant.models.audio_encoder import load_audio_model

        model, _ = load_audio_model(args.model, device)
        log.info("%s: read through its recorded %s readout", args.model, model.readout)
    out_dir = Path(args.out_dir)
    with tracked(args.track_json, model=args.model_name, tasks=args.tasks) as mlrun:
        from vipant.progress import track

        for task in track(args.tasks.split(","), f"evaluate {args.model_name}", unit="tasks"):
            collection = TASKS[task][0]
            # a task may ask for its own input length (Table 8's 10 s Clotho); else the collection's
            clip_ids, audio = _audio(task, inputs, model, int(lengths.get(task, lengths[collection])), device)
            metrics, chance, p = evaluate_task(task, clip_ids, audio, inputs, args.permutations)
            write_metrics(out_dir / task / "metrics.json", args.model_name, task, metrics, chance, len(clip_ids), p=p)
            mlrun.log_artifact(out_dir / task / "metrics.json", artifact_path=task)
            mlrun.log_metrics({f"{task}.{k}": v for k, v in metrics.items() if isinstance(v, (int, float))})
            mlrun.log_metrics({f"{task}.p.{k}": v for k, v in (p or {}).items()})
            log.info("%s / %s: %s", args.model_name, task,
                     ", ".join(f"{k}={v:.1f}" for k, v in metrics.items() if isinstance(v, float))[:300])


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="evaluate one model on a list of tasks (one metrics.json each)")
    p.add_argument("--model-name", required=True, help="row key, e.g. vipant, at_AC, oracle_av_clip")
    p.add_argument("--model", required=True, help="audio-encoder checkpoint, or 'frames' (OracleAV-CLIP)")
    p.add_argument("--tasks", required=True, help="comma-separated: " + ", ".join(TASKS))
    p.add_argument("--inputs-json", required=True, help="named input files (fbank_<collection>, captions_<task>, ...)")
    p.add_argument("--frames-json", required=True, help="FBANK frames fed to g_A per collection (a task key overrides)")
    p.add_argument("--out-dir", required=True, help="metrics go to <out-dir>/<task>/metrics.json")
    p.add_argument("--permutations", type=int, default=0,
                   help="shuffles of the clip pairing for each score's p-value against chance (0: none)")
    p.add_argument("--track-json")
    p.set_defaults(func=run)
