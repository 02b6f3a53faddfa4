"""An audio encoder ready for inference: g_A, the frozen VT text tower it was trained against, and the FBANK
normalisation statistics — loaded together so audio and text land in the same space.

Also :func:`describe`, what the training commands add to a checkpoint so it names its own VT model and
carries its FBANK statistics (a checkpoint copied elsewhere then still works without ``--vt/--stats``
as long as the VT model can be found).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vipant.features.store import FbankStats
from vipant.inference.locate import LocateError, default_checkpoint, resolve_stats, resolve_vt
from vipant.models.audio_encoder import AudioEncoder

log = logging.getLogger(__name__)


def describe(vt_spec: dict[str, Any] | None, fbank_stats_path: str | os.PathLike[str]) -> dict[str, Any]:
    """Extra checkpoint entries that make an audio-encoder checkpoint self-describing for inference:
    ``vt`` (the spec :func:`vipant.models.vt.load_vt` takes) and ``fbank_stats`` (mean/std values)."""
    stats = FbankStats.load(fbank_stats_path)
    extra: dict[str, Any] = {"fbank_stats": {"mean": stats.mean, "std": stats.std, "n_clips": stats.n_clips}}
    if vt_spec:
        extra["vt"] = dict(vt_spec)
    return extra


def pick_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA when available, else CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def configure_determinism(device: torch.device, threads: int | None = None) -> None:
    """Same file, same vector: deterministic kernels, no TF32, and (optionally) a fixed CPU thread count.

    On CPU, results are bit-identical between runs with the same number of threads; a different count
    may change the last bits of reductions, hence ``--threads``.
    """
    if threads:
        torch.set_num_threads(threads)
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # needed by deterministic cuBLAS
        torch.backends.cudnn.benchmark = False
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    torch.use_deterministic_algorithms(True, warn_only=True)


@dataclass
class InferenceModel:
    """g_A in eval mode, the frozen text encoder (image tower dropped) and its tokenizer, the FBANK stats.

    ``encoder(fbank)`` reads a clip through the readout its checkpoint records (CLS, or the segment mean of
    a Multiframe Match model), the one its training loss used."""

    encoder: AudioEncoder
    text_model: nn.Module
    tokenizer: Any
    stats: FbankStats
    checkpoint: Path
    device: torch.device
    provenance: dict[str, Any] = field(default_factory=dict)  # where each piece came from

    @property
    def frames(self) -> int:
        """FBANK frames per window: the length the checkpoint was trained on (1000 = 10 s)."""
        return self.encoder.frames

    @property
    def dim(self) -> int:
        return self.encoder.embed_dim


def _canonical(cfg: dict[str, Any]) -> str:
    return json.dumps(cfg, sort_keys=True, default=list)


def load_inference_model(
    checkpoint: str | os.PathLike[str] | None = None,
    *,
    config: str | os.PathLike[str] = "config.yaml",
    vt: str | None = None,
    stats: str | None = None,
    device: str = "auto",
    threads: int | None = None,
    deterministic: bool = True,
) -> InferenceModel:
    """Load everything :mod:`vipant.inference.embedder` needs (see :mod:`vipant.inference.locate` for the
    search order). ``deterministic`` sets torch's global determinism switches (:func:`configure_determinism`,
    what the CLI wants); the Python API passes False so that loading leaves a caller's settings alone. Raises :class:`LocateError` when a piece is missing or the VT model does not match the
    architecture the audio encoder was built from, :class:`vipant.checkpoint.CheckpointError` for an
    unreadable checkpoint."""
    from vipant.models.audio_encoder import load_audio_model
    from vipant.models.vt import load_vt

    torch_device = pick_device(device)
    if deterministic:
        configure_determinism(torch_device, threads)
    elif threads:
        torch.set_num_threads(threads)
    path = Path(checkpoint) if checkpoint else default_checkpoint(config)
    encoder, state = load_audio_model(path, torch_device)
    vt_found = resolve_vt(path, state, vt)
    stats_found = resolve_stats(path, state, stats)
    text_model, tokenizer, vt_config = load_vt(vt_found.value, torch_device)
    if _canonical(vt_config) != _canonical(state["vt_config"]):
        raise LocateError(
            f"{path}: the VT model {vt_found.value} ({vt_found.source}) is not the architecture this "
            "audio encoder was built from; pass --vt with the VT model the checkpoint was trained against"
        )
    text_model.visual = nn.Identity()  # only the text tower is used; the image tower's memory is freed
    provenance = {
        "checkpoint": str(path),
        "vt": vt_found.value,
        "vt_source": vt_found.source,
        "fbank_stats": {"mean": stats_found.value.mean, "std": stats_found.value.std},
        "fbank_stats_source": stats_found.source,
        "frames": encoder.frames,
        "device": str(torch_device),
        "readout": encoder.readout,
        "segments": encoder.segments,
    }
    log.info(
        "audio model %s (%d frames per window, %d-d, %s readout); VT model %s (%s); FBANK stats (%s)",
        path,
        encoder.frames,
        encoder.embed_dim,
        encoder.readout,
        vt_found.value.get("checkpoint") or vt_found.value.get("name"),
        vt_found.source,
        stats_found.source,
    )
    return InferenceModel(encoder.eval(), text_model, tokenizer, stats_found.value, path, torch_device, provenance)
