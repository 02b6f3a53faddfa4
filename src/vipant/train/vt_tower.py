"""A pre-trained image tower for the synthetic VT: supervised steps on what objects look like, before the
contrastive training on captions.

A real CLIP's image tower arrives with generic features (edges, oriented lines, textures) learnt from
hundreds of millions of images; the synthetic VT's tower, trained on 1,350–6,000 captions that name
colours, learns colour and little else, and then hands g_A nothing a grey spectrogram can use
(docs/recipes.md). This stage gives the tower the world's luminance structure first: it classifies each
rendered single object's texture (24 ways) and shape (8 ways), from images shown in grey with the VT
recipe's ``grey_prob``. The labels are appearance, never a source's identity and never audio. The images
come from the naming probe's renderer at another seed (``RENDER_SEED``; the probe draws seed 0).

Other tasks learn from generic patterns that owe nothing to the world (:mod:`vipant.synth.patterns`:
gratings, lines, dots and oriented noise): ``"procedural"`` classifies each pattern's kind, orientation,
period and place; ``"views"`` tells every pattern of a batch from the others given a second view of it
(symmetric InfoNCE, as contrastive pre-training on procedural images does); ``"aspect"`` does the same on
canvases of other sizes and aspect ratios (:data:`vipant.synth.patterns.CANVASES`), the positional grid
resized to each as g_A's is to a spectrogram's, so that the tower's attention learns to pool grids other
than the 7 x 7 one its images give (docs/recipes.md); ``"dense"`` does that on images whose content fills
the canvas, as a photograph's does (:func:`vipant.synth.patterns.dense_views`). A task joins components with
``+`` (``"appearance+views"``): their losses add at every step, each on a batch of its own.
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
COMPONENTS = ("appearance", "procedural", "views", "aspect", "dense")
VIEWS_TEMPERATURE = 0.1


def components(task: str) -> set[str]:
    """The components of a ``+``-joined tower task; a ValueError names an unknown one."""
    parts = set(task.split("+"))
    if not task or not parts <= set(COMPONENTS):
        raise ValueError(f"tower task {task!r}: components must be among {COMPONENTS}, joined by '+'")
    return parts


def views_loss(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE between two views' tower outputs, row i of each being the same pattern."""
    logits = nn.functional.normalize(z1, dim=-1) @ nn.functional.normalize(z2, dim=-1).T / VIEWS_TEMPERATURE
    target = torch.arange(len(z1))
    ce = nn.functional.cross_entropy
    return (ce(logits, target) + ce(logits.T, target)) / 2


def tower_tokens_any_size(tower: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """An open_clip image tower's transformer output ``[B, 1 + h*w, width]`` (CLS first, patches row by row,
    before ``ln_post``) for normalised ``[B, 3, H, W]`` images whose sides are multiples of its patch, the
    trained positional grid resized bilinearly to theirs (as :class:`vipant.models.audio_encoder.AudioEncoder`
    does)."""
    from vipant.models.audio_encoder import resize_pos_embed

    x = tower.conv1(images)
    grid = (x.shape[2], x.shape[3])
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([tower.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1), x], dim=1)
    x = x + resize_pos_embed(tower.positional_embedding, tuple(tower.grid_size), grid).to(x.dtype)
    return tower.transformer(tower.ln_pre(x))


def tower_any_size(tower: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """The tower's CLS output (``ln_post``, ``proj``) at any image size (:func:`tower_tokens_any_size`): at
    the tower's own size, its usual output."""
    return tower.ln_post(tower_tokens_any_size(tower, images)[:, 0]) @ tower.proj


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
    ``task`` (:func:`components`): texture + shape classification of rendered textured single objects
    (``images`` / ``source_labels`` override them, e.g. in tests), procedural pattern classification,
    contrastive views of patterns (at the tower's size, or on canvases of other shapes), or a sum of them."""
    from vipant.train.pretrain_vt import normalise_images, random_greyscale

    parts = components(task)
    size = model_cfg["vision_cfg"]["image_size"]
    appearance = "appearance" in parts
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
    if "procedural" in parts:
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
        if "procedural" in parts:
            grey, labels = patterns.pattern_batch(batch_size, size, gen)
            z = tower(normalise_images(grey))
            loss = loss + sum(ce(heads[k](z), y) for k, y in labels.items())
        if "views" in parts:
            first, second = patterns.pattern_views(batch_size, size, gen)
            loss = loss + views_loss(tower(normalise_images(first)), tower(normalise_images(second)))
        for name, draw in (("aspect", patterns.aspect_views), ("dense", patterns.dense_views)):
            if name in parts:
                first, second = draw(batch_size, gen)
                z1, z2 = (tower_any_size(tower, normalise_images(v)) for v in (first, second))
                loss = loss + views_loss(z1, z2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % 100 == 0 or step + 1 == steps:
            log.info("VT tower step %d/%d: %s loss %.3f", step + 1, steps, task, loss.item())
    return {k: v.detach().clone() for k, v in tower.state_dict().items()}
