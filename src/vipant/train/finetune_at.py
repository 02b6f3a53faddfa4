"""AT fine-tuning (docs/design.md, Stages: finetune_at): g_A, initialised from a VA-pretrained checkpoint, learns L_cst(A, T) on a
curated pair list; the text side is the frozen CLIP text encoder, read from the text-embedding cache."""

from __future__ import annotations

import logging
from typing import Callable, Sequence

import pandas as pd
import torch
import torch.nn.functional as F

from vipant.embed.table import EmbeddingTable
from vipant.features.store import FbankStore
from vipant.train.loss import LOGIT_SCALE_INIT, LogitScale, clip_loss
from vipant.train.soft_label import soft_label_loss

log = logging.getLogger(__name__)


class ATFinetuneTask:
    """Pairs (clip, caption) where the caption is a row of a cached text pool."""

    # one embedding per clip, through the encoder's recorded readout: a Multiframe model (segment_mean) is
    # fine-tuned through the segment mean its VA loss trained, never through its untrained CLS output
    segments = None

    def __init__(
        self,
        store: FbankStore,
        pairs: pd.DataFrame,
        texts: EmbeddingTable,
        *,
        frames_length: int = 1000,
        val: tuple[Sequence[str], EmbeddingTable, Sequence[int]] | None = None,
        val_batch: int = 64,
    ):
        keep = pairs["clip_id"].isin(set(store.clip_ids))
        if (~keep).any():
            log.info("%d of %d pairs have no FBANK features and are left out", int((~keep).sum()), len(pairs))
        pairs = pairs[keep].reset_index(drop=True)
        if pairs.empty:
            raise ValueError("no curated pair has FBANK features")
        self.clip_ids = pairs["clip_id"].tolist()
        self.text_rows = torch.as_tensor(pairs["text_row"].to_numpy(copy=True), dtype=torch.long)
        self.texts = texts.tensor()
        self.store, self.length = store, frames_length
        self.val = val
        self.val_batch = val_batch

    def __len__(self) -> int:
        return len(self.clip_ids)

    def start_epoch(self, epoch: int, generator: torch.Generator) -> None:
        pass

    def audio(self, index: torch.Tensor) -> torch.Tensor:
        return self.store.batch([self.clip_ids[i] for i in index.tolist()], length=self.length)

    def targets(self, index: torch.Tensor, audio_emb: torch.Tensor) -> torch.Tensor:
        return self.texts[self.text_rows[index]]

    def validate(self, embed: Callable[[torch.Tensor], torch.Tensor]) -> dict[str, float]:
        """T→A R@1/R@10 on validation captions (one query per caption, its clip as gold).

        Scored by :func:`vipant.evaluate.metrics.retrieval_metrics`, the evaluation's own metric, so ties
        count against the model: a collapsed (constant) embedding scores chance, not 100.
        """
        from vipant.evaluate.metrics import cosine_similarity, retrieval_metrics

        if self.val is None:
            return {}
        clip_ids, table, caption_clip = self.val
        audio = torch.cat(
            [
                embed(self.store.batch(list(clip_ids[s : s + self.val_batch]), length=self.length))
                for s in range(0, len(clip_ids), self.val_batch)
            ]
        ).cpu()
        sim = cosine_similarity(table.tensor(), audio)  # [captions, clips]
        t2a = retrieval_metrics(sim, torch.as_tensor(caption_clip), ks=(1, 10))
        return {"val_t2a_R@1": t2a["R@1"], "val_t2a_R@10": t2a["R@10"]}


# ---- VAT fine-tuning (vip-AnT appendix E) ---------------------------------------------------------------
class VATFinetuneTask(ATFinetuneTask):
    """VAT instead of AT fine-tuning: L_cst(A, T) + L_cst(V, A) on the same pair list (vip-AnT appendix E).

    This is the tri-modal loss (Equation 2) with g_V and g_T frozen, so its L_cst(V, T) term is a constant
    and drops out. The image side is the cached CLIP embedding of one of the clip's frames, drawn at random
    per clip and epoch as in VA pretraining. Each term has its own learnable logit scale, as vip-AnT builds one
    loss head per modality pair (``VALCELossHead`` in ``cvap/module/decoder/loss_head.py``, each a fresh
    ``CELossHead`` at 1/0.07): L_cst(A, T) uses the loop's scale, L_cst(V, A) the task's :attr:`loss_head`,
    which the loop trains, saves and resumes with g_A. Pairs whose clip has no frame embeddings cannot take
    the V term and are left out (logged).
    """

    def __init__(
        self,
        store: FbankStore,
        pairs: pd.DataFrame,
        texts: EmbeddingTable,
        frames: EmbeddingTable,
        *,
        image_scale_init: float = LOGIT_SCALE_INIT,
        **kwargs,
    ):
        keep = pairs["clip_id"].isin(set(frames.keys["clip_id"]))
        if (~keep).any():
            log.info("VAT: %d of %d pairs have no frame embeddings and are left out", int((~keep).sum()), len(pairs))
        super().__init__(store, pairs[keep].reset_index(drop=True), texts, **kwargs)
        self.frames = frames
        self.frame_rows = frames.rows("clip_id", self.clip_ids)
        self.n_frames = int(frames.array.shape[1])
        self.choice = torch.zeros(len(self.clip_ids), dtype=torch.long)
        self.loss_head = LogitScale(image_scale_init)  # L_cst(V, A)'s temperature, apart from L_cst(A, T)'s

    def start_epoch(self, epoch: int, generator: torch.Generator) -> None:
        self.choice = torch.randint(0, self.n_frames, (len(self.clip_ids),), generator=generator)

    def frame_targets(self, index: torch.Tensor) -> torch.Tensor:
        """``[B, D]``: this epoch's frame embedding of each clip in the batch."""
        frames = self.frames.tensor(self.frame_rows[index.numpy()])  # [B, n_frames, D]
        return frames[torch.arange(len(index)), self.choice[index]]

    def loss(self, index: torch.Tensor, audio_emb: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
        text = self.targets(index, audio_emb.detach()).to(audio_emb.device)
        image = self.frame_targets(index).to(audio_emb.device)
        return clip_loss(audio_emb, text, logit_scale) + clip_loss(audio_emb, image, self.loss_head())


# ---- teacher-student fine-tuning (follow-up B: replay and soft labels) ----------------------------------
class StudentTask(ATFinetuneTask):
    """Follow-up B's student: AT fine-tuning on a teacher-curated improvement set, with replay and SL.

    *Replay* (section 3.2, against catastrophic forgetting): each batch is, with probability
    ``replay_prob``, replaced by a random batch of the replay set (the teacher's training pairs; the DS
    set for ADS). An epoch keeps its number of steps (``len(self)`` counts improvement pairs only); a
    replaced batch's improvement pairs simply wait for the next epoch's shuffle. Replay pairs sit after
    the improvement pairs in ``clip_ids``/``text_rows``, so indices ``>= len(self)`` are replay pairs.

    *Soft labels* (section 2.3): with ``soft_label_alpha`` set, the loss is
    :func:`vipant.train.soft_label.soft_label_loss`. The teacher's text side is the frozen CLIP text
    encoder, i.e. the cached caption embeddings the targets already are; its audio side is the teacher
    g_A's embedding of each clip, computed once before training (``teacher_audio``), never per step.
    Without ``soft_label_alpha`` the loss is the ordinary ``clip_loss``.
    """

    def __init__(
        self,
        store: FbankStore,
        pairs: pd.DataFrame,
        texts: EmbeddingTable,
        *,
        replay: pd.DataFrame | None = None,
        replay_prob: float = 0.5,
        soft_label_alpha: float | None = None,
        teacher_audio: EmbeddingTable | None = None,
        **kwargs,
    ):
        super().__init__(store, pairs, texts, **kwargs)
        if not 0.0 <= replay_prob <= 1.0:
            raise ValueError(f"replay probability must lie in [0, 1], got {replay_prob}")
        self.n_improve = len(self.clip_ids)
        self.n_replay = 0
        self.replay_prob = replay_prob if replay is not None else 0.0
        if replay is not None:
            keep = replay["clip_id"].isin(set(store.clip_ids))
            if not keep.any():
                raise ValueError("no replay pair has FBANK features")
            if (~keep).any():
                log.info(
                    "%d of %d replay pairs have no FBANK features and are left out", int((~keep).sum()), len(replay)
                )
            replay = replay[keep]
            self.n_replay = len(replay)
            self.clip_ids = self.clip_ids + replay["clip_id"].tolist()
            self.text_rows = torch.cat(
                [self.text_rows, torch.as_tensor(replay["text_row"].to_numpy(copy=True), dtype=torch.long)]
            )
        if int(self.text_rows.max()) >= len(self.texts):
            raise ValueError(
                f"pairs point at text row {int(self.text_rows.max())} but the pool has {len(self.texts)} rows"
            )
        self.alpha = soft_label_alpha
        self.teacher_audio = None
        if soft_label_alpha is not None:
            if teacher_audio is None:
                raise ValueError("soft labels need the teacher's audio embeddings (teacher_audio)")
            self.teacher_audio = teacher_audio.tensor(teacher_audio.rows("clip_id", self.clip_ids))

    def __len__(self) -> int:
        return self.n_improve

    def epoch_order(self, generator: torch.Generator, batch: int) -> torch.Tensor:
        """The epoch's example order; with replay, whole batches are swapped for replay batches."""
        order = torch.randperm(self.n_improve, generator=generator)
        if not self.n_replay or self.replay_prob == 0.0:
            return order
        for step in range(max(self.n_improve // batch, 1)):
            if float(torch.rand(1, generator=generator)) < self.replay_prob:
                if self.n_replay >= batch:
                    pick = torch.randperm(self.n_replay, generator=generator)[:batch]
                else:  # a replay set smaller than a batch: draw with replacement
                    pick = torch.randint(0, self.n_replay, (batch,), generator=generator)
                order[step * batch : (step + 1) * batch] = self.n_improve + pick
        return order

    def loss(self, index: torch.Tensor, audio_emb: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
        text = self.targets(index, audio_emb.detach()).to(audio_emb.device)
        if self.alpha is None:
            return clip_loss(audio_emb, text, logit_scale)
        teacher_audio = self.teacher_audio[index].to(audio_emb.device)
        return soft_label_loss(audio_emb, text, teacher_audio, text, logit_scale, alpha=self.alpha)

    def validation_loss(self, embed: Callable[[torch.Tensor], torch.Tensor], logit_scale: float, batch: int) -> float:
        """The hard contrastive loss L_cst on the validation pairs (each validation clip with its first
        caption), in consecutive batches of ``batch`` pairs, averaged over pairs; what the training loop's
        ``keep_best`` selects on. The released student trainer (``softclap_train.py`` in
        ``zhepeiw/clap_curation``) keeps its min-``loss`` checkpoint, validating on a held-out 17 % of its
        training pairs with no teacher embeddings, i.e. identity targets (``SoftCLAPLoss``'s ``None``
        branch): the hard loss, as here. Ours validates on the AudioCaps validation captions instead.

        Computed on every rank from the whole validation set, so no negatives are gathered across ranks.
        """
        if self.val is None:
            raise ValueError("a student's validation loss needs validation captions (--val-text)")
        clip_ids, table, caption_clip = self.val
        first = {}
        for row, clip in enumerate(caption_clip):
            first.setdefault(clip, row)
        clips = sorted(first)
        text = table.tensor()[[first[c] for c in clips]]
        total = 0.0
        for s in range(0, len(clips), batch):
            chunk = clips[s : s + batch]
            audio = embed(self.store.batch([clip_ids[c] for c in chunk], length=self.length)).float().cpu()
            logits = logit_scale * F.normalize(audio, dim=-1) @ F.normalize(text[s : s + batch], dim=-1).T
            gold = torch.arange(len(chunk))
            total += 0.5 * float(
                F.cross_entropy(logits, gold, reduction="sum") + F.cross_entropy(logits.T, gold, reduction="sum")
            )
        return total / len(clips)


# ---- inputs of the tasks ---------------------------------------------------------------------------------
def validation_captions(
    table: EmbeddingTable, have_features: Sequence[str]
) -> tuple[list[str], EmbeddingTable, list[int]]:
    """The tasks' ``val``: the validation captions whose clip has FBANK features, their clips (in first-seen
    order) and, per caption, its clip's position in that list."""
    keep = table.keys["clip_id"].isin(set(have_features)).to_numpy()
    table = EmbeddingTable(table.keys[keep].reset_index(drop=True), table.array[keep])
    clip_ids = list(dict.fromkeys(table.keys["clip_id"]))
    position = {c: i for i, c in enumerate(clip_ids)}
    return clip_ids, table, [position[c] for c in table.keys["clip_id"]]


def student_task(
    store: FbankStore,
    pairs: pd.DataFrame,
    *,
    pairs_path: str,
    text: str,
    replay_pairs: str | None = None,
    replay_prob: float = 0.5,
    soft_label_alpha: float | None = None,
    teacher_audio: str | None = None,
    frames_length: int = 1000,
    val: tuple[Sequence[str], EmbeddingTable, Sequence[int]] | None = None,
) -> StudentTask:
    """Follow-up B's student task from its files: ``text`` (embedding table of the pool ``text_row`` points
    into), ``replay_pairs`` (pair list) and ``teacher_audio`` (the teacher's cached audio embeddings).
    Input problems are reported with the file they come from (``pairs_path`` is the file of ``pairs``)."""
    replay = None
    if replay_pairs:
        replay = pd.read_csv(replay_pairs, dtype={"clip_id": str}, keep_default_na=False)
        missing = {"clip_id", "text_row"} - set(replay.columns)
        if missing:
            raise ValueError(f"{replay_pairs}: replay pair list lacks columns {sorted(missing)}")
    teacher = None
    if soft_label_alpha is not None:
        if not teacher_audio:
            raise ValueError("--soft-label-alpha needs --teacher-audio (the teacher's cached audio embeddings)")
        teacher = EmbeddingTable.load(teacher_audio)
    try:
        return StudentTask(
            store,
            pairs,
            EmbeddingTable.load(text),
            replay=replay,
            replay_prob=replay_prob,
            soft_label_alpha=soft_label_alpha,
            teacher_audio=teacher,
            frames_length=frames_length,
            val=val,
        )
    except KeyError as err:
        raise ValueError(
            f"{teacher_audio}: teacher audio embeddings miss clips of {pairs_path} or {replay_pairs}: {err}"
        ) from err
    except ValueError as err:
        raise ValueError(f"{pairs_path} / {replay_pairs} with pool {text}: {err}") from err


def finetune_task(
    store: FbankStore,
    pairs: pd.DataFrame,
    *,
    pairs_path: str,
    text: str,
    vat_frames: str | None = None,
    replay_pairs: str | None = None,
    replay_prob: float = 0.5,
    soft_label_alpha: float | None = None,
    teacher_audio: str | None = None,
    frames_length: int = 1000,
    val: tuple[Sequence[str], EmbeddingTable, Sequence[int]] | None = None,
) -> tuple[ATFinetuneTask, str]:
    """The fine-tuning task a command's options ask for, and its objective's name: VAT (``vat_frames``, vip-AnT
    appendix E: + L_cst(V, A) against cached frame embeddings), follow-up B's student (``replay_pairs`` and/or
    ``soft_label_alpha``), or plain AT."""
    student = bool(replay_pairs or soft_label_alpha is not None)
    if vat_frames and student:
        raise ValueError("--vat-frames cannot be combined with --replay-pairs / --soft-label-alpha")
    if vat_frames:
        table = EmbeddingTable.load(text)
        return VATFinetuneTask(
            store, pairs, table, EmbeddingTable.load(vat_frames), frames_length=frames_length, val=val
        ), "VAT"
    if student:
        task = student_task(
            store,
            pairs,
            pairs_path=pairs_path,
            text=text,
            replay_pairs=replay_pairs,
            replay_prob=replay_prob,
            soft_label_alpha=soft_label_alpha,
            teacher_audio=teacher_audio,
            frames_length=frames_length,
            val=val,
        )
        return task, "AT"
    return ATFinetuneTask(store, pairs, EmbeddingTable.load(text), frames_length=frames_length, val=val), "AT"


def student_logit_scale(state: dict, checkpoint: str) -> float:
    """Follow-up B: a student starts from its teacher, logit scale included (the teacher's checkpoint
    ``state``, read from ``checkpoint``)."""
    if "logit_scale" not in state:
        raise ValueError(
            f"{checkpoint}: the teacher checkpoint records no logit_scale "
            "(written before AT fine-tuning saved it): re-run the teacher's fine-tuning"
        )
    return float(state["logit_scale"])
