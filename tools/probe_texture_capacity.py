"""Design probe: can the synthetic VT's image tower see the textured world's textures in grey at all?

The contrastively trained VT names textured objects in grey near chance, and picks a source of the right
texture little more often (``grey_naming_same_texture``, docs/recipes.md). This separates the two causes
that could have: the architecture (patch size, width, depth at this resolution) and the training signal.
The VT's own image tower, from scratch, with a linear head, learns the 24 textures as labels from grey
rendered single objects (the naming probe's renderer, another seed), and is scored on the naming probe's
own images in grey. High held-out accuracy means the tower can see the textures, so the captions are what
does not ask for them. No audio and no test table is read.

    python tools/probe_texture_capacity.py --steps 600 --per-source 40
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import yaml

from vipant.evaluate import vt_naming
from vipant.models.vt import build_clip
from vipant.synth.sources import TEXTURES
from vipant.train.pretrain_vt import normalise_images
from vipant.train.vt_tower import appearance_labels


def grey_textured_images(size: int, per_source: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Grey single textured objects (the naming probe's renderer) and their texture labels."""
    images, labels = vt_naming.probe_images(size, per_source=per_source, seed=seed, textured=True)
    return torch.from_numpy(vt_naming.greyscale(images)), appearance_labels(labels)[0]


def train_and_score(
    model_cfg: dict,
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    *,
    steps: int,
    batch_size: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
    every: int = 100,
) -> list[dict[str, float]]:
    """Train the VT image tower of ``model_cfg`` with a linear head on ``train``; held-out accuracy (%) on
    ``test`` every ``every`` steps and at the end."""
    torch.manual_seed(seed)
    visual = build_clip(model_cfg).visual
    head = torch.nn.Linear(model_cfg["embed_dim"], len(TEXTURES))
    opt = torch.optim.AdamW([*visual.parameters(), *head.parameters()], lr=lr, weight_decay=0.1)
    gen = torch.Generator().manual_seed(seed)
    (x, y), (x_test, y_test) = train, test
    curve = []
    for step in range(1, steps + 1):
        idx = torch.randint(len(x), (batch_size,), generator=gen)
        loss = torch.nn.functional.cross_entropy(head(visual(normalise_images(x[idx]))), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % every == 0 or step == steps:
            with torch.no_grad():
                pred = head(visual(normalise_images(x_test))).argmax(1)
            curve.append({"step": step, "loss": loss.item(), "acc": 100.0 * (pred == y_test).float().mean().item()})
    return curve


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", type=Path, default=Path("config.yaml"))
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--per-source", type=int, default=40, help="training images per source (48 sources)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    model_cfg = yaml.safe_load(args.config.read_text())["presets"]["synthetic"]["vt"]["model"]
    size = model_cfg["vision_cfg"]["image_size"]
    started = time.perf_counter()
    # training images from another render seed than the probe's own (seed 0), which is the test set
    train = grey_textured_images(size, args.per_source, seed=7)
    test = grey_textured_images(size, 3, seed=0)
    for point in train_and_score(model_cfg, train, test, steps=args.steps, seed=args.seed):
        print(json.dumps({k: round(v, 1) for k, v in point.items()}), flush=True)
    print(f"chance {100 / len(TEXTURES):.1f} %; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
