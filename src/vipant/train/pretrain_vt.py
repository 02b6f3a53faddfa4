"""``pretrain_vt`` (synthetic preset only): train the small open_clip model on the world's image–caption
corpus, so that the rest of the pipeline has a frozen VT model to pivot through, exactly as it would with
OpenAI's CLIP. Its held-out image→text retrieval and its naming of single rendered objects
(:mod:`vipant.evaluate.vt_naming`: top-1, right colour, right shape) are reported each epoch with
chance, so a broken pivot is visible before anything is built on it. After the last epoch the naming
is also reported on greyscale renderings (``grey_naming_*``): the audio encoder is initialised from
this image tower and feeds it grey inputs, so a VT that sees only colour hands it nothing (OpenAI's
CLIP names greyscale photos). ``grey_prob`` turns that share of training images grey (their captions
unchanged), the random-greyscale augmentation of SimCLR-style image pretraining, so that colour alone
cannot solve the contrastive task (off by default: at 0.2 it did not teach the demo's VT shape).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from vipant.checkpoint import save_checkpoint
from vipant.datasets.image_text import read_pairs
from vipant.embed.frames import OPENAI_MEAN, OPENAI_STD
from vipant.evaluate import vt_naming
from vipant.models.vt import build_clip, tokenizer_for
from vipant.train.loss import clip_loss
from vipant.train.schedule import warmup_cosine

log = logging.getLogger(__name__)


@dataclass
class VTTrainConfig:
    """Recipe of the small CLIP (AdamW as open_clip trains CLIP)."""

    epochs: int = 12  # passes over the corpus
    batch_size: int = 128  # image-caption pairs per step
    lr: float = 1e-3  # peak AdamW learning rate
    weight_decay: float = 0.1  # on >=2-D weights
    warmup_epochs: float = 1.0  # linear warm-up, then cosine
    seed: int = 0  # shuffling
    grey_prob: float = 0.0  # share of training images shown in greyscale (random per image and epoch)
    # supervised steps of the image tower before the contrastive training (vipant.train.vt_tower); 0: none
    tower_steps: int = 0
    # what those steps learn: "appearance" (rendered objects' textures and shapes; textured world only),
    # "procedural" (generic patterns' labels), "views" (contrastive views of them), "aspect" (the same on
    # canvases of other shapes), "dense" (on canvases filled with patterns), or a "+"-joined sum
    tower_task: str = "appearance"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "VTTrainConfig":
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown VT training settings {sorted(unknown)}")
        return cls(**d)


def load_images(paths: list[str], size: int) -> torch.Tensor:
    """uint8 ``[N, 3, size, size]``: resized short side + centre crop, kept small in memory."""
    out = torch.empty(len(paths), 3, size, size, dtype=torch.uint8)
    for i, p in enumerate(paths):
        img = Image.open(p).convert("RGB")
        w, h = img.size
        s = size / min(w, h)
        img = img.resize((max(size, round(w * s)), max(size, round(h * s))), Image.BICUBIC)
        w, h = img.size
        left, top = (w - size) // 2, (h - size) // 2
        img = img.crop((left, top, left + size, top + size))
        out[i] = torch.from_numpy(np.array(img)).permute(2, 0, 1)  # np.array: a writable copy
    return out


def normalise_images(x: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(OPENAI_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(OPENAI_STD).view(1, 3, 1, 1)
    return (x.float() / 255 - mean) / std


@torch.no_grad()
def image_text_retrieval(model, images: torch.Tensor, tokens: torch.Tensor, batch: int = 256) -> dict[str, float]:
    """Held-out image→text R@1/R@5 (each image's own caption is gold), with chance."""
    img = torch.cat(
        [
            F.normalize(model.encode_image(normalise_images(images[s : s + batch])), dim=-1)
            for s in range(0, len(images), batch)
        ]
    )
    txt = torch.cat(
        [F.normalize(model.encode_text(tokens[s : s + batch]), dim=-1) for s in range(0, len(tokens), batch)]
    )
    sim = img @ txt.T
    gold = sim.diagonal()[:, None]
    rank = (sim > gold).sum(1) + (sim == gold).sum(1) - 1
    n = len(images)
    return {
        "i2t_R@1": float((rank < 1).float().mean() * 100),
        "i2t_R@5": float((rank < 5).float().mean() * 100),
        "chance_R@1": 100 / n,
        "chance_R@5": 100 * min(5, n) / n,
    }


@torch.no_grad()
def naming_probe(model, tokenizer, images: torch.Tensor, labels: np.ndarray, *, grey: bool = False) -> dict[str, float]:
    """:mod:`vipant.evaluate.vt_naming` on rendered single-object images: can the pivot name a source?
    With ``grey``, also on their greyscale versions (``grey_naming_top1``, ``grey_naming_same_shape``,
    ``grey_naming_same_texture``)."""
    txt = model.encode_text(tokenizer(vt_naming.prompts()))
    out = vt_naming.naming_metrics(model.encode_image(normalise_images(images)), txt, labels)
    if grey:
        grey_images = torch.from_numpy(vt_naming.greyscale(images.numpy()))
        grey_metrics = vt_naming.naming_metrics(model.encode_image(normalise_images(grey_images)), txt, labels)
        out.update({f"grey_{k}": grey_metrics[k] for k in ("naming_top1", "naming_same_shape", "naming_same_texture")})
    return out


def random_greyscale(images: torch.Tensor, prob: float, generator: torch.Generator) -> torch.Tensor:
    """uint8 ``[B, 3, H, W]`` with each image independently turned grey with ``prob``, the way the greyscale
    probe does it (:func:`vipant.evaluate.vt_naming.greyscale`)."""
    if prob <= 0:
        return images
    pick = torch.rand(images.shape[0], generator=generator) < prob
    if not bool(pick.any()):
        return images
    out = images.clone()
    out[pick] = torch.from_numpy(vt_naming.greyscale(images[pick].numpy()))
    return out


def corpus_textured(corpus_dir: Path) -> bool:
    """Whether the corpus shows the textured world (its ``style.json``; corpora written before it: flat)."""
    style = corpus_dir / "style.json"
    return bool(json.loads(style.read_text())["textured"]) if style.exists() else False


def train_vt(
    corpus_dir: Path,
    model_cfg: dict[str, Any],
    cfg: VTTrainConfig,
    out: Path,
    on_epoch: Callable[[int, dict], None] | None = None,
) -> dict[str, float]:
    """Train, save ``out`` (weights + config) and return the final held-out metrics."""
    from vipant.train.vt_tower import components

    if cfg.tower_steps and "appearance" in components(cfg.tower_task) and not corpus_textured(corpus_dir):
        raise ValueError(
            f"{corpus_dir}: tower_task {cfg.tower_task!r} needs the textured world (world option `textures`): "
            "the flat world draws no textures to learn"
        )
    train = read_pairs(corpus_dir / "train.csv")
    val = read_pairs(corpus_dir / "val.csv")
    size = model_cfg["vision_cfg"]["image_size"]
    tokenizer = tokenizer_for(model_cfg)
    train_images, val_images = (
        load_images(train["filepath"].tolist(), size),
        load_images(val["filepath"].tolist(), size),
    )
    train_tokens, val_tokens = tokenizer(train["title"].tolist()), tokenizer(val["title"].tolist())
    probe_np, probe_labels = vt_naming.probe_images(size, textured=corpus_textured(corpus_dir))
    probe_images = torch.from_numpy(probe_np)
    torch.manual_seed(cfg.seed)
    model = build_clip(model_cfg)
    if cfg.tower_steps:
        from vipant.train.vt_tower import pretrain_tower

        model.visual.load_state_dict(
            pretrain_tower(
                model_cfg,
                steps=cfg.tower_steps,
                task=cfg.tower_task,
                batch_size=cfg.batch_size,
                lr=cfg.lr,
                weight_decay=cfg.weight_decay,
                grey_prob=cfg.grey_prob,
                seed=cfg.seed,
            )
        )
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    # fused: one pass per step instead of a dozen over the 6M-entry token table (~15 % of a CPU step)
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
        betas=(0.9, 0.98),
        eps=1e-6,
        fused=True,
    )
    n = len(train)
    batch = min(cfg.batch_size, n)
    steps = max(n // batch, 1)
    total, warmup = steps * cfg.epochs, int(cfg.warmup_epochs * steps)
    gen = torch.Generator().manual_seed(cfg.seed)
    metrics: dict[str, float] = {}
    for epoch in range(cfg.epochs):
        model.train()
        order = torch.randperm(n, generator=gen)
        losses, started = [], time.perf_counter()
        for step in range(steps):
            for g in opt.param_groups:
                g["lr"] = cfg.lr * warmup_cosine(epoch * steps + step, total, warmup)
            idx = order[step * batch : (step + 1) * batch]
            img = model.encode_image(normalise_images(random_greyscale(train_images[idx], cfg.grey_prob, gen)))
            txt = model.encode_text(train_tokens[idx])
            loss = clip_loss(img, txt, model.logit_scale.exp().clamp(max=100))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        model.eval()
        metrics = {
            "loss": float(np.mean(losses)),
            "pairs_per_s": steps * batch / (time.perf_counter() - started),
            **image_text_retrieval(model, val_images, val_tokens),
            **naming_probe(model, tokenizer, probe_images, probe_labels, grey=epoch == cfg.epochs - 1),
        }
        log.info("VT epoch %d: %s", epoch, ", ".join(f"{k}={v:.3g}" for k, v in metrics.items()))
        if on_epoch:
            on_epoch(epoch, metrics)
    save_checkpoint(out, {"model": model.state_dict(), "config": model_cfg, "metrics": metrics})
    if not math.isfinite(metrics.get("loss", math.nan)):
        raise RuntimeError("VT training diverged (non-finite loss)")
    return metrics
