"""The contrastive training loop shared by VA pretraining and AT fine-tuning (open_clip's trainer shape).

What differs between the two lives in a :class:`ContrastiveTask`: which examples exist, their FBANK
features, and the frozen-side targets (cached frame or caption embeddings). The loop owns everything
else: LARS with the recipe's two learning rates (docs/design.md, Training recipes; scaled by the batch actually used), vip-AnT's warm-up + cosine
per step, SpecAugment, bf16 autocast on
CUDA (and on the CPU when ``cpu_precision`` asks for it), DDP under ``torchrun`` (negatives gathered
across ranks), one checkpoint per epoch and resuming.

On CUDA the model is ``torch.compile``d and the next batches' features are read (and pinned) by
background threads while the GPU trains on the current one; ``vipant bench train`` prints what each is
worth. On CPU the loop runs eagerly and reads each batch in turn, so loader threads do not compete with
the compute threads for the same cores.

Determinism: every random choice of an epoch (shuffling, frame sampling, SpecAugment masks) comes from
generators seeded by ``(seed, epoch)``, so a run killed after epoch k and resumed from its checkpoint
takes exactly the steps an uninterrupted run takes (on CPU: bit-identical weights). The same holds across
runs: a run that would take another run's steps for its first k epochs (follow-up A's Nearest Match at k
trains as Random Match until epoch k) can start from the state that run kept at epoch k (:class:`WarmStart`)
and skip them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, Sequence

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from vipant.checkpoint import load_checkpoint, save_checkpoint
from vipant.progress import Progress
from vipant.train.lars import LARS, lars_param_groups
from vipant.train.loss import LOGIT_SCALE_INIT, LogitScale, clip_loss
from vipant.train.precision import autocast
from vipant.train.schedule import lars_warmup_cosine, set_lr
from vipant.train.specaugment import spec_augment

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """One training run's recipe (docs/design.md, Training recipes); the synthetic preset scales sizes and epochs down."""

    epochs: int = 25  # passes over the examples
    batch_size: int = 432  # global batch (split across DDP ranks)
    lr_weights: float = 0.2  # LR of >=2-D weights per 256 examples (scaled by batch/256)
    lr_biases: float = 0.0048  # LR of biases, norms, logit scale per 256 examples
    weight_decay: float = 1e-6  # on >=2-D weights only
    warmup_epochs: float = 10  # linear warm-up, then cosine to 0.001 x base (vip-AnT)
    momentum: float = 0.9  # LARS momentum
    trust_coefficient: float = 0.001  # LARS eta
    spec_augment: bool = True  # one time mask (<=1/5) and one frequency mask (<=1/4) per clip
    seed: int = 0  # seeds shuffling, frame choice and masks
    precision: str = "bf16"  # autocast dtype on CUDA: bf16 or fp32
    cpu_precision: str = "fp32"  # autocast dtype on the CPU: fp32, or bf16 where the CPU has bf16 instructions
    device: str = "auto"  # "auto": CUDA when available
    compile: bool = True  # torch.compile the model on CUDA (the CPU always runs eagerly)
    loader_threads: int = 4  # on CUDA: threads reading the next batches during a step (0: read in turn)
    crash_after_epoch: int = -1  # testing only: exit hard after saving this evaluation's checkpoint (0-based)
    max_steps: int | None = None  # step budget: this many optimiser steps, cycling epochs; warm-up/cosine span them
    eval_every: int | None = None  # optimiser steps between evaluations and checkpoints (None: at each epoch's end)
    keep_best: bool = False  # keep the weights of the evaluation with the lowest task.validation_loss
    log_every: int = 50  # optimiser steps between the loss/LR sent to ``on_step`` (MLflow) and the progress fields

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown training settings {sorted(unknown)}; known: {sorted(names)}")
        return cls(**d)


class ContrastiveTask(Protocol):
    """The data side of a run (see VA pretraining and AT fine-tuning)."""

    segments: int | None  # audio embeddings per clip (Multiframe Match: 4), None for one

    def __len__(self) -> int: ...

    def start_epoch(self, epoch: int, generator: torch.Generator) -> None: ...

    def audio(self, index: torch.Tensor) -> torch.Tensor: ...

    def targets(self, index: torch.Tensor, audio_emb: torch.Tensor) -> torch.Tensor: ...

    def validate(self, embed: Callable[[torch.Tensor], torch.Tensor]) -> dict[str, float]: ...

    # Optional (needed by ``keep_best``): ``validation_loss(embed, logit_scale, batch) -> float``, the
    # contrastive loss on the task's validation pairs.
    # Optional: ``loss(index, audio_emb, logit_scale) -> Tensor`` replaces the default L_cst(audio, targets)
    # for a task whose objective has more than one term (VAT fine-tuning adds L_cst(V, A), appendix E).
    # Optional: ``loss_head: nn.Module`` holds the task's own learnable loss parameters (VAT: L_cst(V, A)'s
    # logit scale); the loop trains it with g_A (LARS groups, device, DDP) and saves/resumes it in the checkpoint.


class ContrastiveModel(nn.Module):
    """g_A plus the learnable logit scale (and a task's own loss parameters), so DDP synchronises all."""

    def __init__(
        self, encoder: nn.Module, logit_scale_init: float = LOGIT_SCALE_INIT, loss_head: nn.Module | None = None
    ):
        super().__init__()
        self.encoder = encoder
        self.logit_scale = LogitScale(logit_scale_init)
        if loss_head is not None:  # registered only when present: checkpoints of other runs keep their keys
            self.loss_head = loss_head

    def forward(self, fbank: torch.Tensor, segments: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(fbank, segments), self.logit_scale()


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            local = int(os.environ.get("LOCAL_RANK", 0))
            return torch.device("cuda", local)
        return torch.device("cpu")
    return torch.device(name)


def init_distributed(device: torch.device) -> tuple[int, int]:
    """(rank, world size); initialises the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", 1))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            torch.cuda.set_device(device)
    if world > 1:
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def leave_distributed() -> None:
    """End a torchrun job's process group. Ranks wait for each other first: rank 0 writes the outputs after the
    last step, and gloo may abort a rank still inside the group when another has left."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def flat_normalise(x: torch.Tensor) -> torch.Tensor:
    """Multiframe Match: a clip pair's similarity is the cosine of the flattened L x D matrices."""
    return F.normalize(x.flatten(1).float(), dim=-1)


def _epoch_generator(seed: int, epoch: int, stream: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch * 101 + stream)


def rank_batches(
    task: ContrastiveTask,
    order: torch.Tensor,
    steps: int,
    batch: int,
    rank: int,
    local: int,
    loaders: int,
    first: int = 0,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """``(index, features)`` of this rank's share of the batch of each step ``first..steps-1``, in step order.
    With ``loaders`` > 0, that many background threads read (and pin) the next batches while the caller
    trains on the current one; the features are the same either way, only when they are read changes."""

    pin = loaders > 0 and torch.cuda.is_available()  # pinned host memory: the copy to the GPU is asynchronous

    def load(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        index = order[step * batch : (step + 1) * batch][rank * local : (rank + 1) * local]
        fbank = task.audio(index)
        return index, (fbank.pin_memory() if pin else fbank)

    if not loaders or steps - first < 2:
        for step in range(first, steps):
            yield load(step)
        return
    head = load(first)  # in this thread, so the store's lazy state (pandas' index lookup) is built before sharing
    with ThreadPoolExecutor(max_workers=loaders, thread_name_prefix="vipant-loader") as pool:
        pending = deque(pool.submit(load, s) for s in range(first + 1, min(steps, first + loaders + 1)))
        yield head
        for step in range(first + 1, steps):
            current = pending.popleft().result()
            if step + loaders < steps:
                pending.append(pool.submit(load, step + loaders))
            yield current


def epoch_snapshot(out_dir: str | Path, epoch: int) -> Path:
    """Where a run keeps its state at the start of ``epoch`` (``train(keep_epochs=...)``)."""
    return Path(out_dir) / f"start_of_epoch{epoch}.pt"


@dataclass(frozen=True)
class WarmStart:
    """Start from another run's state at the start of its ``epoch`` instead of from step 0.

    ``run_dir`` is that run's out dir (it kept the state with ``keep_epochs``: :func:`epoch_snapshot`) and
    ``identity`` the ``identity`` it was given. The caller vouches that this run would take the same steps as
    that one up to ``epoch``; the loop checks that the snapshot is that run's, with this recipe and task, at
    that epoch's first step, and otherwise (or when the file is missing) starts from step 0, which gives the
    same weights, only later."""

    run_dir: Path
    epoch: int
    identity: dict[str, Any]

    @property
    def snapshot(self) -> Path:
        return epoch_snapshot(self.run_dir, self.epoch)


def run_identity(cfg: TrainConfig, task: ContrastiveTask, extra: dict[str, Any] | None) -> dict[str, Any]:
    """What makes two runs the same run: the recipe (minus test/speed knobs), the task and the caller's
    inputs. A checkpoint is resumed only by a run with the same identity."""
    speed_only = ("crash_after_epoch", "device", "compile", "loader_threads", "log_every")
    recipe = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in speed_only}
    return {"recipe": recipe, "examples": len(task), "segments": task.segments, **(extra or {})}


def _checkpoint_identity(
    cfg: TrainConfig, task: ContrastiveTask, extra: dict[str, Any] | None, logit_scale_init: float
) -> dict[str, Any]:
    """The identity a checkpoint carries (JSON-normalised, so that a loaded one compares equal)."""
    me = {**run_identity(cfg, task, extra), "logit_scale_init": logit_scale_init}
    loss_head = getattr(task, "loss_head", None)
    if loss_head is not None:
        me["loss_head"] = sorted(loss_head.state_dict())
    return json.loads(json.dumps(me, sort_keys=True, default=str))


def _warm_state(
    warm: WarmStart, donor: dict[str, Any], steps_per_epoch: int, device: torch.device
) -> dict[str, Any] | None:
    """The snapshot's state when the donor run (identity ``donor``) kept it at ``warm.epoch``'s start, else None."""
    path = Path(warm.snapshot)
    if not path.is_file():
        log.warning("%s: no such snapshot; training from step 0", path)
        return None
    state = load_checkpoint(path, map_location=device)
    if state.get("identity") != donor:
        log.warning(
            "%s belongs to another run than the one named (config or inputs changed): training from step 0", path
        )
        return None
    if int(state["step"]) != warm.epoch * steps_per_epoch:  # a later epoch would skip steps this run differs in
        log.warning(
            "%s holds step %d, not epoch %d's start (step %d): training from step 0",
            path,
            int(state["step"]),
            warm.epoch,
            warm.epoch * steps_per_epoch,
        )
        return None
    return state


def train(
    encoder: nn.Module,
    task: ContrastiveTask,
    cfg: TrainConfig,
    out_dir: str | Path,
    *,
    identity: dict[str, Any] | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    logit_scale_init: float = LOGIT_SCALE_INIT,
    on_step: Callable[[int, dict[str, float]], None] | None = None,
    keep_epochs: Sequence[int] = (),
    warm_start: WarmStart | None = None,
) -> list[dict[str, float]]:
    """Train ``encoder`` on ``task``; checkpoints in ``out_dir/checkpoint.pt``; returns the history, one record
    per evaluation (each epoch's end, or every ``cfg.eval_every`` steps), with the optimiser steps done.

    The run takes ``cfg.max_steps`` optimiser steps when set (epochs cycle as needed), else ``cfg.epochs``
    epochs. With ``cfg.keep_best`` every evaluation also computes ``task.validation_loss`` and the encoder
    and logit scale are left at the evaluation where it was lowest (the released follow-up B trainer keeps
    its min-validation-loss checkpoint); each record carries ``best_step``/``best_val_loss`` so far, and
    :func:`kept_record` finds the record of the weights left in ``encoder``.

    ``keep_epochs``: epochs at whose start the state is also kept in :func:`epoch_snapshot` (each must start at
    an evaluation, e.g. epochs evaluated at their end), for other runs' ``warm_start``: :class:`WarmStart`.
    The run's own checkpoint, when it is this run's, takes precedence over a warm start.

    ``identity`` (JSON-able) names what else defines the run (initialisation, input files); a checkpoint
    left by a run with another identity (e.g. before a config change) is ignored, never resumed.
    ``logit_scale_init``: where the learnable temperature starts (CLIP's 1/0.07 unless the caller inherits
    one, as VA pretraining of a CLIP-initialised g_A does: :func:`vipant.train.pretrain_va.initial_logit_scale`).
    ``on_step(step, {"train_loss", "lr"})`` is called on rank 0 every ``cfg.log_every`` optimiser steps (the
    loss of that step); the same fields join the progress line the log shows every
    :data:`vipant.progress.INTERVAL_S` seconds (done/total steps, rate, ETA, clips/s).
    """
    out_dir = Path(out_dir)
    device = resolve_device(cfg.device)
    rank, world = init_distributed(device)
    torch.manual_seed(cfg.seed)
    loss_head = getattr(task, "loss_head", None)
    model = ContrastiveModel(encoder, logit_scale_init, loss_head).to(device)
    n = len(task)
    batch = min(cfg.batch_size, n)
    if batch % world:
        raise ValueError(f"global batch {batch} is not divisible by {world} ranks")
    scale = batch / 256  # vip-AnT's base LR x batch/256, with the batch the steps actually take
    groups = lars_param_groups(
        [model], lr_weights=cfg.lr_weights * scale, lr_biases=cfg.lr_biases * scale, weight_decay=cfg.weight_decay
    )
    optimizer = LARS(groups, lr=cfg.lr_weights * scale, momentum=cfg.momentum, eta=cfg.trust_coefficient)

    steps_per_epoch = max(n // batch, 1)
    total_steps = cfg.max_steps if cfg.max_steps is not None else steps_per_epoch * cfg.epochs
    if total_steps < 1:
        raise ValueError(f"a run needs at least one step (max_steps={cfg.max_steps}, epochs={cfg.epochs})")
    eval_every = cfg.eval_every or steps_per_epoch
    if eval_every < 1:
        raise ValueError(f"eval_every must be at least 1 step, got {cfg.eval_every}")
    if cfg.keep_best and not hasattr(task, "validation_loss"):
        raise ValueError(f"keep_best needs a task with a validation loss; {type(task).__name__} has none")
    warmup_steps = int(round(cfg.warmup_epochs * steps_per_epoch))
    for e in keep_epochs:
        if not 0 < e * steps_per_epoch < total_steps or (e * steps_per_epoch) % eval_every:
            raise ValueError(
                f"cannot keep the state at the start of epoch {e}: it must start inside the run "
                f"({total_steps} steps of {steps_per_epoch}) at an evaluation (every {eval_every} steps)"
            )

    ckpt_path = out_dir / "checkpoint.pt"
    start_step, history, best, masks_state = 0, [], None, None
    me = _checkpoint_identity(cfg, task, identity, logit_scale_init)
    state = None
    if ckpt_path.exists():
        state = load_checkpoint(ckpt_path, map_location=device)
        if state.get("identity") == me:
            log.info("resuming from %s after step %d (epoch %d)", ckpt_path, int(state["step"]), int(state["epoch"]))
        else:
            log.warning("%s belongs to a different run (config or inputs changed): starting from scratch", ckpt_path)
            state = None
    if state is None and warm_start is not None:
        donor = _checkpoint_identity(cfg, task, warm_start.identity, logit_scale_init)
        state = _warm_state(warm_start, donor, steps_per_epoch, device)
        if state is not None:
            log.info("starting from %s: the named run's state after step %d", warm_start.snapshot, int(state["step"]))
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_step, history, best = int(state["step"]), list(state["history"]), state.get("best")
        masks_state = state["masks_state"]
        del state

    net: nn.Module = model
    if world > 1:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    cuda = device.type == "cuda"
    if cuda and cfg.compile:
        net = torch.compile(net)  # ViT-B/32, batch 432, H100: 1.7x the eager step (README, Benchmarks)

    local = batch // world
    first_epoch = start_step // steps_per_epoch
    losses, seen, started = [], 0, time.perf_counter()
    # rank 0 reports; ``tail -f`` on the job's log shows it move (tqdm shows nothing in a redirected log)
    progress = Progress("train", total_steps, unit="steps", interval=None if rank == 0 else float("inf"))
    progress.done, run_started, run_seen = start_step, time.perf_counter(), 0
    for epoch in range(first_epoch, -(-total_steps // steps_per_epoch)):
        shuffle = _epoch_generator(cfg.seed, epoch, 0)
        # optional: a task may lay out its own batches (follow-up B's replay draws some from another set)
        order = (
            task.epoch_order(shuffle, batch) if hasattr(task, "epoch_order") else torch.randperm(n, generator=shuffle)
        )
        task.start_epoch(epoch, _epoch_generator(cfg.seed, epoch, 1))
        masks = _epoch_generator(cfg.seed, epoch, 2)  # one stream: each rank masks its rows of the global batch
        skip = start_step - epoch * steps_per_epoch if epoch == first_epoch else 0
        if skip:  # resuming inside an epoch: its masks continue where the checkpoint left them
            masks.set_state(masks_state.cpu())  # a checkpoint loaded onto CUDA carries it there
        steps_here = min(steps_per_epoch, total_steps - epoch * steps_per_epoch)
        model.train()
        for step, (index, fbank) in enumerate(
            rank_batches(
                task, order, steps_here, batch, rank, local, loaders=cfg.loader_threads if cuda else 0, first=skip
            ),
            start=skip,
        ):
            global_step = epoch * steps_per_epoch + step
            set_lr(optimizer, lars_warmup_cosine(global_step, total_steps, warmup_steps))
            fbank = fbank.to(device, non_blocking=True)
            if cfg.spec_augment:
                # masks drawn on the CPU, applied where the batch is
                fbank = spec_augment(fbank, masks, rows=(rank * local, batch) if world > 1 else None)
            with autocast(device, cfg.precision, cfg.cpu_precision):
                audio_emb, logit_scale = net(fbank, task.segments)
            audio_emb = audio_emb.float()
            task_loss = getattr(task, "loss", None)  # optional: a task with more than one loss term (VAT)
            if task_loss is not None:
                loss = task_loss(index, audio_emb, logit_scale)
            else:
                target = task.targets(index, audio_emb.detach()).to(device)
                if task.segments:
                    loss = clip_loss(flat_normalise(audio_emb), flat_normalise(target), logit_scale)
                else:
                    loss = clip_loss(audio_emb, target, logit_scale)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.detach())  # no .item() here: it would wait for the GPU every step
            seen += len(index) * world
            run_seen += len(index) * world
            done = global_step + 1
            if done % cfg.log_every == 0 or done == total_steps:  # one GPU sync per log_every steps
                fields = {"train_loss": float(loss.item()), "lr": float(optimizer.param_groups[0]["lr"])}
                if rank == 0 and on_step is not None:
                    on_step(done, fields)
                progress.update(
                    1,
                    loss=fields["train_loss"],
                    lr=fields["lr"],
                    clips_per_s=run_seen / (time.perf_counter() - run_started),
                )
            else:
                progress.update(1)
            if done % eval_every and done != total_steps:
                continue
            step_losses = torch.stack(losses)
            if world > 1:  # each rank's loss covers its rows; the logged loss is the global batch's, as on one process
                dist.all_reduce(step_losses)
                step_losses /= world
            mean_loss = step_losses.mean().item()
            elapsed = time.perf_counter() - started
            model.eval()
            with torch.no_grad(), autocast(device, cfg.precision, cfg.cpu_precision):  # embeddings come back fp32
                embed = lambda x: model.encoder(x.to(device), task.segments).float()  # noqa: E731
                # every rank holds the same weights: one validation is enough, the others go on
                metrics = task.validate(embed) if rank == 0 else {}
                if cfg.keep_best:  # on every rank (same weights, same data), so that all keep the same weights
                    metrics["val_loss"] = float(task.validation_loss(embed, float(model.logit_scale().item()), batch))
            model.train()
            record = {
                "epoch": epoch,
                "step": done,
                "loss": mean_loss,
                "clips_per_s": seen / elapsed,
                "logit_scale": float(model.logit_scale().item()),
                **metrics,
            }
            if cfg.keep_best:
                if best is None or metrics["val_loss"] < best["val_loss"]:  # every rank decides alike: same data
                    best = {
                        "step": done,
                        "val_loss": metrics["val_loss"],
                        "model": {k: v.detach().clone() for k, v in model.state_dict().items()},
                    }
                record.update(best_step=best["step"], best_val_loss=best["val_loss"])
            history.append(record)
            log.info(
                "step %d (epoch %d): %s",
                done,
                epoch,
                ", ".join(f"{k}={v:.4g}" for k, v in record.items() if k not in ("epoch", "step")),
            )
            if rank == 0:
                saved = {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "epoch": epoch,
                    "step": done,
                    "masks_state": masks.get_state(),
                    "best": best,
                    "history": history,
                    "identity": me,
                }
                save_checkpoint(ckpt_path, saved)
                if done % steps_per_epoch == 0 and done // steps_per_epoch in keep_epochs:
                    save_checkpoint(epoch_snapshot(out_dir, done // steps_per_epoch), saved)
                if on_epoch is not None:
                    on_epoch(len(history) - 1, record)
            if len(history) - 1 == cfg.crash_after_epoch:
                os._exit(17)  # simulated kill (tests): the checkpoint of this evaluation is on disk
            losses, seen, started = [], 0, time.perf_counter()
    if rank == 0:
        progress.close()
    if best is not None:
        model.load_state_dict(best["model"])
        log.info("kept the weights of step %d (validation loss %.4g)", best["step"], best["val_loss"])
    if world > 1:
        dist.barrier()
    return history


def kept_record(history: list[dict[str, Any]]) -> dict[str, Any]:
    """The record of the weights :func:`train` leaves in the encoder: the best-validation evaluation under
    ``keep_best``, else the last; its ``logit_scale`` is the scale that goes with those weights."""
    step = history[-1].get("best_step", history[-1]["step"])
    return next(r for r in history if r["step"] == step)


def steps_summary(n: int, cfg: TrainConfig) -> str:
    """One log line: the batch actually used and the learning rates it scales (as :func:`train` sets them)."""
    batch = min(cfg.batch_size, n)
    scale = batch / 256
    budget = f"{cfg.max_steps} steps" if cfg.max_steps is not None else f"{cfg.epochs} epochs"
    return (
        f"{n} examples, batch {batch}, {max(n // batch, 1)} steps/epoch, {budget}, "
        f"LR weights {cfg.lr_weights * scale:.4g} / biases {cfg.lr_biases * scale:.4g} (x {batch}/256)"
    )
