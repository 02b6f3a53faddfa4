"""Diagnostic of follow-up A: which frame does Nearest Match pair a clip with, against the world's truth?

Nearest Match pairs each clip with the one of its frames whose cached embedding is closest to the clip's
current audio embedding. It helps when that is the frame that shows what sounds. For each trained VA
model (``models/va/<name>/model.pt``), over the VA training clips, with the world's ground truth (which
objects are on screen and which sources sound at each frame's time):

* ``random``: share of all frames that show a sounding source (what a random frame gets);
* ``nearest``: the same share for the frame the model's audio embedding is closest to;
* ``best``: share of clips with at least one such frame (what a perfect matcher gets);
* ``same_position``: share of clips whose nearest frame is the model's most common position (25 % when the
  choice does not depend on position; near 100 % when every clip picks the same slot).

It reads a built synthetic work dir (FBANK, cached frame embeddings, trained VA models) and no test table.

    python tools/probe_matching.py data/synthetic --models tm_nearest0_s0 tm_random_s1 vipant
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
import yaml

from vipant.embed.audio import embed_clips
from vipant.embed.table import EmbeddingTable
from vipant.features.frames import frame_times
from vipant.features.store import FbankStats, FbankStore
from vipant.models.audio_encoder import load_audio_model


def shows_sounding(truth: dict, times: list[float]) -> list[bool]:
    """Per frame time (seconds from the segment start): is a non-distractor object on screen whose source
    sounds then?"""
    out = []
    for t in times:
        sounding = {e["source"] for e in truth["events"] if e["onset"] <= t < e["offset"]}
        out.append(
            any(
                not o["distractor"] and o["source"] in sounding and o["visible"][0] <= t < o["visible"][1]
                for o in truth["objects"]
            )
        )
    return out


def match_stats(audio: np.ndarray, frames: np.ndarray, shown: np.ndarray) -> dict[str, float]:
    """``audio`` ``[N, D]``, ``frames`` ``[N, L, D]``, ``shown`` ``[N, L]`` booleans: the shares above (%)."""
    a = F.normalize(torch.as_tensor(audio, dtype=torch.float32), dim=-1)
    f = F.normalize(torch.as_tensor(frames, dtype=torch.float32), dim=-1)
    pick = torch.einsum("nd,nld->nl", a, f).argmax(dim=1).numpy()
    rows = np.arange(len(pick))
    return {
        "random": 100.0 * float(shown.mean()),
        "nearest": 100.0 * float(shown[rows, pick].mean()),
        "best": 100.0 * float(shown.any(axis=1).mean()),
        "same_position": 100.0 * float(np.bincount(pick, minlength=frames.shape[1]).max() / len(pick)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("work_dir", type=Path)
    ap.add_argument("--models", nargs="+", required=True, help="names under <work_dir>/models/va/")
    ap.add_argument("--config", type=Path, default=Path("config.yaml"), help="its synthetic preset's va.frames_length")
    args = ap.parse_args()
    w = args.work_dir
    frames_length = yaml.safe_load(args.config.read_text())["presets"]["synthetic"]["va"]["frames_length"]
    truth = {t["ytid"]: t for t in map(json.loads, (w / "world/truth/clips.jsonl").read_text().splitlines())}
    table = EmbeddingTable.load(w / "embed/frames.csv")
    store = FbankStore(w / "fbank/audioset/index.csv", FbankStats.load(w / "fbank/stats.json"), length=frames_length)
    clips = [c for c in pd.read_csv(w / "meta/va_train.csv", dtype=str)["clip_id"] if c in store]
    frames = table.tensor(table.rows("clip_id", clips)).numpy()
    times = frame_times(frames.shape[1])
    shown = np.array([shows_sounding(truth[c.rsplit("_", 1)[0]], times) for c in clips])
    for name in args.models:
        model, _ = load_audio_model(w / "models/va" / name / "model.pt")
        with torch.no_grad():
            have, audio = embed_clips(model, store, clips)
        assert have == clips
        s = match_stats(audio.numpy(), frames, shown)
        print(
            f"{name}: {len(clips)} clips; frame shows a sounding source: random {s['random']:.1f} %, nearest "
            f"{s['nearest']:.1f} %, best {s['best']:.1f} %; nearest frame at its most common position "
            f"{s['same_position']:.1f} %"
        )


if __name__ == "__main__":
    main()
