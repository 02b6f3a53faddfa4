"""Pictures of the world: scene backgrounds with the objects of sources drawn on them.

A frame is a numpy ``uint8`` array ``(height, width, 3)``. Backgrounds are a vertical gradient in the
scene's colours plus mild static noise; an object is its source's shape filled with its source's colour
inside a square bounding box ``(x0, y0, x1, y1)`` (pixels, end-exclusive). ``textured`` renders the
textured world instead: objects are filled with their source's texture in their colour (shaded between
``TEXTURE_FLOOR`` and full brightness) and backgrounds carry a faint grating, so that identity survives in
grey. Objects that are on screen together never overlap, so every visible object shows its appearance
inside its box.
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
from PIL import Image, ImageDraw

from vipant.synth.sources import SCENE_BY_LABEL, SHAPES, Scene, Source, Texture, source

Box = tuple[int, int, int, int]

# Brightness of a texture's dark parts relative to its colour: dark enough to survive JPEG and greyscale,
# light enough that the colour is still recognisable everywhere in the object.
TEXTURE_FLOOR = 0.4
BACKGROUND_GRATING = 8.0  # amplitude (grey levels) of the background's texture


@dataclass(frozen=True)
class DrawnObject:
    """An object of a source at a fixed place, shown during [start, end) seconds of its clip."""

    source: str  # source name
    bbox: Box  # (x0, y0, x1, y1) in pixels, end-exclusive, square
    start: float = 0.0  # first second it is visible (video time)
    end: float = math.inf  # second it disappears (video time)
    distractor: bool = False  # silent object whose source does not sound

    def visible_at(self, t: float) -> bool:
        """Whether the object is on screen at time ``t``."""
        return self.start <= t < self.end


@functools.lru_cache(maxsize=512)
def shape_mask(shape: str, size: int) -> np.ndarray:
    """Boolean ``(size, size)`` mask of ``shape`` filling a square of side ``size``."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")
    img = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(img)
    s = size - 1
    c = s / 2
    if shape == "circle":
        d.ellipse([0, 0, s, s], fill=255)
    elif shape == "square":
        m = round(0.08 * s)
        d.rectangle([m, m, s - m, s - m], fill=255)
    elif shape == "triangle":
        d.polygon([(c, 0.02 * s), (s, 0.95 * s), (0, 0.95 * s)], fill=255)
    elif shape == "diamond":
        d.polygon([(c, 0), (s, c), (c, s), (0, c)], fill=255)
    elif shape == "star":
        pts = []
        for k in range(10):
            r = c if k % 2 == 0 else 0.5 * c
            a = -math.pi / 2 + k * math.pi / 5
            pts.append((c + r * math.cos(a), c + 0.05 * s + r * math.sin(a)))
        d.polygon(pts, fill=255)
    elif shape == "cross":
        w = 0.2 * s
        d.rectangle([c - w, 0, c + w, s], fill=255)
        d.rectangle([0, c - w, s, c + w], fill=255)
    elif shape == "ring":
        d.ellipse([0, 0, s, s], fill=255)
        m = 0.3 * s
        d.ellipse([m, m, s - m, s - m], fill=0)
    elif shape == "hexagon":
        d.polygon([(c + c * math.cos(a), c + c * math.sin(a)) for a in (k * math.pi / 3 for k in range(6))], fill=255)
    mask = np.asarray(img) > 127
    mask.setflags(write=False)
    return mask


@functools.lru_cache(maxsize=512)
def texture_pattern(texture: Texture, size: int) -> np.ndarray:
    """Float ``(size, size)`` brightness in ``{TEXTURE_FLOOR, 1}`` of ``texture`` over a square of side ``size``.

    Coordinates are the object's own, so the pattern moves with the object.
    """
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    a = math.radians(texture.angle)
    u = x * math.cos(a) + y * math.sin(a)  # across the stripes
    v = -x * math.sin(a) + y * math.cos(a)
    p = float(texture.period)
    if texture.kind == "stripes":
        light = np.mod(u, p) < p / 2
    elif texture.kind == "checks":
        light = (np.floor(u / (p / 2)) + np.floor(v / (p / 2))) % 2 == 0
    elif texture.kind == "dots":  # dark discs of radius p/4 at the lattice points
        du = np.mod(u, p) - p / 2
        dv = np.mod(v, p) - p / 2
        light = du * du + dv * dv > (0.25 * p) ** 2
    else:
        raise ValueError(f"unknown texture kind {texture.kind!r}")
    out = np.where(light, 1.0, TEXTURE_FLOOR).astype(np.float32)
    out.setflags(write=False)
    return out


def appearance(src: Source, size: int) -> np.ndarray:
    """``uint8`` ``(size, size, 3)``: ``src``'s texture in its colour (draw it through ``shape_mask``)."""
    shade = texture_pattern(src.texture, size)[..., None] * np.asarray(src.rgb, dtype=np.float32)
    return np.rint(shade).astype(np.uint8)


def background(width: int, height: int, scene: Scene, rng: np.random.Generator, textured: bool = False) -> np.ndarray:
    """The scene's gradient (top to bottom colour, slight random tilt) plus mild static noise.

    ``textured`` adds a faint grating (random orientation and period): luminance structure, as real scenes
    have, so that texture alone does not mark an object.
    """
    top = np.asarray(scene.top, dtype=np.float32) + rng.uniform(-12, 12, 3)
    bottom = np.asarray(scene.bottom, dtype=np.float32) + rng.uniform(-12, 12, 3)
    v = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    u = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :, None]
    tilt = rng.uniform(-0.15, 0.15)
    w = np.clip(v + tilt * u, 0.0, 1.0)
    img = top * (1 - w) + bottom * w
    noise = rng.normal(0.0, 3.0, (height, width, 1)).astype(np.float32)
    if textured:  # drawn after the noise, so the flat world's backgrounds stay what they were
        angle = rng.uniform(0.0, math.pi)
        period = rng.uniform(12.0, 40.0)
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        phase = (x * math.cos(angle) + y * math.sin(angle)) * (2 * math.pi / period)
        img = img + (BACKGROUND_GRATING * np.sin(phase))[..., None]
    img = img + noise
    return np.clip(img, 0, 255).astype(np.uint8)


def draw_objects(frame: np.ndarray, objects: Iterable[DrawnObject], textured: bool = False) -> np.ndarray:
    """Draw ``objects`` onto a copy of ``frame`` (flat colour, or ``textured``) and return it."""
    out = frame.copy()
    for obj in objects:
        src = source(obj.source)
        x0, y0, x1, y1 = obj.bbox
        mask = shape_mask(src.shape, x1 - x0)
        out[y0:y1, x0:x1][mask] = appearance(src, x1 - x0)[mask] if textured else src.rgb
    return out


def render_frame(
    bg: np.ndarray, objects: Sequence[DrawnObject], t: float | None = None, textured: bool = False
) -> np.ndarray:
    """The frame at time ``t``: ``bg`` with the objects visible then (all of them when ``t`` is None)."""
    return draw_objects(bg, [o for o in objects if t is None or o.visible_at(t)], textured)


def frames_bytes(
    bg: np.ndarray, objects: Sequence[DrawnObject], n_frames: int, fps: float, textured: bool = False
) -> bytes:
    """Raw RGB24 bytes of ``n_frames`` frames at ``fps`` (frame i shows what is visible at i / fps)."""
    cache: dict[tuple[int, ...], bytes] = {}
    chunks = []
    for i in range(n_frames):
        t = i / fps
        key = tuple(k for k, o in enumerate(objects) if o.visible_at(t))
        if key not in cache:
            cache[key] = draw_objects(bg, [objects[k] for k in key], textured).tobytes()
        chunks.append(cache[key])
    return b"".join(chunks)


def place_boxes(
    count: int,
    width: int,
    height: int,
    rng: np.random.Generator,
    *,
    size_range: tuple[float, float] = (0.2, 0.3),
    region: tuple[int, int] | None = None,
    intervals: Sequence[tuple[float, float]] | None = None,
    margin: int = 4,
) -> list[Box]:
    """Square boxes of side ``size_range`` x ``height`` inside columns ``region`` (default: all).

    Two boxes never overlap when their time ``intervals`` overlap (all boxes when none are given); if
    random placement fails the box shrinks until it fits.
    """
    x_lo, x_hi = region if region is not None else (0, width)
    boxes: list[Box] = []
    for i in range(count):
        side = int(round(height * rng.uniform(*size_range)))
        placed = None
        while placed is None:
            for _ in range(200):
                x0 = int(rng.integers(x_lo, max(x_hi - side, x_lo) + 1))
                y0 = int(rng.integers(0, height - side + 1))
                cand = (x0, y0, x0 + side, y0 + side)
                if all(
                    not _overlap(cand, boxes[j], margin)
                    for j in range(i)
                    if intervals is None or _times_overlap(intervals[i], intervals[j])
                ):
                    placed = cand
                    break
            else:
                if side <= 8:  # nowhere left: accept an overlap rather than loop forever
                    placed = cand
            side = max(8, int(side * 0.85))
        boxes.append(placed)
    return boxes


def _overlap(a: Box, b: Box, margin: int) -> bool:
    return not (a[2] + margin <= b[0] or b[2] + margin <= a[0] or a[3] + margin <= b[1] or b[3] + margin <= a[1])


def _times_overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def jpeg_bytes(img: np.ndarray, quality: int = 90) -> bytes:
    """Encode an RGB ``uint8`` array as JPEG."""
    buf = io.BytesIO()
    Image.fromarray(img, "RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


@dataclass(frozen=True)
class ImageSpec:
    """Everything needed to render one still image (a picklable media task)."""

    width: int  # image width (px)
    height: int  # image height (px)
    scene: str  # scene label (background look)
    objects: tuple[DrawnObject, ...]  # objects drawn (all visible)
    seed: int  # seed of the background noise
    textured: bool = False  # the textured world's look (module docstring)


def render_image(spec: ImageSpec) -> bytes:
    """Render one image as JPEG bytes."""
    rng = np.random.default_rng(spec.seed)
    bg = background(spec.width, spec.height, SCENE_BY_LABEL[spec.scene], rng, spec.textured)
    return jpeg_bytes(draw_objects(bg, spec.objects, spec.textured))
