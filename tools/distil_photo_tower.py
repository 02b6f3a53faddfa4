"""Screen of a VT tower pre-stage: a bare synthetic VT image tower taught to reproduce a photograph-trained
network's features on generic grey images, saved where ``tools/probe_init.py --tower-cache`` reads it.

``tools/probe_photo_prior.py`` finds that filters learnt from photographs read the world's FBANK far better
than the same network scrambled, while every tower pre-stage built from synthetic images alone leaves g_A
behind random weights. This stage asks whether that prior can be handed to the miniature tower: on a fixed
pool of ``dense`` canvases (:func:`vipant.synth.patterns.dense_views`, every shape of
:data:`vipant.synth.patterns.CANVASES`; nothing from the world, no audio), a linear head on the tower's CLS
output regresses the teacher's pooled stage features (per-channel mean and deviation of every stage, the
readout ``probe_photo_prior`` scores), and a linear head on each patch token regresses the teacher's last
stage map at that token (stride 32, the tower's patch grid). Targets are standardised over the pool. The
recipe's batch size, learning rate, weight decay and seed are the VT's.

    python tools/distil_photo_tower.py --onnx det.onnx --pixel-mean 0.485 0.456 0.406 \\
        --pixel-std 0.229 0.224 0.225 --steps 600 --out photo600.pt
    python tools/probe_init.py data/synthetic --epochs 0 --feature-probe --cv --tower-task photo --tower-cache photo600.pt
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
from pathlib import Path

import numpy as np
import onnx
import torch
import yaml
from torch import nn

from vipant.models.vt import build_clip
from vipant.synth import patterns
from vipant.train.pretrain_vt import normalise_images
from vipant.train.vt_tower import tower_tokens_any_size

log = logging.getLogger("distil_photo_tower")


def _photo_prior():
    spec = importlib.util.spec_from_file_location("probe_photo_prior", Path(__file__).with_name("probe_photo_prior.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pp = _photo_prior()  # the teacher's features and arguments are probe_photo_prior's


def canvas_pool(per_canvas: int, seed: int, draw=patterns.dense_views) -> dict[tuple[int, int], torch.Tensor]:
    """``per_canvas`` uint8 ``[n, 3, h, w]`` images of every canvas shape ``draw`` yields (first views)."""
    gen = torch.Generator().manual_seed(seed)
    pool: dict[tuple[int, int], list[torch.Tensor]] = {}
    while len(pool) < len(patterns.CANVASES) or min(sum(len(x) for x in v) for v in pool.values()) < per_canvas:
        first, _ = draw(50, gen)
        pool.setdefault(tuple(first.shape[2:]), []).append(first)
    return {k: torch.cat(v)[:per_canvas] for k, v in pool.items()}


def teacher_targets(
    net, images: torch.Tensor, pixel_mean: list[float], pixel_std: list[float], batch: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """The teacher's pooled stage features ``[n, D]`` and its last stage map as tokens ``[n, h*w, C]``
    (row by row, as the tower's patches) for uint8 ``[n, 3, H, W]`` images."""
    pooled, tokens = [], []
    for i in range(0, len(images), batch):
        x = pp.normalise(images[i : i + batch].numpy().astype(np.float32) / 255, pixel_mean, pixel_std)
        maps = net(x)
        pooled.append(np.concatenate(pp.pooled(maps, np.full(len(x), x.shape[3]), x.shape[3]), axis=1))
        last = maps[-1]
        tokens.append(last.transpose(0, 2, 3, 1).reshape(len(x), -1, last.shape[1]))
        if (i // batch) % 25 == 24:
            log.info("teacher: %d / %d images of %s", i + len(x), len(images), tuple(images.shape[2:]))
    return np.concatenate(pooled), np.concatenate(tokens)


def standardised(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """``x`` with zero mean and unit deviation over ``axes`` (a constant dimension stays 0)."""
    mean, std = x.mean(axis=axes, keepdims=True), x.std(axis=axes, keepdims=True)
    return (x - mean) / np.where(std > 0, std, 1.0)


def distil(
    model_cfg: dict,
    pool: dict[tuple[int, int], torch.Tensor],
    pooled: dict[tuple[int, int], torch.Tensor],
    tokens: dict[tuple[int, int], torch.Tensor],
    *,
    steps: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    seed: int,
) -> dict[str, torch.Tensor]:
    """A fresh tower's state dict after ``steps`` AdamW steps of the two regressions, each batch drawn from
    one canvas of ``pool`` with its targets ``pooled[canvas]`` ``[n, D]`` and ``tokens[canvas]``
    ``[n, h*w, C]``."""
    torch.manual_seed(seed)
    tower = build_clip(model_cfg).visual
    d_pool = next(iter(pooled.values())).shape[1]
    d_tok = next(iter(tokens.values())).shape[2]
    heads = nn.ModuleDict(
        {
            "pooled": nn.Linear(model_cfg["embed_dim"], d_pool),
            "tokens": nn.Linear(tower.ln_post.normalized_shape[0], d_tok),
        }
    )
    opt = torch.optim.AdamW([*tower.parameters(), *heads.parameters()], lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    canvases = sorted(pool)
    mse = nn.functional.mse_loss
    for step in range(steps):
        canvas = canvases[int(torch.randint(len(canvases), (1,), generator=gen))]
        idx = torch.randint(len(pool[canvas]), (batch_size,), generator=gen)
        x = tower_tokens_any_size(tower, normalise_images(pool[canvas][idx]))
        cls = tower.ln_post(x[:, 0]) @ tower.proj
        loss_pool = mse(heads["pooled"](cls), pooled[canvas][idx])
        loss_tok = mse(heads["tokens"](tower.ln_post(x[:, 1:])), tokens[canvas][idx])
        loss = loss_pool + loss_tok
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % 50 == 0 or step + 1 == steps:
            log.info("step %d/%d: pooled %.3f tokens %.3f", step + 1, steps, loss_pool.item(), loss_tok.item())
    return {k: v.detach().clone() for k, v in tower.state_dict().items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    pp.network_arguments(ap)
    ap.add_argument("--per-canvas", type=int, default=400, help="pool images per canvas shape")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    vt = yaml.safe_load(Path(args.config).read_text())["presets"]["synthetic"]["vt"]
    train = vt["train"]
    pool = canvas_pool(args.per_canvas, train["seed"])
    net = pp.FeatureNet(onnx.load(args.onnx), (224, 224))
    raw = {c: teacher_targets(net, images, args.pixel_mean, args.pixel_std) for c, images in pool.items()}
    log.info("teacher targets for %d images", sum(len(v) for v in pool.values()))
    # standardised over the whole pool, canvases together, so that no canvas's scale is favoured
    all_pooled = standardised(np.concatenate([p for p, _ in raw.values()]), (0,))
    width = next(iter(raw.values()))[1].shape[2]
    all_tokens = standardised(np.concatenate([t.reshape(-1, width) for _, t in raw.values()]), (0,))
    pooled, tokens, at_image, at_token = {}, {}, 0, 0
    for c, (p, t) in raw.items():
        pooled[c] = torch.from_numpy(all_pooled[at_image : at_image + len(p)]).float()
        tokens[c] = torch.from_numpy(all_tokens[at_token : at_token + t.shape[0] * t.shape[1]].reshape(t.shape)).float()
        at_image, at_token = at_image + len(p), at_token + t.shape[0] * t.shape[1]
    state = distil(
        vt["model"],
        pool,
        pooled,
        tokens,
        steps=args.steps,
        **{k: train[k] for k in ("batch_size", "lr", "weight_decay", "seed")},
    )
    torch.save(state, args.out)
    log.info("wrote %s", args.out)


if __name__ == "__main__":
    main()
