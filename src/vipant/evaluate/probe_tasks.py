"""The linear-probe tasks of ``vipant linear-probe`` (vip-AnT appendix C, table 7): one model's cached g_A
features and the task's labels, handed to :mod:`vipant.evaluate.linear_probe`.

A probe task is named by a key of :data:`TASKS`, which gives the embedding table it reads and the label
and fold columns of its annotation file: ESC-50 and US8K are single-label and cross-validated over their
folds; AudioSet is multi-label, trained on the balanced training split and tested on the eval split.
Its inputs are named files in a dict (``<collection>`` or ``audioset_train`` / ``audioset_eval``
feature tables, ``labels_<collection>``, ``classes_<collection>``), as the workflow passes them in
``--inputs-json``.

Heavy imports happen inside the functions: the command's parser lists :data:`TASKS` and ``vipant
--help`` stays fast.
"""

from __future__ import annotations

# task -> (embedding tables it reads, label column, fold column)
TASKS = {
    "esc50_probe": ("esc50", "target", "fold"),
    "us8k_probe": ("us8k", "classID", "fold"),
    "audioset_probe": ("audioset", "labels", None),
}


def _load(inputs: dict, key: str):
    from vipant.embed.table import EmbeddingTable

    if key not in inputs:
        raise ValueError(f"linear-probe: input {key!r} missing from --inputs-json (have {sorted(inputs)})")
    return EmbeddingTable.load(inputs[key])


def _meta(path: str, columns: list[str]):
    import pandas as pd

    meta = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in ["clip_id", *columns] if c not in meta.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    return meta.drop_duplicates("clip_id").set_index("clip_id")


def _n_classes(path: str) -> int:
    import pandas as pd

    n = len(pd.read_csv(path, dtype=str, keep_default_na=False))
    if n < 2:
        raise ValueError(f"{path}: a classification task needs at least 2 classes, found {n}")
    return n


def probe_task(task: str, inputs: dict, cfg) -> tuple[dict, dict, int]:
    """(metrics, chance, n clips) of one probe task from the cached embeddings and the label files."""
    import numpy as np

    from vipant.evaluate.linear_probe import classification_probe, multilabel_probe

    name, label_col, fold_col = TASKS[task]
    if task == "audioset_probe":
        train, test = _load(inputs, "audioset_train"), _load(inputs, "audioset_eval")
        meta = _meta(inputs["labels_audioset"], [label_col])
        import pandas as pd

        mids = pd.read_csv(inputs["classes_audioset"], dtype=str, keep_default_na=False)["mid"].tolist()
        column = {m: j for j, m in enumerate(mids)}

        def targets(clip_ids):
            missing = [c for c in clip_ids if c not in meta.index]
            if missing:
                raise ValueError(f"{inputs['labels_audioset']}: no labels for clip {missing[0]!r}")
            t = np.zeros((len(clip_ids), len(mids)), dtype=np.int8)
            for i, labels in enumerate(meta.loc[clip_ids, label_col]):
                for m in labels.split(","):
                    if m in column:
                        t[i, column[m]] = 1
            return t

        train_ids, test_ids = train.keys["clip_id"].tolist(), test.keys["clip_id"].tolist()
        overlap = set(train_ids) & set(test_ids)
        if overlap:
            raise ValueError(f"clip {sorted(overlap)[0]!r} is in both the AudioSet training and eval embeddings")
        metrics, chance = multilabel_probe(train.tensor(), targets(train_ids), test.tensor(), targets(test_ids), cfg)
        return metrics, chance, len(test_ids)
    table = _load(inputs, name)
    clip_ids = table.keys["clip_id"].tolist()
    meta = _meta(inputs[f"labels_{name}"], [label_col, fold_col])
    missing = [c for c in clip_ids if c not in meta.index]
    if missing:
        raise ValueError(f"{inputs[f'labels_{name}']}: no label for clip {missing[0]!r}")
    labels = meta.loc[clip_ids, label_col].astype(int).to_numpy()
    folds = meta.loc[clip_ids, fold_col].astype(int).to_numpy()
    metrics, chance = classification_probe(
        table.tensor(), labels, folds, clip_ids, _n_classes(inputs[f"classes_{name}"]), cfg
    )
    return metrics, chance, len(clip_ids)
