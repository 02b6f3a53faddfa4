"""Named random streams: every part of the world draws from its own generator, derived from the seed.

Keys are strings or ints (``rng_for(seed, "audioset", "plan")``), so resizing one dataset never changes
the random choices of another, and a media task renders the same bytes whichever process runs it.
"""

from __future__ import annotations

import zlib

import numpy as np


def _key_ints(seed: int, keys: tuple[str | int, ...]) -> list[int]:
    out = [int(seed) & 0xFFFFFFFF]
    for k in keys:
        out.append(zlib.crc32(k.encode("utf-8")) if isinstance(k, str) else int(k) & 0xFFFFFFFF)
    return out


def rng_for(seed: int, *keys: str | int) -> np.random.Generator:
    """A generator that depends only on ``seed`` and ``keys``."""
    return np.random.default_rng(np.random.SeedSequence(_key_ints(seed, keys)))


def seed_for(seed: int, *keys: str | int) -> int:
    """A 63-bit integer seed derived from ``seed`` and ``keys`` (to hand to a media task)."""
    state = np.random.SeedSequence(_key_ints(seed, keys)).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])
