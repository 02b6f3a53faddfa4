"""Where the pieces of an inference model come from: the audio checkpoint, the frozen VT model (its text
tower embeds labels and queries) and the FBANK normalisation statistics.

Resolution order, most explicit first:

* checkpoint: ``--checkpoint``; else the newest ``<work_dir>/models/at/*/model.pt`` of the preset named
  in ``config.yaml`` (the AT fine-tunes are the models meant to be compared with text);
* VT model: ``--vt``; else the spec the checkpoint records (``vt``, written since checkpoints became
  self-describing); else the workflow layout ``<work_dir>/models/vt/model.pt`` next to the checkpoint;
* FBANK stats: ``--stats``; else the values the checkpoint records (``fbank_stats``); else
  ``<work_dir>/fbank/stats.json`` next to the checkpoint.

``<work_dir>`` of a checkpoint is derived from its path: ``<work_dir>/models/{va,at}/<name>/model.pt``.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MODEL_KINDS = ("va", "at")


class LocateError(RuntimeError):
    """A piece of the inference model cannot be found; the message says what to pass instead."""


@dataclass(frozen=True)
class Located:
    """A resolved piece and a few words on where it came from (logged, and written beside embeddings)."""

    value: Any
    source: str


def default_checkpoint(config_path: str | os.PathLike[str] = "config.yaml") -> Path:
    """The newest AT model (by mtime) of the preset that ``config_path`` selects.

    ``work_dir`` is read relative to the config file's folder, as Snakemake (run from that folder) does.
    """
    import yaml

    config_path = Path(config_path)
    hint = "pass --checkpoint <work_dir>/models/at/<curation>/model.pt (or models/va/<name>/model.pt)"
    if not config_path.is_file():
        raise LocateError(f"no --checkpoint given and no {config_path} here to find the workflow's models; {hint}")
    try:
        config = yaml.safe_load(config_path.read_text()) or {}
        preset = config["preset"]
        work_dir = Path(config["presets"][preset]["work_dir"])
    except (yaml.YAMLError, KeyError, TypeError) as err:
        raise LocateError(f"{config_path}: cannot read preset / presets.<preset>.work_dir ({err!r}); {hint}") from err
    if not work_dir.is_absolute():
        work_dir = config_path.parent / work_dir
    candidates = sorted(work_dir.glob("models/at/*/model.pt"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise LocateError(
            f"no AT model under {work_dir}/models/at/*/model.pt (preset {preset!r} of {config_path}); "
            f"build one with `snakemake results/table3.csv` or {hint}"
        )
    chosen = candidates[-1]
    log.info("checkpoint: %s (newest AT model of preset %s)", chosen, preset)
    return chosen


def workflow_dir(checkpoint: str | os.PathLike[str]) -> Path | None:
    """``<work_dir>`` when the checkpoint sits where the workflow writes models, else None."""
    p = Path(checkpoint).resolve()
    if len(p.parents) >= 4 and p.parent.parent.name in MODEL_KINDS and p.parents[2].name == "models":
        return p.parents[3]
    return None


def _layout_file(checkpoint: Path, relative: str, what: str, flag: str) -> Path:
    """``<work_dir>/<relative>`` around the checkpoint; ``what`` says why we are looking there."""
    root = workflow_dir(checkpoint)
    if root is None:
        raise LocateError(
            f"{checkpoint}: {what} and it is not inside a workflow folder "
            f"(<work_dir>/models/{{va,at}}/<name>/model.pt); pass {flag}"
        )
    path = root / relative
    if not path.is_file():
        raise LocateError(f"{checkpoint}: {what} and the workflow's {path} does not exist; pass {flag}")
    return path


def parse_vt_option(value: str) -> dict[str, Any]:
    """``--vt``: a ``pretrain_vt`` checkpoint path, or an open_clip spec as JSON
    (``{"name": "ViT-B-32-quickgelu", "pretrained": "openai"}``)."""
    if value.lstrip().startswith("{"):
        try:
            spec = json.loads(value)
        except json.JSONDecodeError as err:
            raise LocateError(f"--vt {value!r}: not valid JSON ({err})") from err
        if not isinstance(spec, dict) or not ({"name", "checkpoint"} & set(spec)):
            raise LocateError(f"--vt {value!r}: a JSON spec needs 'name' (+ 'pretrained') or 'checkpoint'")
        return spec
    if not Path(value).is_file():
        raise LocateError(f"--vt {value}: no such file")
    return {"checkpoint": str(value)}


def resolve_vt(checkpoint: str | os.PathLike[str], state: dict[str, Any], override: str | None = None) -> Located:
    """The VT spec (what :func:`vipant.models.vt.load_vt` takes) for this audio checkpoint."""
    checkpoint = Path(checkpoint)
    if override:
        return Located(parse_vt_option(override), "--vt")
    recorded = state.get("vt")
    if isinstance(recorded, dict) and "name" in recorded:
        return Located(dict(recorded), "recorded in the checkpoint")
    if isinstance(recorded, dict) and "checkpoint" in recorded:
        # The workflow records its VT checkpoint relative to the folder Snakemake ran in. Resolve it from
        # the folders around this checkpoint first (the cwd may hold another run's VT model), then as given.
        path = Path(recorded["checkpoint"])
        root = workflow_dir(checkpoint)
        bases = [*root.parents] if root is not None and not path.is_absolute() else []
        for candidate in [base / path for base in bases] + [path]:
            if candidate.is_file():
                return Located({**recorded, "checkpoint": str(candidate)}, "recorded in the checkpoint")
        what = f"its recorded VT model {path} is not found from here,"
    else:
        what = "it records no VT model,"
    path = _layout_file(checkpoint, "models/vt/model.pt", what, "--vt <vt model.pt>")
    return Located({"checkpoint": str(path)}, "workflow layout")


def resolve_stats(checkpoint: str | os.PathLike[str], state: dict[str, Any], override: str | None = None) -> Located:
    """The :class:`~vipant.features.store.FbankStats` the checkpoint was trained with."""
    from vipant.features.store import FbankStats

    if override:
        return Located(_load_stats(Path(override), "--stats"), "--stats")
    recorded = state.get("fbank_stats")
    if isinstance(recorded, dict) and "mean" in recorded and "std" in recorded:
        stats = FbankStats(
            mean=float(recorded["mean"]), std=float(recorded["std"]), n_clips=int(recorded.get("n_clips", 0))
        )
        if not stats.std > 0:
            raise LocateError(f"{checkpoint}: recorded FBANK std must be positive, got {stats.std}; pass --stats")
        return Located(stats, "recorded in the checkpoint")
    path = _layout_file(Path(checkpoint), "fbank/stats.json", "it records no FBANK stats,", "--stats <stats.json>")
    return Located(_load_stats(path, "workflow layout"), f"workflow layout ({path})")


def _load_stats(path: Path, where: str):
    from vipant.features.store import FbankStats

    if not path.is_file():
        raise LocateError(f"{path} ({where}): no such FBANK stats file")
    try:
        stats = FbankStats.load(path)
    except (ValueError, KeyError, TypeError) as err:
        raise LocateError(f"{path}: not an FBANK stats file with mean and std ({err!r})") from err
    if not stats.std > 0:
        raise LocateError(f"{path}: FBANK std must be positive, got {stats.std}")
    return stats
