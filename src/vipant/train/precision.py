"""Mixed precision: bf16 autocast (no loss scaling needed) on CUDA by default; on the CPU only when asked.

On a CPU with bf16 instructions (AVX512-BF16, AMX) bf16 autocast speeds up g_A's matrix products; on one
without them it is emulated and slower, so the CPU default is fp32. `vipant bench train` prints the
1-thread step in both (docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib

import torch

PRECISIONS = ("bf16", "fp32")


def autocast(device: torch.device | str, precision: str = "bf16", cpu_precision: str = "fp32"):
    """The autocast context for ``device``: ``precision`` applies on CUDA, ``cpu_precision`` elsewhere."""
    device = torch.device(device)
    chosen = precision if device.type == "cuda" else cpu_precision
    if chosen not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {chosen!r}")
    if chosen == "bf16" and device.type in ("cuda", "cpu"):
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
