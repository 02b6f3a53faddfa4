"""The Python API: one import, two calls (documented with runnable examples in docs/api.md).

    model = vipant.load_model("exported_dir_or_model.pt")
    audio = model.embed_audio(["dog.wav", "rain.mp3"])          # [2, D] float32, L2-normalised
    text = model.embed_text(["a dog barks", "rain on a roof"])   # [2, D]
    model.similarity(audio, text)                                # [2, 2] cosine similarities

It runs the code the CLI runs (:mod:`vipant.inference`): the same decoding, FBANK, windows and
normalisation, so a file gets the vector ``vipant embed`` writes for it (up to float rounding, because
the API batches windows of several files into one encoder pass where the CLI runs one file at a time).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Literal, Sequence, Union

import numpy as np
import torch

from vipant.inference.decode import AudioInputError
from vipant.inference.model import InferenceModel

log = logging.getLogger(__name__)

AudioInput = Union[str, os.PathLike, np.ndarray, torch.Tensor]
OnError = Literal["raise", "nan"]


class AudioBatchError(ValueError):
    """Some inputs of an :meth:`Model.embed_audio` call could not be embedded (the others were).

    ``failures`` maps each failed input's position to ``(name, reason)``; ``embeddings`` holds every input's
    vector, NaN rows for the failed ones. The message has one line per failed input.
    """

    def __init__(self, failures: dict[int, tuple[str, str]], embeddings: np.ndarray) -> None:
        self.failures = failures
        self.embeddings = embeddings
        lines = "\n".join(f"  {name}: {reason}" for name, reason in failures.values())
        super().__init__(f"{len(failures)} of {len(embeddings)} inputs could not be embedded:\n{lines}")


def _as_list(items: Any) -> list:
    """One input or a sequence of them (a 1-D array or a str is one input, not many)."""
    if isinstance(items, (str, os.PathLike, np.ndarray, torch.Tensor)):
        return [items]
    return list(items)


class Model:
    """An audio encoder with the frozen text tower it was trained against; see :func:`load_model`."""

    def __init__(self, inference: InferenceModel, config: dict[str, Any] | None = None) -> None:
        self.inference = inference
        self.config = config or {}

    @property
    def dim(self) -> int:
        """Size of the joint embedding space."""
        return self.inference.dim

    @property
    def device(self) -> torch.device:
        return self.inference.device

    def __repr__(self) -> str:
        return f"vipant.Model({self.inference.checkpoint}, dim={self.dim}, frames={self.inference.frames}, device={self.device})"

    def embed_audio(
        self,
        audio: AudioInput | Sequence[AudioInput],
        *,
        sample_rate: int | None = None,
        batch_size: int = 32,
        on_error: OnError = "raise",
    ) -> np.ndarray:
        """``[N, D]`` float32 L2-normalised embeddings of audio files and/or arrays, in input order.

        A file is any path ffmpeg reads; an array is ``[samples]`` or ``[channels, samples]`` floats at
        ``sample_rate`` (required for arrays, unused for files). Clips longer than the model's window are
        embedded window by window and averaged, as by the CLI. Windows of several inputs share one
        encoder pass of up to ``batch_size`` windows.

        An input that cannot be used (missing, corrupt, empty, too short, non-finite) is logged on one
        line naming it; the others are still embedded. ``on_error="raise"`` (default) then raises
        :class:`AudioBatchError` carrying every vector; ``"nan"`` returns them with NaN rows for failures.
        """
        from vipant.inference.decode import decode_array, decode_audio
        from vipant.inference.embedder import embed_windows, fbank_windows

        if on_error not in ("raise", "nan"):
            raise ValueError(f"on_error must be 'raise' or 'nan', not {on_error!r}")
        items = _as_list(audio)
        failures: dict[int, tuple[str, str]] = {}
        windows: dict[int, torch.Tensor] = {}
        for i, item in enumerate(items):
            is_path = isinstance(item, (str, os.PathLike))
            name = str(item) if is_path else f"array #{i}"
            try:
                if is_path:
                    wave = decode_audio(item)
                elif sample_rate is None:
                    raise AudioInputError(name, "an array needs sample_rate=")
                else:
                    wave = decode_array(item, sample_rate, name)
                w = fbank_windows(wave, self.inference.stats, self.inference.frames)
                if not torch.isfinite(w.sum()):
                    raise AudioInputError(name, "non-finite FBANK features")
            except AudioInputError as err:
                log.error("%s: %s", name, err.reason)
                failures[i] = (name, err.reason)
                continue
            windows[i] = w
        out = np.full((len(items), self.dim), np.nan, dtype=np.float32)
        ok = sorted(windows)
        for i, (vector, _) in zip(ok, embed_windows(self.inference, [windows[i] for i in ok], batch_size=batch_size)):
            out[i] = vector.numpy()
        if failures and on_error == "raise":
            raise AudioBatchError(failures, out)
        return out

    def embed_text(self, texts: str | Sequence[str]) -> np.ndarray:
        """``[M, D]`` float32 L2-normalised embeddings of texts, used as written (no prompt added)."""
        from vipant.inference.embedder import embed_texts

        texts = [texts] if isinstance(texts, str) else list(texts)
        return embed_texts(self.inference, texts).numpy().astype(np.float32)

    @staticmethod
    def similarity(a: np.ndarray | torch.Tensor, t: np.ndarray | torch.Tensor) -> np.ndarray:
        """``[N, M]`` cosine similarities between rows of ``a`` and rows of ``t`` (1-D inputs count as one row)."""
        a = np.atleast_2d(np.asarray(a, dtype=np.float32))
        t = np.atleast_2d(np.asarray(t, dtype=np.float32))
        if a.shape[1] != t.shape[1]:
            raise ValueError(f"embedding sizes differ: {a.shape} vs {t.shape}")
        a = a / np.linalg.norm(a, axis=1, keepdims=True)
        t = t / np.linalg.norm(t, axis=1, keepdims=True)
        return a @ t.T

    def classify(
        self,
        audio: AudioInput | Sequence[AudioInput],
        labels: Sequence[str],
        *,
        prompt: bool = True,
        sample_rate: int | None = None,
        batch_size: int = 32,
        on_error: OnError = "raise",
    ) -> list[list[tuple[str, float]] | None]:
        """Zero-shot classification as ``vipant classify``: per input, every ``(label, cosine)`` best first.

        ``prompt=True`` compares with "the sound of <label>" (the paper's zero-shot prompt), False with the
        bare label. With ``on_error="nan"`` a failed input gets ``None``.
        """
        from vipant.evaluate.zero_shot import class_prompts
        from vipant.inference.embedder import top_k

        labels = list(labels)
        text = self.embed_text(class_prompts(labels, prompt=prompt))
        emb = self.embed_audio(audio, sample_rate=sample_rate, batch_size=batch_size, on_error=on_error)
        return [None if np.isnan(row).any() else top_k(text @ row, labels, len(labels)) for row in emb]


def load_model(
    path: str | os.PathLike[str],
    *,
    device: str = "auto",
    deterministic: bool = False,
    threads: int | None = None,
    vt: str | None = None,
    stats: str | None = None,
) -> Model:
    """An exported folder (``vipant export``) or a workflow checkpoint (``model.pt``) as a :class:`Model`.

    A checkpoint finds its VT model and FBANK statistics as the CLI does (``vt``/``stats`` override).
    Loading leaves torch's global settings alone unless asked: ``deterministic=True`` switches on
    deterministic kernels and turns TF32 off (what the CLI does), ``threads`` sets torch's CPU threads.
    """
    from vipant.inference.model import configure_determinism, load_inference_model, pick_device

    path = Path(path)
    if path.is_dir():
        from vipant.export import load_exported

        if vt or stats:
            raise ValueError(f"{path}: an exported model carries its own VT model and FBANK stats; drop vt=/stats=")
        torch_device = pick_device(device)
        if deterministic:
            configure_determinism(torch_device, threads)
        elif threads:
            torch.set_num_threads(threads)
        inference, config = load_exported(path, torch_device)
        return Model(inference, config)
    inference = load_inference_model(
        path, vt=vt, stats=stats, device=device, threads=threads, deterministic=deterministic
    )
    return Model(inference)
