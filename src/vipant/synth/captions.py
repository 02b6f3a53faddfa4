"""Caption text in the world's registers.

* audio-focused (AudioCaps / Clotho): what sounds, in order, with "while" / "followed by" when
  events overlap or follow each other — "A dog barks repeatedly while rain falls in the background";
* vision-focused (MSCOCO): what is seen, its colour and where — "A red dog standing next to a blue
  taxi in a park.";
* web alt-text (the VT corpus): a mix of both, so a text encoder trained on it links a source's
  visual noun, its sound verbs and its dataset class names ("a dog barking next to a taxi").
"""

from __future__ import annotations

import functools
from typing import Literal, Sequence

import numpy as np

from vipant.synth.render import Box
from vipant.synth.sources import US8K_CLASSES, Scene, Source, source

Timed = tuple[str, float, float]  # (source name, onset, offset)
Seen = tuple[str, Box]  # (source name, bounding box)

_CLOTHO_ADVERBS = ("in the distance", "nearby", "close to the microphone", "for a while", "intermittently")
_US8K_NAME = {src: cls.replace("_", " ") for cls, src in US8K_CLASSES}


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[int(rng.integers(len(options)))]


def article(word: str) -> str:
    """``"a"`` or ``"an"`` for the word that follows."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _clause(src: Source, rng: np.random.Generator, style: str) -> str:
    text = _pick(rng, src.clauses)
    if style == "clotho" and rng.random() < 0.35:
        text += " " + _pick(rng, _CLOTHO_ADVERBS)
    return text


def audio_caption(
    events: Sequence[Timed],
    rng: np.random.Generator,
    *,
    style: Literal["audiocaps", "clotho"] = "audiocaps",
    scene: Scene | None = None,
) -> str:
    """Describe sounding ``events`` in onset order, in the audio-focused register.

    ``audiocaps`` style: capitalised, no final period; ``clotho`` style: more adverbs, final period.
    """
    if not events:
        raise ValueError("a caption needs at least one event")
    order = sorted(events, key=lambda e: (e[1], e[2], e[0]))
    first = source(order[0][0])
    text = _clause(first, rng, style) if rng.random() < 0.8 else _pick(rng, first.gerunds) + " is heard"
    for (prev_name, _, prev_off), (name, onset, _) in zip(order, order[1:]):
        src = source(name)
        if onset < prev_off - 0.3:  # overlaps what came before
            text += _pick(
                rng,
                (
                    f" while {_clause(src, rng, style)}",
                    f" as {_clause(src, rng, style)}",
                    f" with {_pick(rng, src.gerunds)} in the background",
                    f" and {_clause(src, rng, style)} at the same time",
                ),
            )
        else:
            text += _pick(
                rng,
                (
                    f", then {_clause(src, rng, style)}",
                    f" followed by {_pick(rng, src.gerunds)}",
                    f" and then {_clause(src, rng, style)}",
                    f" before {_clause(src, rng, style)}",
                ),
            )
    if scene is not None and rng.random() < (0.3 if style == "clotho" else 0.15):
        text += " " + _pick(rng, scene.phrases)
    text = _cap(text)
    return text + "." if style == "clotho" else text


def _relation(a: Box, b: Box) -> str:
    """Where box ``a`` is relative to box ``b``, in words."""
    dx = (a[0] + a[2]) / 2 - (b[0] + b[2]) / 2
    dy = (a[1] + a[3]) / 2 - (b[1] + b[3]) / 2
    if abs(dx) >= abs(dy):
        return "to the left of" if dx < 0 else "to the right of"
    return "above" if dy < 0 else "below"


def _np(src: Source, with_colour: bool = True, patterns: bool = False) -> str:
    """Noun phrase with article: "a red dog"; with ``patterns``, "a red dog with fine vertical stripes"."""
    words = f"{src.colour} {src.noun}" if with_colour else src.noun
    if with_colour and patterns:
        words += f" with {src.texture.phrase}"
    return f"{article(words)} {words}"


def _colour(src: Source, patterns: bool) -> str:
    """The colour as a predicate ("red"), with the pattern when ``patterns`` ("red with fine dots")."""
    return f"{src.colour} with {src.texture.phrase}" if patterns else src.colour


def vision_caption(objects: Sequence[Seen], scene: Scene, rng: np.random.Generator, patterns: bool = False) -> str:
    """Describe what an image shows, COCO-style (capitalised, final period); ``patterns``: wherever an
    object's colour is named, its pattern is too (the textured world's ``pattern_words``)."""
    if not objects:
        raise ValueError("a caption needs at least one object")
    srcs = [source(name) for name, _ in objects]
    np_ = functools.partial(_np, patterns=patterns)
    where = _pick(rng, scene.phrases)
    a = srcs[0]
    if len(srcs) == 1:
        text = _pick(
            rng,
            (
                f"{np_(a)} {_pick(rng, a.poses)} {where}",
                f"there is {np_(a)} {where}",
                f"{_np(a, False)} that is {_colour(a, patterns)} {_pick(rng, a.poses)} {where}",
                f"a close up of {np_(a)} {where}",
            ),
        )
    elif len(srcs) == 2:
        b = srcs[1]
        rel = _relation(objects[0][1], objects[1][1]) if rng.random() < 0.6 else "next to"
        text = _pick(
            rng,
            (
                f"{np_(a)} {_pick(rng, a.poses)} {rel} {np_(b)}",
                f"{np_(a)} and {np_(b)} {where}",
                f"{np_(b)} {_pick(rng, b.poses)} near {np_(a)} {where}",
            ),
        )
    else:
        head = ", ".join(np_(s) for s in srcs[:-1])
        text = _pick(
            rng,
            (
                f"{head} and {np_(srcs[-1])} {where}",
                f"a picture of {head} and {np_(srcs[-1])}",
                f"{len(srcs)} objects {where}: {head} and {np_(srcs[-1])}",
            ),
        )
    return _cap(text) + "."


def web_caption(objects: Sequence[Seen], scene: Scene, rng: np.random.Generator, patterns: bool = False) -> str:
    """Alt-text for a VT corpus image: vision and audio phrasing mixed, sometimes terse (``patterns`` as in
    :func:`vision_caption`)."""
    srcs = [source(name) for name, _ in objects]
    np_ = functools.partial(_np, patterns=patterns)
    a = srcs[0]
    others = srcs[1:]
    u = rng.random()
    if u < 0.15:
        text = f"photo of {np_(a, rng.random() < 0.5)}"
    elif u < 0.35:
        text = _pick(rng, a.gerunds)
        if others:
            text += f" next to {np_(others[0], rng.random() < 0.5)}"
    elif u < 0.5:
        text = _pick(rng, a.clauses)
        if rng.random() < 0.5:
            text += " " + _pick(rng, scene.phrases)
    elif u < 0.75:
        text = vision_caption(objects, scene, rng, patterns).rstrip(".").lower()
    elif u < 0.85:
        labels = [a.name] + [s.name for s in others]
        text = " and ".join(labels)
    elif u < 0.93:
        label = _US8K_NAME.get(a.name) if rng.random() < 0.5 else None
        text = f"{label or a.esc50.replace('_', ' ')} {_pick(rng, ('', 'photo', 'picture', 'image'))}".strip()
    else:
        text = f"{' and '.join(s.noun for s in srcs)} {_pick(rng, scene.phrases)} ({scene.label.replace('_', ' ')})"
    return text
