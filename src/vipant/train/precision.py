"""Mixed precision: bf16 autocast on CUDA (no loss scaling needed), full fp32 elsewhere."""

from __future__ import annotations

import contextlib

import torch


def autocast(device: torch.device | str, precision: str = "bf16"):
    """The autocast context for ``device``; a no-op on CPU or with ``precision='fp32'``."""
    device = torch.device(device)
    if device.type == "cuda" and precision == "bf16":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
