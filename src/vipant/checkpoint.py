"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)`` (no pickled code runs).

A checkpoint is a dict of tensors and plain values (model/optimizer state, epoch, RNG states, config).
A truncated, tampered or foreign file gives a :class:`CheckpointError` naming it.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from vipant.atomic import atomic_path


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, truncated, or holds something other than weights."""


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError) as err:
        raise CheckpointError(f"{path}: not a readable weights-only checkpoint ({str(err).splitlines()[0]})") from err
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: expected a dict of weights, found {type(state).__name__}")
    return state
