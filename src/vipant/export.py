"""A trained audio encoder as a folder anyone can load: ``model.safetensors``, ``config.json``, ``README.md``.

* ``model.safetensors``: g_A's weights (keys ``audio.*``) and, when the frozen VT model is one the
  workflow trained (the synthetic preset), its text tower (``text.*``). A VT model from open_clip's
  registry (the paper's OpenAI CLIP) is recorded by name in the config and loaded from open_clip.
* ``config.json``: everything else inference needs — the CLIP architecture, the FBANK parameters and
  normalisation statistics, the input length, the readout, the VT spec, the class prompt — and the
  SHA-256 of the weights file, so a tampered or truncated file is refused rather than loaded.
* ``README.md``: a model card (training data, recipe, evaluation scores from ``metrics.json`` files,
  licence caveats of the data).

Loading builds the same :class:`vipant.inference.model.InferenceModel` as a checkpoint does, so an
exported folder embeds bit-identically to the checkpoint it came from (tests/test_export.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from vipant.features.fbank import NUM_MEL_BINS, SAMPLE_RATE
from vipant.inference.model import InferenceModel

log = logging.getLogger(__name__)

FORMAT = "vipant-audio-text"
FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
CARD = "README.md"
AUDIO_PREFIX = "audio."
TEXT_PREFIX = "text."

# The Kaldi FBANK call of vipant.features.fbank.compute_fbank, written out for readers of config.json.
FBANK_PARAMETERS = {
    "sample_rate": SAMPLE_RATE,
    "num_mel_bins": NUM_MEL_BINS,
    "frame_length_ms": 25,
    "frame_shift_ms": 10,
    "window_type": "hanning",
    "dither": 0.0,
    "htk_compat": True,
    "use_energy": False,
    "remove_mean": True,
    "stored_as": "float16",
    "implementation": "torchaudio.compliance.kaldi.fbank",
}


class ExportError(RuntimeError):
    """An exported model folder is missing a file, was modified, or does not fit its own config."""


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_model(
    checkpoint: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    vt: str | None = None,
    stats: str | None = None,
    metrics: Sequence[str | os.PathLike[str]] = (),
    history: str | os.PathLike[str] | None = None,
    recipe: dict[str, Any] | None = None,
    preset: str | None = None,
) -> Path:
    """Write ``checkpoint`` (an audio-encoder ``model.pt``) as a shareable folder; returns ``out_dir``.

    ``vt`` and ``stats`` override what the checkpoint records (as ``vipant classify`` does); ``metrics``
    are ``metrics.json`` files of this model's evaluations, ``history`` its ``history.json``, ``recipe`` the
    training configuration, ``preset`` the workflow preset it was trained in — all for the model card.
    """
    from safetensors.torch import save_file

    from vipant import __version__
    from vipant.atomic import atomic_path, write_json, write_text
    from vipant.checkpoint import load_checkpoint
    from vipant.evaluate.zero_shot import PROMPT
    from vipant.inference.model import load_inference_model
    from vipant.models.audio_encoder import PATCH, STRIDE

    model = load_inference_model(checkpoint, vt=vt, stats=stats, device="cpu", deterministic=False)
    state = load_checkpoint(checkpoint)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    vt_spec = model.provenance["vt"]
    include_text = "checkpoint" in vt_spec  # a VT the workflow trained exists nowhere else
    tensors = {AUDIO_PREFIX + k: v.detach().cpu().contiguous().clone() for k, v in model.encoder.state_dict().items()}
    if include_text:
        tensors.update(
            {TEXT_PREFIX + k: v.detach().cpu().contiguous().clone() for k, v in model.text_model.state_dict().items()}
        )
    with atomic_path(out / WEIGHTS) as tmp:
        save_file(tensors, str(tmp), metadata={"format": FORMAT})
    readout = state.get("readout", "cls")
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "vipant_version": __version__,
        "architecture": {
            "vt_config": state["vt_config"],
            "patch": PATCH,
            "stride": list(STRIDE),
            "frames": model.encoder.frames,
            "mel_bins": model.encoder.mel_bins,
            "embed_dim": model.encoder.embed_dim,
        },
        "readout": readout,
        "segments": int(state["segments"]) if readout != "cls" and state.get("segments") else None,
        "input_length": {"frames": model.frames, "seconds": model.frames * FBANK_PARAMETERS["frame_shift_ms"] / 1000},
        "fbank": {**FBANK_PARAMETERS, "mean": model.stats.mean, "std": model.stats.std, "n_clips": model.stats.n_clips},
        "vt": {
            "text_weights": WEIGHTS if include_text else None,
            "spec": None if include_text else dict(vt_spec),
            "source": vt_spec.get("checkpoint") or vt_spec.get("name"),
        },
        "prompt": PROMPT,
        "training": {
            k: state[k] for k in ("objective", "finetuned_on", "init", "match", "mlflow_run_id") if state.get(k)
        },
        "weights_sha256": sha256_file(out / WEIGHTS),
    }
    records = _metrics_records(metrics)
    hist = json.loads(Path(history).read_text())["history"] if history else []
    write_text(out / CARD, model_card(config, records, hist, recipe or {}, preset))
    write_json(out / CONFIG, config)  # last: its hash names the weights written above
    log.info(
        "%s: exported %s (%d tensors, text tower %s)",
        out,
        checkpoint,
        len(tensors),
        "included" if include_text else f"from open_clip {vt_spec.get('name')}",
    )
    return out


def _metrics_records(paths: Sequence[str | os.PathLike[str]]):
    from vipant.tables import read_metrics

    return sorted((read_metrics(p) for p in paths), key=lambda r: r.task)


def _read_config(directory: Path) -> dict[str, Any]:
    if not directory.is_dir():
        raise ExportError(f"{directory}: not a folder written by `vipant export`")
    path = directory / CONFIG
    if not path.is_file():
        raise ExportError(f"{path}: missing; {directory} is not an exported vipant model")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ExportError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ExportError(
            f"{path}: not a {FORMAT} config (format {config.get('format') if isinstance(config, dict) else None!r})"
        )
    if config.get("format_version") != FORMAT_VERSION:
        raise ExportError(
            f"{path}: format version {config.get('format_version')!r}, this vipant reads {FORMAT_VERSION}"
        )
    return config


def _load_weights(directory: Path, config: dict[str, Any]) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = directory / WEIGHTS
    if not path.is_file():
        raise ExportError(f"{path}: missing")
    if sha256_file(path) != config.get("weights_sha256"):
        raise ExportError(f"{path}: SHA-256 differs from the one in {CONFIG}; the file was modified or truncated")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise ExportError(f"{path}: not a readable safetensors file ({err})") from err


def _strip(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def _load_into(module: nn.Module, weights: dict[str, torch.Tensor], where: Path, what: str) -> None:
    try:
        module.load_state_dict(weights)
    except RuntimeError as err:
        raise ExportError(f"{where}: the {what} weights do not fit the architecture in {CONFIG} ({err})") from err


def load_exported(
    directory: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[InferenceModel, dict[str, Any]]:
    """The :class:`InferenceModel` of a folder :func:`export_model` wrote, and its config.

    Raises :class:`ExportError` for a missing or modified file or weights that do not fit the config;
    :class:`vipant.models.vt.VTLoadError` when a registry VT model cannot be loaded.
    """
    from vipant.features.store import FbankStats
    from vipant.models.audio_encoder import AudioEncoder
    from vipant.models.vt import build_clip, freeze, load_vt, tokenizer_for

    directory = Path(directory)
    config = _read_config(directory)
    tensors = _load_weights(directory, config)
    try:
        arch = config["architecture"]
        vt_config = arch["vt_config"]
        fbank = config["fbank"]
        stats = FbankStats(mean=float(fbank["mean"]), std=float(fbank["std"]), n_clips=int(fbank.get("n_clips", 0)))
        encoder = AudioEncoder(
            build_clip(vt_config).visual, init="clip", frames=int(arch["frames"]), mel_bins=int(arch["mel_bins"])
        )
    except (KeyError, TypeError, ValueError) as err:
        raise ExportError(f"{directory / CONFIG}: incomplete or inconsistent config ({err!r})") from err
    if not stats.std > 0:
        raise ExportError(f"{directory / CONFIG}: FBANK std must be positive, got {stats.std}")
    _load_into(encoder, _strip(tensors, AUDIO_PREFIX), directory / WEIGHTS, "audio encoder")
    # readout: how g_A pools its tokens (vipant.models.audio_encoder); "cls" for models before the option
    encoder.readout = config.get("readout") or "cls"
    encoder.segments = config.get("segments")
    if config["vt"].get("text_weights"):
        text_model = build_clip(vt_config)
        text_model.visual = nn.Identity()  # only the text tower was exported
        _load_into(text_model, _strip(tensors, TEXT_PREFIX), directory / WEIGHTS, "text tower")
        text_model, tokenizer = freeze(text_model).to(device), tokenizer_for(vt_config)
    else:
        text_model, tokenizer, loaded_cfg = load_vt(config["vt"]["spec"], device)
        if json.dumps(loaded_cfg, sort_keys=True, default=list) != json.dumps(vt_config, sort_keys=True, default=list):
            raise ExportError(
                f"{directory / CONFIG}: the VT model {config['vt']['spec']} is not the architecture "
                "the audio encoder was built from"
            )
        text_model.visual = nn.Identity()
    torch_device = torch.device(device)
    provenance = {
        "checkpoint": str(directory),
        "vt": config["vt"]["spec"] or {"exported": str(directory / WEIGHTS)},
        "vt_source": "exported model",
        "fbank_stats": {"mean": stats.mean, "std": stats.std},
        "fbank_stats_source": "exported model",
        "frames": encoder.frames,
        "device": str(torch_device),
    }
    model = InferenceModel(
        encoder.to(torch_device).eval(), text_model, tokenizer, stats, directory, torch_device, provenance
    )
    return model, config


LICENCE_SYNTHETIC = (
    "Trained only on the synthetic world that `vipant synth` generates (procedural audio, images "
    "and captions); it contains no third-party recordings. The scores below measure the "
    "pipeline on that world and say nothing about real audio."
)
LICENCE_REAL = (
    "Trained on clips of public datasets whose terms bind you: AudioSet's labels are CC BY 4.0 but its "
    "audio belongs to the YouTube uploaders; AudioCaps and Clotho captions, ESC-50 and UrbanSound8K "
    "(CC BY-NC) and the frozen CLIP model each carry their own licence. Check them before any "
    "commercial use or redistribution of derived data."
)


def model_card(config: dict[str, Any], records, history: list[dict], recipe: dict[str, Any], preset: str | None) -> str:
    """The README.md of an exported model: data, recipe, scores (one row per metrics.json score), caveats."""
    training = config.get("training", {})
    vt = config["vt"]["spec"] or {"checkpoint": config["vt"]["source"]}
    lines = [
        "---",
        "library_name: vipant",
        "tags: [audio, audio-text, zero-shot-audio-classification, clip]",
        "---",
        "",
        f"# vipant audio encoder ({training.get('objective', 'VA')})",
        "",
        "An audio encoder g_A in the joint space of a frozen CLIP (vip-AnT, visually pivoted audio and text), "
        "exported by `vipant export`. Load it with `vipant.load_model(<this folder>)`.",
        "",
        "## Training",
        "",
        f"- workflow preset: {preset or 'not recorded'}",
        f"- objective: {training.get('objective', 'VA pre-training (no AT fine-tuning)')}",
        f"- fine-tuned on: {training.get('finetuned_on', 'not recorded')}",
        f"- initialisation: {training.get('init', 'not recorded')}, frame matching: {training.get('match', 'not recorded')}",
        f"- frozen VT model: {json.dumps(vt, sort_keys=True)}",
        f"- input: {config['input_length']['frames']} FBANK frames ({config['input_length']['seconds']:g} s) of "
        f"{config['fbank']['num_mel_bins']} mel bins at {config['fbank']['sample_rate']} Hz; readout {config['readout']}",
    ]
    if recipe:
        lines += [
            "",
            "Recipe (training configuration):",
            "",
            "```json",
            json.dumps(recipe, indent=2, sort_keys=True),
            "```",
        ]
    if history:
        last = history[-1]
        lines += [
            "",
            f"Training history: {len(history)} epochs; last epoch "
            + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in last.items()),
        ]
    lines += ["", "## Evaluation", ""]
    if records:
        lines += ["| task | score | value | chance | n |", "|---|---|---:|---:|---:|"]
        for r in records:
            for k, v in r.metrics.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    chance = r.chance.get(k)
                    lines.append(f"| {r.task} | {k} | {v:.2f} | {'' if chance is None else f'{chance:.2f}'} | {r.n} |")
        lines += ["", "Scores are read from the run's metrics.json files: " + ", ".join(str(r.path) for r in records)]
    else:
        lines.append("No evaluation was given to the export.")
    synthetic = bool(preset) and preset.startswith("synthetic")
    lines += ["", "## Data and licences", "", LICENCE_SYNTHETIC if synthetic else LICENCE_REAL, ""]
    return "\n".join(lines)
