"""Which frame the audio is paired with during VA pretraining (vip-AnT and the temporal-agreement paper).

* ``random`` — a random one of the clip's frames, redrawn every epoch (vip-AnT);
* ``nearest@n`` — Nearest Match: random for epochs < n, then the frame whose cached embedding is most
  similar to the current audio embedding;
* ``multiframe`` — Multiframe Match: the audio is encoded into L = n_frames segment embeddings aligned
  with the frames, and the pair's similarity is the cosine of the flattened L x D matrices (targets are
  all frames, in order).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from vipant.registry import nearest_from_epoch


@dataclass(frozen=True)
class FrameMatch:
    kind: str  # "random" | "nearest" | "multiframe"
    from_epoch: int = 0  # nearest: first epoch that matches instead of sampling

    @classmethod
    def parse(cls, spec: str) -> "FrameMatch":
        if spec in ("random", "multiframe"):
            return cls(spec)
        n = nearest_from_epoch(spec)
        if n is not None:
            return cls("nearest", n)
        raise ValueError(f"unknown frame matching {spec!r}: use random, nearest@N or multiframe")

    def segments(self, n_frames: int) -> int | None:
        return n_frames if self.kind == "multiframe" else None


def choose_targets(
    match: FrameMatch, epoch: int, frames: torch.Tensor, random_choice: torch.Tensor, audio_emb: torch.Tensor
) -> torch.Tensor:
    """Targets for a batch: ``frames`` is ``[B, L, D]``, ``random_choice`` ``[B]``.

    Nearest Match ranks a clip's frames by cosine similarity to its audio embedding (the temporal-agreement
    paper's eq. 3); the frames are normalised here too, so a cache stored at reduced precision (float16, norms
    only close to 1) ranks by the angle alone."""
    rows = torch.arange(frames.shape[0])
    if match.kind == "multiframe":
        return frames
    if match.kind == "nearest" and epoch >= match.from_epoch:
        audio = F.normalize(audio_emb.float().cpu(), dim=-1)
        sim = torch.einsum("bd,bld->bl", audio, F.normalize(frames.float(), dim=-1))
        return frames[rows, sim.argmax(dim=1)]
    return frames[rows, random_choice]
