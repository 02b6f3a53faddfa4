"""Can the synthetic preset's small CLIP name what it sees? A probe of the pivot itself.

Every sound source of the synthetic world is drawn as a unique shape × colour. The probe renders each
source alone on a scene background (seeded, ``per_source`` times at random places and sizes, with the
world's own renderer) and asks the VT model which source's text prompt ("the sound of <display name>",
the prompt zero-shot evaluation uses) is closest. Besides top-1 naming it reports how often the chosen
source has the right colour or the right shape, each with its chance level, which shows *what* the
model has learned to see: a VT that only sees colour cannot separate the sources that share one, and
then an audio encoder trained to match its image embeddings cannot separate them through the text
prompts either.

Held-out retrieval of the corpus' own captions (``pretrain_vt``'s ``i2t_R@k``) can be many times above
chance while naming stays near it: the demo's VT retrieves captions at R@1 8.0 % (chance 0.67 %) and
names objects at 6.2 % (chance 2.1 %), right colour 49 %, right shape 11 % (chance 12.5 % each).
"""

from __future__ import annotations

import io
from collections import Counter

import numpy as np
from PIL import Image

from vipant.evaluate.metrics import ArrayLike, as_numpy, zero_shot_correct, zero_shot_scores
from vipant.evaluate.zero_shot import class_prompts
from vipant.synth.render import DrawnObject, ImageSpec, render_image
from vipant.synth.sources import SCENES, SOURCES


def prompts() -> list[str]:
    """Zero-shot evaluation's prompt per source, in catalogue order (the label order of :func:`probe_images`)."""
    return class_prompts([s.name for s in SOURCES], prompt=True)


def probe_images(
    size: int, per_source: int = 3, seed: int = 0, textured: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)``: uint8 ``[N, 3, size, size]`` single-object images and source indices.

    Objects are 20–32 % of the side (as in the corpus images), fully inside the frame; ``textured``: drawn
    in the textured world's look, as the corpus the VT learnt from.
    """
    if size < 32 or per_source < 1:
        raise ValueError(f"need size >= 32 and per_source >= 1, got size={size}, per_source={per_source}")
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for rep in range(per_source):
        for i, src in enumerate(SOURCES):
            side = int(round(size * rng.uniform(0.2, 0.32)))
            x0, y0 = (int(v) for v in rng.integers(0, size - side + 1, size=2))
            spec = ImageSpec(
                size,
                size,
                SCENES[int(rng.integers(len(SCENES)))].label,
                (DrawnObject(src.name, (x0, y0, x0 + side, y0 + side)),),
                seed * 100_003 + rep * 1_000 + i,
                textured,
            )
            img = Image.open(io.BytesIO(render_image(spec))).convert("RGB")
            images.append(np.asarray(img).transpose(2, 0, 1))
            labels.append(i)
    return np.stack(images), np.asarray(labels)


def greyscale(images: np.ndarray) -> np.ndarray:
    """uint8 ``[N, 3, H, W]`` images with every channel set to the mean of R, G and B.

    This is what the audio encoder's adapted patch layer sees: its weights are the VT's RGB weights
    averaged, so a 1-channel input embeds as this grey image would through the VT's own layer. A VT
    that names sources only by colour names these at chance, and then its image tower carries nothing
    useful to the CLIP-initialised audio encoder (README, "Results on the synthetic preset").
    """
    arr = np.asarray(images)
    if arr.ndim != 4 or arr.shape[1] != 3:
        raise ValueError(f"expected [N, 3, H, W] images, got shape {arr.shape}")
    grey = np.rint(arr.astype(np.float32).mean(axis=1, keepdims=True))
    return np.repeat(grey, 3, axis=1).astype(arr.dtype)


def _chance_same(attribute: str) -> float:
    """Percent of uniformly random source choices that share ``attribute`` with a uniformly drawn source."""
    counts = Counter(getattr(s, attribute) for s in SOURCES)
    return 100.0 * sum(c * c for c in counts.values()) / len(SOURCES) ** 2


def naming_metrics(image_emb: ArrayLike, text_emb: ArrayLike, labels: ArrayLike) -> dict[str, float]:
    """Top-1 naming accuracy and same-colour / same-shape / same-texture rates of the chosen source
    (percent), with chance.

    ``text_emb`` has one row per source in catalogue order. Scoring is zero-shot evaluation's (cosine; a
    tie with the true source counts as wrong for top-1); the attribute rates read the argmax. Two sources
    share each texture (they differ in shape), so in grey a VT that sees texture but not shape names at
    most half the sources while ``naming_same_texture`` reaches 100.
    """
    y = as_numpy(labels).astype(np.int64)
    if as_numpy(text_emb).shape[0] != len(SOURCES):
        raise ValueError(f"expected {len(SOURCES)} source prompts, got {as_numpy(text_emb).shape[0]}")
    if as_numpy(image_emb).shape[0] != y.shape[0]:
        raise ValueError(f"{as_numpy(image_emb).shape[0]} image embeddings but {y.shape[0]} labels")
    pred = zero_shot_scores(image_emb, text_emb).argmax(axis=1)
    out = {
        "naming_top1": float(100.0 * np.mean(zero_shot_correct(image_emb, text_emb, y))),
        "chance_naming_top1": 100.0 / len(SOURCES),
    }
    for attribute in ("colour", "shape", "texture"):
        value = np.array([getattr(s, attribute) for s in SOURCES], dtype=object)
        out[f"naming_same_{attribute}"] = float(100.0 * np.mean(value[pred] == value[y]))
        out[f"chance_naming_same_{attribute}"] = _chance_same(attribute)
    return out
