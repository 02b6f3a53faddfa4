"""A pre-trained image tower for the synthetic VT: supervised steps on what objects look like, before the
contrastive training on captions.

A real CLIP's image tower arrives with generic features (edges, oriented lines, textures) learnt from
hundreds of millions of images; the synthetic VT's tower, trained on 1,350–6,000 captions that name
colours, learns colour and little else, and then hands g_A nothing a grey spectrogram can use
(docs/recipes.md). This stage gives the tower the world's luminance structure first: it classifies each
rendered single object's texture (24 ways) and shape (8 ways), from images shown in grey with the VT
recipe's ``grey_prob``. The labels are appearance, never a source's identity and never audio. The images
come from the naming probe's renderer at another seed (``RENDER_SEED``; the probe draws seed 0).

``task="procedural"`` trains on generic patterns instead (:mod:`vipant.synth.patterns`: kind, orientation,
period and place of gratings, lines, dots and oriented noise), which owe nothing to the world; ``"both"``
adds the two losses at every step, each on a batch of its own.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from torch import nn

from vipant.evaluate import vt_naming
from vipant.models.vt import build_clip
from vipant.synth import patterns
from vipant.synth.sources import SHAPES, SOURCES, TEXTURES

log = logging.getLogger(__name__)

PER_SOURCE = 40  # rendered images per source (48 sources: 1,920 images)
RENDER_SEED = 7  # the naming probe renders seed 0
TASKS = ("appearance", "procedural", "both")


def appearance_labels(source_labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Texture (index in ``TEXTURES``) and shape (index in ``SHAPES``) of each image's source."""
    y = np.asarray(source_labels)
    texture = np.array([TEXTURES.index(s.texture) for s in SOURCES])[y]
    shape = np.array([SHAPES.index(s.shape) for s in SOURCES])[y]
    return torch.from_numpy(texture), torch.from_numpy(shape)


def pretrain_tower(
    model_cfg: dict[str, Any],
    *,
    steps: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    grey_prob: float,
    seed: int,
    task: str = "appearance",
    images: torch.Tensor | None = None,
    source_labels: np.ndarray | None = None,
) -> dict[str, torch.Tensor]:
    """State dict of a VT image tower (``build_clip(model_cfg).visual``) after ``steps`` AdamW steps of
    ``task`` (:data:`TASKS`): texture + shape classification of rendered textured single objects
    (``images`` / ``source_labels`` override them, e.g. in tests), procedural pattern classification, or
    both summed."""
    from vipant.train.pretrain_vt import normalise_images, random_greyscale

    if task not in TASKS:
        raise ValueError(f"tower task must be one of {TASKS}, not {task!r}")
    size = model_cfg["vision_cfg"]["image_size"]
    appearance = task in ("appearance", "both")
    if appearance:
        if images is None:
            rendered, source_labels = vt_naming.probe_images(
                size, per_source=PER_SOURCE, seed=RENDER_SEED, textured=True
            )
            images = torch.from_numpy(rendered)
        texture, shape = appearance_labels(source_labels)
    torch.manual_seed(seed)
    tower = build_clip(model_cfg).visual
    n_out = {"texture": len(TEXTURES), "shape": len(SHAPES)} if appearance else {}
    if task in ("procedural", "both"):
        n_out.update(patterns.LABELS)
    heads = nn.ModuleDict({k: nn.Linear(model_cfg["embed_dim"], n) for k, n in n_out.items()})
    opt = torch.optim.AdamW([*tower.parameters(), *heads.parameters()], lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    ce = nn.functional.cross_entropy
    for step in range(steps):
        loss = torch.zeros(())
        if appearance:
            idx = torch.randint(len(images), (batch_size,), generator=gen)
            z = tower(normalise_images(random_greyscale(images[idx], grey_prob, gen)))
            loss = loss + ce(heads["texture"](z), texture[idx]) + ce(heads["shape"](z), shape[idx])
        if task in ("procedural", "both"):
            grey, labels = patterns.pattern_batch(batch_size, size, gen)
            z = tower(normalise_images(grey))
            loss = loss + sum(ce(heads[k](z), y) for k, y in labels.items())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % 100 == 0 or step + 1 == steps:
            log.info("VT tower step %d/%d: %s loss %.3f", step + 1, steps, task, loss.item())
    return {k: v.detach().clone() for k, v in tower.state_dict().items()}
