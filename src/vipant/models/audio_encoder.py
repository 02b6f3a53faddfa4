"""The audio encoder g_A: CLIP's vision transformer adapted to FBANK spectrograms (docs/design.md, Models).

Adaptation, as in vip-AnT:
* the patch embedding takes 1 channel: its weights are CLIP's RGB weights averaged over the 3 input
  channels, as vip-AnT's ``copy_state_dict`` in ``cvap/module/encoder/audio_head.py`` does (a grey image
  then embeds as one third of its RGB copy: the same direction);
* kernel 32 x 32 over (time, frequency) with stride 16 x 24, so patches overlap: a 1000 x 128 input
  gives a 61 x 5 grid = 305 patch tokens + CLS;
* the 7 x 7 positional grid is resized bilinearly to 61 x 5 (the CLS position kept); for other input
  lengths it is fitted on the fly as vip-AnT loads a pretrained g_A (``load_pos_embedding`` in its
  ``audio_head.py``): a longer input (Clotho's 18 s, 111 x 5) resizes it bilinearly again, a shorter
  one (ESC-50's 5 s, 30 x 5) takes a contiguous slice of the trained rows, from row 6 where they fit,
  so every time step keeps the position code it was trained with;
* everything else (transformer, ln_pre/ln_post, projection into the 512-d joint space) is CLIP's.
``init="random"`` keeps the architecture and re-initialises every weight (the paper's VA-Rand).

Readout: how a clip becomes one vector is part of the model, because a model must be read the way its
loss trained it (docs/design.md, Frame matching). ``"cls"`` (vip-AnT, random and Nearest Match): the CLS token → ``ln_post`` →
``proj``. ``"segment_mean"`` with ``segments = L`` (Multiframe Match): the mean of the L segment
embeddings of :meth:`AudioEncoder.forward_segments`; the CLS output, which that loss never trains, is
not used. The checkpoint records the readout (:func:`save_audio_model`), so evaluation, AT fine-tuning,
the user CLI and the linear probe all call the encoder instead of choosing a path themselves.
"""

from __future__ import annotations

import copy
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Init = Literal["clip", "random"]
Readout = Literal["cls", "segment_mean"]
READOUTS: tuple[str, ...] = ("cls", "segment_mean")

PATCH = 32
STRIDE = (16, 24)  # (time, frequency)


def grid_size(frames: int, mel_bins: int, patch: int = PATCH, stride: tuple[int, int] = STRIDE) -> tuple[int, int]:
    """Token grid (time, frequency) of a ``frames x mel_bins`` input."""
    return (frames - patch) // stride[0] + 1, (mel_bins - patch) // stride[1] + 1


def resize_pos_embed(pos: torch.Tensor, old_grid: tuple[int, int], new_grid: tuple[int, int]) -> torch.Tensor:
    """Bilinearly resize ``[1 + h*w, D]`` positional embeddings to a new grid; the CLS row is kept."""
    if tuple(old_grid) == tuple(new_grid):
        return pos
    cls, grid = pos[:1], pos[1:]
    d = grid.shape[-1]
    grid = grid.reshape(1, old_grid[0], old_grid[1], d).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=new_grid, mode="bilinear", align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(new_grid[0] * new_grid[1], d)
    return torch.cat([cls, grid], dim=0)


# vip-AnT slices a shorter input's positions from this row of the trained grid ("start = 6")
SLICE_START = 6


def fit_pos_embed(pos: torch.Tensor, old_grid: tuple[int, int], new_grid: tuple[int, int]) -> torch.Tensor:
    """The trained ``[1 + h*w, D]`` positions for an input whose token grid is ``new_grid``.

    As vip-AnT fits a pretrained g_A to another input length: with the same frequency columns and no
    more time rows, a contiguous run of the trained rows (from row :data:`SLICE_START`, or as late as
    still fits); otherwise a bilinear resize (:func:`resize_pos_embed`). The CLS row is kept.
    """
    (old_t, old_f), (new_t, new_f) = old_grid, new_grid
    if (old_t, old_f) == (new_t, new_f) or new_f != old_f or new_t > old_t:
        return resize_pos_embed(pos, old_grid, new_grid)
    start = min(SLICE_START, old_t - new_t)
    return torch.cat([pos[:1], pos[1 + start * old_f : 1 + (start + new_t) * old_f]], dim=0)


def average_rgb_patch_weights(conv: nn.Conv2d, stride: tuple[int, int] = STRIDE) -> nn.Conv2d:
    """A 1-channel copy of CLIP's patch convolution with RGB weights averaged (and the new stride).

    What averaging preserves: for a grey image ``g`` (the same values on R, G and B) CLIP's patch conv
    computes ``sum_c W_c * g = 3 * mean_c(W_c) * g``, so the adapted conv applied to ``g`` gives exactly
    one third of CLIP's patch embedding of the grey image: the same direction, the same relative
    geometry between patches (tests/test_audio_encoder.py checks this equality). The design (docs/design.md, Models) and vip-AnT
    average rather than sum; FBANK inputs are normalised, so the scale is absorbed in training.
    """
    new = nn.Conv2d(1, conv.out_channels, kernel_size=conv.kernel_size, stride=stride, bias=conv.bias is not None)
    with torch.no_grad():
        new.weight.copy_(conv.weight.mean(dim=1, keepdim=True))
        if conv.bias is not None:
            new.bias.copy_(conv.bias)
    return new


def segment_mean(segment_emb: torch.Tensor) -> torch.Tensor:
    """``[B, L, D]`` segment embeddings → ``[B, D]``: the clip vector of the ``segment_mean`` readout.

    Multiframe Match scores a clip pair by the cosine of the flattened ``L x D`` matrices. Against a
    single target ``t`` repeated L times that cosine is ``sum_l a_l . t / (||A||_F sqrt(L) ||t||)``, so for
    one clip it ranks targets exactly as ``mean_l(a_l) . t / ||t||`` does: the mean (of the unnormalised
    segment embeddings) is the clip-level vector the loss trained. Ranking clips for one target, the
    cosine of the mean differs from the flattened cosine by the factor ``sqrt(L) ||mean|| / ||A||_F``.
    Used by the encoder's readout and by VA pretraining's validation alike.
    """
    return segment_emb.mean(dim=1)


def training_readout(segments: int | None) -> tuple[Readout, int | None]:
    """The readout of a model trained with ``segments`` embeddings per clip: ``("segment_mean", L)`` for a
    Multiframe loss over L segments, ``("cls", None)`` for a loss over one embedding per clip."""
    return ("segment_mean", int(segments)) if segments else ("cls", None)


class AudioEncoder(nn.Module):
    """g_A: ``[B, frames, mel_bins]`` normalised FBANK → ``[B, embed_dim]`` (unnormalised) embeddings, read
    out as ``readout`` says (see the module docstring); ``segments``: L of the ``segment_mean`` readout."""

    def __init__(
        self,
        visual: nn.Module,
        *,
        init: Init = "clip",
        frames: int = 1000,
        mel_bins: int = 128,
        readout: Readout = "cls",
        segments: int | None = None,
    ):
        super().__init__()
        self.set_readout(readout, segments)
        if init not in ("clip", "random"):
            raise ValueError(f"init must be 'clip' or 'random', not {init!r}")
        visual = copy.deepcopy(visual)
        if tuple(visual.conv1.kernel_size) != (PATCH, PATCH):
            raise ValueError(f"the audio encoder needs a CLIP with 32 x 32 patches, got {visual.conv1.kernel_size}")
        self.conv1 = average_rgb_patch_weights(visual.conv1)
        self.class_embedding = visual.class_embedding
        image_grid = tuple(visual.grid_size)
        self.grid = grid_size(frames, mel_bins)
        self.frames = frames
        self.mel_bins = mel_bins
        self.positional_embedding = nn.Parameter(
            resize_pos_embed(visual.positional_embedding.detach(), image_grid, self.grid).clone()
        )
        self.ln_pre = visual.ln_pre
        self.transformer = visual.transformer
        self.ln_post = visual.ln_post
        self.proj = visual.proj
        self.width = self.class_embedding.shape[0]
        self.embed_dim = self.proj.shape[1]
        # g_A is trained as a whole: the copy of a frozen VT tower must not stay frozen (only the new
        # patch layer and positional grid would then learn, on top of a fixed image transformer)
        for p in self.parameters():
            p.requires_grad_(True)
        if init == "random":
            self.reset_parameters()

    def reset_parameters(self) -> None:
        """Random initialisation of the same architecture (VA-Rand), following CLIP's init scheme."""
        scale = self.width**-0.5
        nn.init.normal_(self.class_embedding, std=scale)
        nn.init.normal_(self.positional_embedding, std=scale)
        nn.init.normal_(self.proj, std=scale)
        self.conv1.reset_parameters()
        for module in self.modules():
            if isinstance(module, nn.LayerNorm):
                module.reset_parameters()
        blocks = self.transformer.resblocks
        proj_std = scale * (2 * len(blocks)) ** -0.5
        for block in blocks:
            nn.init.normal_(block.attn.in_proj_weight, std=scale)
            nn.init.zeros_(block.attn.in_proj_bias)
            nn.init.normal_(block.attn.out_proj.weight, std=proj_std)
            nn.init.zeros_(block.attn.out_proj.bias)
            nn.init.normal_(block.mlp.c_fc.weight, std=(2 * self.width) ** -0.5)
            nn.init.zeros_(block.mlp.c_fc.bias)
            nn.init.normal_(block.mlp.c_proj.weight, std=proj_std)
            nn.init.zeros_(block.mlp.c_proj.bias)

    def tokens(self, fbank: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
        """Patch tokens + CLS with positions, after ``ln_pre``: ``[B, 1 + h*w, width]`` and the grid."""
        # The patch conv runs outside CPU autocast, in the weights' dtype: oneDNN's bf16 weight gradient for
        # this 1-channel conv with overlapping strides took ~11x its float32 time, half of a bf16 step
        # (torch.profiler, docs/benchmarks.md), while the conv is a small share of the step's arithmetic.
        with torch.autocast("cpu", enabled=False):
            x = self.conv1(fbank.unsqueeze(1).to(self.conv1.weight.dtype))
        grid = (x.shape[2], x.shape[3])
        x = x.flatten(2).transpose(1, 2)
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1)
        x = x + fit_pos_embed(self.positional_embedding, self.grid, grid).to(x.dtype)
        return self.ln_pre(x), grid

    def encode_tokens(self, fbank: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
        """Transformer output ``[B, 1 + h*w, width]`` (before ``ln_post``) and the grid."""
        x, grid = self.tokens(fbank)
        return self.transformer(x), grid

    def set_readout(self, readout: Readout, segments: int | None = None) -> None:
        """Read clips out through ``readout``: ``"cls"`` (no ``segments``) or ``"segment_mean"`` over
        ``segments`` >= 1 segments."""
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, not {readout!r}")
        if readout == "cls" and segments is not None:
            raise ValueError(f"the cls readout takes no segments (got {segments!r})")
        if readout == "segment_mean" and (isinstance(segments, bool) or not isinstance(segments, int) or segments < 1):
            raise ValueError(f"the segment_mean readout needs segments >= 1 (got {segments!r})")
        self.readout: Readout = readout
        self.segments: int | None = segments

    def features(self, fbank: torch.Tensor) -> torch.Tensor:
        """``[B, width]``: the clip representation before the projection, through the recorded readout.

        ``cls``: the CLS token after ``ln_post``; ``segment_mean``: the mean of the ``ln_post``'d segment
        pools. The projection is linear, so ``features(x) @ proj`` is the clip embedding :meth:`forward`
        returns. The linear probe reads these, so that initialisations are compared on what the encoder
        represents, not on a projection trained towards another model's space.
        """
        x, grid = self.encode_tokens(fbank)
        if self.readout == "segment_mean":
            return segment_mean(self._segment_features(x, grid, self.segments))
        return self.ln_post(x[:, 0])

    def forward(self, fbank: torch.Tensor, segments: int | None = None) -> torch.Tensor:
        """``[B, D]`` clip embeddings through the recorded readout, or with ``segments`` the
        ``[B, segments, D]`` segment embeddings a Multiframe loss trains (see :meth:`forward_segments`)."""
        if segments:
            return self.forward_segments(fbank, segments)
        return self.features(fbank) @ self.proj

    def forward_segments(self, fbank: torch.Tensor, segments: int) -> torch.Tensor:
        """``[B, segments, embed_dim]``: one embedding per equal time segment, from ONE forward pass.

        Used by Multiframe Match: patch tokens are grouped by their time position into ``segments``
        contiguous groups, mean-pooled, then passed through ``ln_post`` and the projection.
        """
        x, grid = self.encode_tokens(fbank)
        return self._segment_features(x, grid, segments) @ self.proj

    def _segment_features(self, x: torch.Tensor, grid: tuple[int, int], segments: int) -> torch.Tensor:
        """``[B, segments, width]``: transformer outputs' patch tokens pooled per time segment, ``ln_post``'d."""
        h, w = grid
        patches = x[:, 1:].reshape(x.shape[0], h, w, -1)
        bounds = [round(i * h / segments) for i in range(segments + 1)]
        pooled = torch.stack(
            [patches[:, a : max(b, a + 1)].mean(dim=(1, 2)) for a, b in zip(bounds[:-1], bounds[1:])], dim=1
        )
        return self.ln_post(pooled)


def n_tokens(frames: int = 1000, mel_bins: int = 128) -> int:
    """Number of tokens (patches + CLS) the encoder sees for an input of this size."""
    h, w = grid_size(frames, mel_bins)
    return h * w + 1


def save_audio_model(path, encoder: AudioEncoder, vt_config: dict, **extra) -> None:
    """Everything needed to rebuild g_A without the VT weights: its state, the CLIP architecture and the
    readout it was trained through (``readout``, ``segments``)."""
    from vipant.checkpoint import save_checkpoint

    own = {
        "encoder": encoder.state_dict(),
        "vt_config": vt_config,
        "frames": encoder.frames,
        "mel_bins": encoder.mel_bins,
        "readout": encoder.readout,
        "segments": encoder.segments,
    }
    clash = sorted(set(own) & set(extra))
    if clash:
        raise ValueError(f"{path}: {clash} come from the encoder, not from the caller")
    save_checkpoint(path, {**own, **extra})


def load_audio_model(path, device: str | torch.device = "cpu") -> tuple[AudioEncoder, dict]:
    """Rebuild g_A from :func:`save_audio_model`'s file; returns the encoder (eval mode, with its recorded
    readout) and the file's dict.

    A checkpoint written before readouts were recorded was trained through the CLS path, unless its
    ``match`` is ``multiframe``: such a file is refused, since its readout cannot be recovered (a
    VA model was trained through a segment mean whose L was not recorded, while an AT model fine-tuned
    from it trained the CLS path), and a guess would silently score an untrained readout.
    """
    from vipant.checkpoint import CheckpointError, load_checkpoint
    from vipant.models.vt import build_clip

    state = load_checkpoint(path)
    if "encoder" not in state or "vt_config" not in state:
        raise CheckpointError(f"{path}: not an audio-encoder checkpoint (keys {sorted(state)[:6]})")
    if "readout" not in state and state.get("match") == "multiframe":
        raise CheckpointError(
            f"{path}: a Multiframe Match model that records no readout (written before "
            "checkpoints recorded one); retrain it (vipant pretrain-va / finetune-at)"
        )
    visual = build_clip(state["vt_config"]).visual
    encoder = AudioEncoder(visual, init="clip", frames=int(state["frames"]), mel_bins=int(state["mel_bins"]))
    try:
        encoder.set_readout(state.get("readout", "cls"), state.get("segments"))
    except ValueError as err:
        raise CheckpointError(f"{path}: bad recorded readout ({err})") from err
    try:
        encoder.load_state_dict(state["encoder"])
    except RuntimeError as err:
        raise CheckpointError(f"{path}: weights do not fit the recorded architecture ({err})") from err
    return encoder.to(device).eval(), state
