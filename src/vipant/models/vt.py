"""The frozen VT model (CLIP): open_clip's ViT-B/32 for the paper preset, a small open_clip model of our
own configuration for the synthetic preset. Both are frozen the same way after loading.

Loading never falls back silently: a missing or unreadable weights file is an error.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

import open_clip
import torch
from torch import nn

log = logging.getLogger(__name__)


class VTLoadError(RuntimeError):
    """The VT weights could not be loaded (the workflow must stop, not train on random features)."""


def build_clip(model_cfg: dict[str, Any]) -> open_clip.CLIP:
    """A randomly initialised open_clip CLIP with this configuration (used before ``pretrain_vt``)."""
    cfg = dict(model_cfg)
    return open_clip.CLIP(
        embed_dim=cfg["embed_dim"],
        vision_cfg=cfg["vision_cfg"],
        text_cfg=cfg["text_cfg"],
        quick_gelu=cfg.get("quick_gelu", False),
    )


def tokenizer_for(model_cfg: dict[str, Any]):
    """open_clip's BPE tokenizer (works offline) with the model's context length."""
    return open_clip.tokenizer.SimpleTokenizer(context_length=model_cfg["text_cfg"]["context_length"])


def freeze(model: nn.Module) -> nn.Module:
    """Eval mode, no gradients: the VT model is never trained after loading."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def load_vt(spec: dict[str, Any], device: str | torch.device = "cpu") -> tuple[open_clip.CLIP, Any, dict[str, Any]]:
    """Load and freeze the VT model described by ``spec``; return (model, tokenizer, model config).

    ``spec`` is either ``{"name": "ViT-B-32-quickgelu", "pretrained": "openai" | "/path/weights.pt"}``
    (open_clip's registry; weights from the Hugging Face cache or a local file) or
    ``{"checkpoint": "path/to/vt.pt"}`` (a model trained by ``pretrain_vt``; its config is stored in it).
    """
    if "name" in spec:
        name, pretrained = spec["name"], spec.get("pretrained")
        if not pretrained:
            raise VTLoadError(f"VT model {name!r}: no pretrained weights given; refusing random init")
        if os.sep in str(pretrained) and not Path(pretrained).is_file():
            raise VTLoadError(f"VT weights file {pretrained} does not exist")
        try:
            model = open_clip.create_model(name, pretrained=pretrained, device=device)
        except Exception as err:  # network, cache or format problems all mean: no real CLIP
            raise VTLoadError(f"cannot load VT model {name!r} with pretrained={pretrained!r}: {err}") from err
        model_cfg = open_clip.get_model_config(name)
        tokenizer = open_clip.get_tokenizer(name)
    else:
        from vipant.checkpoint import load_checkpoint

        state = load_checkpoint(spec["checkpoint"])
        model_cfg = spec.get("config") or state.get("config")
        if model_cfg is None:
            raise VTLoadError(f"{spec['checkpoint']}: no model config given or stored")
        model = build_clip(model_cfg)
        try:
            model.load_state_dict(state["model"])
        except (KeyError, RuntimeError) as err:
            raise VTLoadError(f"{spec['checkpoint']}: not a VT checkpoint for this config ({err})") from err
        tokenizer = tokenizer_for(model_cfg)
        model.to(device)
    log.info("VT model loaded (%s)", spec.get("name") or spec.get("checkpoint"))
    return freeze(model), tokenizer, model_cfg


def resolve_vt_weights(name: str, pretrained: str, out: str | os.PathLike[str]) -> Path:
    """Copy the weights of open_clip model ``name`` to the local file ``out``, once, so that no job asks the Hub.

    ``pretrained`` is an open_clip tag (``openai``: fetched into, or found in, the Hugging Face cache; run this
    where the Hub is reachable, e.g. a cluster's login node) or a path to a weights file already on disk. The
    file is loaded into the model before it is copied, so a truncated download stops here, not in 500 jobs.
    Jobs then load ``out`` with ``pretrained=<out>``, which open_clip reads from disk without any Hub call.
    """
    from vipant.atomic import atomic_path

    if Path(pretrained).is_file():
        source = Path(pretrained)
    elif os.sep in pretrained:
        raise VTLoadError(f"VT weights file {pretrained} does not exist")
    else:
        tag_cfg = open_clip.pretrained.get_pretrained_cfg(name, pretrained)
        if not tag_cfg:
            raise VTLoadError(
                f"VT model {name!r} has no pretrained tag {pretrained!r}; known: "
                f"{open_clip.pretrained.list_pretrained_tags_by_model(name)}"
            )
        try:
            source = Path(open_clip.pretrained.download_pretrained(tag_cfg))
        except Exception as err:  # no network, no cache: say so here, once
            raise VTLoadError(f"cannot fetch VT weights {name!r}/{pretrained!r}: {err}") from err
    try:
        open_clip.create_model(name, pretrained=str(source))
    except Exception as err:
        raise VTLoadError(f"{source}: not loadable as {name!r} weights ({err})") from err
    out = Path(out)
    with atomic_path(out) as tmp:
        shutil.copyfile(source, tmp)
    log.info("VT weights %s/%s resolved from %s into %s", name, pretrained, source, out)
    return out
