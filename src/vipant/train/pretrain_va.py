"""VA pretraining (docs/design.md, Stages: pretrain_va): g_A learns to embed a clip's audio next to the frozen CLIP embedding of one
of its frames. Frame embeddings come from the cache (:mod:`vipant.embed.frames`), never from running the
image encoder; validation is audio↔image retrieval on held-out clips with their 2nd frame."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from vipant.embed.table import EmbeddingTable
from vipant.features.store import FbankStore
from vipant.models.audio_encoder import segment_mean
from vipant.train.frame_matching import FrameMatch, choose_targets
from vipant.train.loop import WarmStart
from vipant.train.loss import LOGIT_SCALE_INIT, LOGIT_SCALE_MAX, clip_loss

log = logging.getLogger(__name__)

EVAL_FRAME = 1  # vip-AnT evaluates with the 2nd of the 4 frames


def initial_logit_scale(vt: torch.nn.Module, init: str) -> float:
    """Where VA pretraining's temperature starts. vip-AnT's VA model (``cvap_dp.build``) copies CLIP's trained
    ``logit_scale`` into its loss head whenever g_A starts from CLIP's image tower (OpenAI ViT-B/32: 100); a
    randomly initialised g_A (VA-Rand) keeps the fresh 1/0.07. AT fine-tuning builds a fresh loss head."""
    if init == "clip":
        return float(vt.logit_scale.detach().float().exp().clamp(max=LOGIT_SCALE_MAX))
    return LOGIT_SCALE_INIT


def build_encoder(vt: torch.nn.Module, task: "VAPretrainTask", *, init: str, frames_length: int):
    """g_A for ``task`` from the VT's image tower (``init="clip"``) or freshly drawn (``"random"``, from the global
    RNG), with the readout the task's loss trains (Multiframe: the mean of its L segment embeddings), and the
    logit scale VA pretraining starts from. Returns ``(encoder, logit_scale)``."""
    from vipant.models.audio_encoder import AudioEncoder, training_readout

    readout, segments = training_readout(task.segments)
    encoder = AudioEncoder(vt.visual, init=init, frames=frames_length, readout=readout, segments=segments)
    return encoder, initial_logit_scale(vt, init)


def random_match_warm_start(donor_dir: str | Path, match: str, identity: dict[str, Any]) -> WarmStart | None:
    """Where a Nearest Match run can start: follow-up A's Nearest Match at n draws the same random frames as
    Random Match for epochs < n (:meth:`VAPretrainTask.start_epoch` draws them for every matching, and
    :func:`~vipant.train.frame_matching.choose_targets` uses them before n), with the same encoder and readout,
    so its first n epochs are the Random Match run's. That run (out dir ``donor_dir``, trained with
    ``keep_epochs`` holding n, its ``identity`` this run's with ``match="random"``) kept its state at epoch n.
    None for any other matching, and for n = 0 (nothing to skip)."""
    m = FrameMatch.parse(match)
    if m.kind != "nearest" or m.from_epoch == 0:
        return None
    return WarmStart(Path(donor_dir), m.from_epoch, {**identity, "match": "random"})


def label_set_retrieval(
    sim: torch.Tensor,
    label_sets: Sequence[frozenset[str]],
    ks: Sequence[int] = (1, 5, 10),
    prefix: str = "val_i2a_labelset",
) -> dict[str, float]:
    """Precision@k and recall@k (%) of ``sim``'s rows as queries, where a candidate is relevant when its label
    set equals the query's (docs/design.md, Metrics; vip-AnT figure 5): retrieving *a* clip of the same sounds counts, not only
    the query's own clip. Ties are broken against the model, as in :mod:`vipant.evaluate.metrics`. Chance
    levels (random ranking) come with them: precision = mean share of relevant clips, recall@k = k / n."""
    n = sim.shape[1]
    if sim.shape[0] != len(label_sets) or n != len(label_sets):
        raise ValueError(f"similarity {tuple(sim.shape)} does not match {len(label_sets)} label sets")
    codes = {s: i for i, s in enumerate(dict.fromkeys(label_sets))}
    code = np.array([codes[s] for s in label_sets])
    relevant = code[:, None] == code[None, :]
    scores = sim.detach().float().cpu().numpy()
    order = np.lexsort((relevant, -scores), axis=-1)  # by score, non-relevant first among equal scores
    ranked = np.take_along_axis(relevant, order, axis=1)
    n_relevant = relevant.sum(axis=1)
    out: dict[str, float] = {}
    for k in (k for k in ks if k <= n):
        hits = ranked[:, :k].sum(axis=1)
        out[f"{prefix}_P@{k}"] = float((hits / k).mean() * 100)
        out[f"{prefix}_R@{k}"] = float((hits / n_relevant).mean() * 100)
        out[f"{prefix}_chance_P@{k}"] = float((n_relevant / n).mean() * 100)
        out[f"{prefix}_chance_R@{k}"] = 100.0 * k / n
    return out


def recall_at(sim: torch.Tensor, k: int) -> float:
    """R@k (%) of row i's gold being column i; ties count against the query (pessimistic)."""
    gold = sim.diagonal()[:, None]
    rank = (sim > gold).sum(dim=1) + ((sim == gold).sum(dim=1) - 1)
    return float((rank < k).float().mean() * 100)


class VAPretrainTask:
    """AudioSet clips with FBANK features and frame embeddings."""

    def __init__(
        self,
        store: FbankStore,
        frames: EmbeddingTable,
        clip_ids: Sequence[str],
        *,
        match: str = "random",
        val_ids: Sequence[str] = (),
        frames_length: int = 1000,
        val_batch: int = 64,
        val_labels: Mapping[str, frozenset[str]] | None = None,
    ):
        have = set(frames.keys["clip_id"])
        self.clip_ids = [c for c in clip_ids if c in store and c in have]
        dropped = len(clip_ids) - len(self.clip_ids)
        if dropped:
            log.info("%d of %d training clips lack features or frames and are left out", dropped, len(clip_ids))
        if not self.clip_ids:
            raise ValueError("no training clip has both FBANK features and frame embeddings")
        self.store, self.frames, self.length = store, frames, frames_length
        self.rows = frames.rows("clip_id", self.clip_ids)
        self.n_frames = int(frames.array.shape[1])
        self.match = FrameMatch.parse(match)
        self.segments = self.match.segments(self.n_frames)
        self.val_ids = [c for c in val_ids if c in store and c in have]
        self.val_batch = val_batch
        self.val_labels = val_labels  # clip -> AudioSet label set, for label-set precision/recall (figure 5)
        self.epoch = 0
        self.choice = torch.zeros(len(self.clip_ids), dtype=torch.long)

    def __len__(self) -> int:
        return len(self.clip_ids)

    def start_epoch(self, epoch: int, generator: torch.Generator) -> None:
        self.epoch = epoch
        self.choice = torch.randint(0, self.n_frames, (len(self.clip_ids),), generator=generator)

    def audio(self, index: torch.Tensor) -> torch.Tensor:
        return self.store.batch([self.clip_ids[i] for i in index.tolist()], length=self.length)

    def targets(self, index: torch.Tensor, audio_emb: torch.Tensor) -> torch.Tensor:
        rows = self.rows[index.numpy()]
        order = np.argsort(rows)
        frames = np.empty((len(rows),) + self.frames.array.shape[1:], dtype=np.float32)
        frames[order] = self.frames.array[rows[order]]
        return choose_targets(self.match, self.epoch, torch.from_numpy(frames), self.choice[index], audio_emb)

    def validate(self, embed: Callable[[torch.Tensor], torch.Tensor]) -> dict[str, float]:
        """A→I and I→A R@1/R@5 on the validation clips (2nd frame), with chance for reference."""
        if len(self.val_ids) < 2:
            return {}
        audio = []
        for start in range(0, len(self.val_ids), self.val_batch):
            emb = embed(self.store.batch(self.val_ids[start : start + self.val_batch], length=self.length))
            audio.append(segment_mean(emb) if emb.dim() == 3 else emb)  # Multiframe: the model's own readout
        a = F.normalize(torch.cat(audio).cpu(), dim=-1)
        images = self.frames.tensor(self.frames.rows("clip_id", self.val_ids))[:, EVAL_FRAME]
        sim = a @ F.normalize(images, dim=-1).T
        n = len(self.val_ids)
        metrics = {
            "val_a2i_R@1": recall_at(sim, 1),
            "val_a2i_R@5": recall_at(sim, 5),
            "val_i2a_R@1": recall_at(sim.T, 1),
            "val_i2a_R@5": recall_at(sim.T, 5),
            "val_chance_R@1": 100.0 / n,
            "val_chance_R@5": 100.0 * min(5, n) / n,
        }
        if self.val_labels is not None:
            metrics.update(label_set_retrieval(sim.T, [self.val_labels.get(c, frozenset()) for c in self.val_ids]))
        return metrics

    def validation_loss(self, embed: Callable[[torch.Tensor], torch.Tensor], logit_scale: float, batch: int) -> float:
        """The training loss L_cst(A, I) on the held-out clips against their 2nd frame, in consecutive
        batches of ``batch`` clips, averaged over clips (Multiframe models through their segment mean).
        A held-out loss, unlike retrieval at R@k, moves before a model ranks anything first; it is what
        tells whether an initialisation starts closer to the image space (tools/probe_init.py)."""
        if len(self.val_ids) < 2:
            raise ValueError("a held-out VA loss needs at least 2 validation clips")
        images = F.normalize(self.frames.tensor(self.frames.rows("clip_id", self.val_ids))[:, EVAL_FRAME], dim=-1)
        total, n = 0.0, len(self.val_ids)
        for start in range(0, n, batch):
            ids = self.val_ids[start : start + batch]
            if len(ids) < 2:  # a lone leftover clip has no negatives: fold it out of the average
                n -= len(ids)
                continue
            emb = embed(self.store.batch(ids, length=self.length))
            a = F.normalize((segment_mean(emb) if emb.dim() == 3 else emb).float().cpu(), dim=-1)
            total += float(clip_loss(a, images[start : start + len(ids)], torch.tensor(logit_scale))) * len(ids)
        return total / n
