"""Text pools: every list of texts the frozen text encoder must embed, written once as CSVs.

Raw pools hold captions as they are (fine-tuning and evaluation use them); ``*_prompted`` pools hold the
same rows with the retrieval prompt of docs/design.md (Curation) prefixed ("the sound of" for audio captions, "a photo of"
for vision captions), used only to pick captions for frames. Evaluation pools keep a ``clip_id`` per
caption; label pools keep the class name, with and without the zero-shot prompt.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from vipant.atomic import write_csv
from vipant.datasets import audiocaps, audioset, clotho, coco, esc50, tut17, us8k
from vipant.evaluate.zero_shot import class_prompts

log = logging.getLogger(__name__)

AUDIO_PROMPT = "the sound of "
PHOTO_PROMPT = "a photo of "
THIS_IS_PROMPT = "this is a sound of "  # follow-up B's class prompt (after CLAP)
THIS_IS_TASKS = ("esc50", "us8k", "tut17")


def _unique(texts) -> list[str]:
    return list(dict.fromkeys(t for t in texts if t))


def _write_pair(out_dir: Path, name: str, texts: list[str], prompt: str) -> None:
    write_csv(out_dir / f"{name}.csv", pd.DataFrame({"text": texts}))
    write_csv(out_dir / f"{name}_prompted.csv", pd.DataFrame({"text": [prompt + t for t in texts]}))


def _labels(out_dir: Path, task: str, names: list[str]) -> None:
    write_csv(out_dir / f"labels_{task}_prompt.csv", pd.DataFrame({"class": names, "text": class_prompts(names, True)}))
    write_csv(
        out_dir / f"labels_{task}_noprompt.csv", pd.DataFrame({"class": names, "text": class_prompts(names, False)})
    )
    if task in THIS_IS_TASKS:  # follow-up B: DS curation keeps captions close to these prompts
        texts = [THIS_IS_PROMPT + t for t in class_prompts(names, False)]
        write_csv(out_dir / f"labels_{task}_thisis.csv", pd.DataFrame({"class": names, "text": texts}))


def build_text_pools(raw: Path, layout: dict[str, str], out_dir: Path) -> None:
    """Write every pool except the generated free captions (see :mod:`vipant.curation.free_captions`)."""
    caps = {
        s: audiocaps.read_split(raw / "audiocaps" / f"{s}.csv", on_error="skip")[0] for s in ("train", "val", "test")
    }
    clotho_dev = clotho.read_captions(raw / "clotho" / "clotho_captions_development.csv", on_error="skip")
    clotho_eval = clotho.read_captions(raw / "clotho" / "clotho_captions_evaluation.csv", on_error="skip")
    coco_train = coco.read_captions(raw / "coco" / "annotations" / "captions_train2017.json", on_error="skip")[1]

    # AC: AudioCaps train + Clotho development captions, without their pairing (vip-AnT footnote 6).
    _write_pair(
        out_dir,
        "ac",
        _unique(list(caps["train"]["caption"]) + [c for t in clotho_dev["captions"] for c in t]),
        AUDIO_PROMPT,
    )
    _write_pair(out_dir, "vc", _unique(coco_train["caption"]), PHOTO_PROMPT)
    write_csv(out_dir / "audiocaps_train.csv", pd.DataFrame({"text": _unique(caps["train"]["caption"])}))
    for split in ("val", "test"):
        write_csv(
            out_dir / f"audiocaps_{split}.csv", caps[split][["clip_id", "caption"]].rename(columns={"caption": "text"})
        )
    rows = [(cid, c) for cid, t in zip(clotho_eval["clip_id"], clotho_eval["captions"]) for c in t]
    write_csv(out_dir / "clotho_evaluation.csv", pd.DataFrame(rows, columns=["clip_id", "text"]))

    classes = audioset.read_class_indices(raw / "audioset" / "class_labels_indices.csv")
    write_csv(
        out_dir / "audioset_labels.csv", classes[["mid", "display_name"]].rename(columns={"display_name": "text"})
    )
    _labels(out_dir, "audioset", classes["display_name"].tolist())
    root = raw / "esc50" / layout["esc50"]
    meta = esc50.read_meta(root / "meta" / "esc50.csv")
    _labels(out_dir, "esc50", meta.drop_duplicates("target").sort_values("target")["category"].tolist())
    meta = us8k.read_meta(raw / "us8k" / layout["us8k"] / "metadata" / "UrbanSound8K.csv")
    _labels(out_dir, "us8k", meta.drop_duplicates("classID").sort_values("classID")["class"].tolist())
    meta = tut17.read_meta(raw / "tut17" / layout["tut17"] / "meta.txt")
    _labels(out_dir, "tut17", sorted(meta["scene"].unique()))
    log.info("text pools written to %s", out_dir)
