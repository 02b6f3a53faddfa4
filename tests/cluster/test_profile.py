"""The SLURM profile against the workflow's rules, without a cluster (runs in every test session).

A GPU rule missing from the profile would be sent to the CPU partition with ``--gpus=1``, which a real
cluster rejects or queues forever; a renamed rule would leave a stale entry that silently applies to
nothing. Both are found here by loading the workflow for each preset with Snakemake's API.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

ROOT = Path(__file__).resolve().parents[2]
PROFILE = yaml.safe_load((ROOT / "workflow" / "profiles" / "slurm" / "config.yaml").read_text())
PRESETS = sorted(yaml.safe_load((ROOT / "config.yaml").read_text())["presets"])


def _rules(preset: str, workdir: Path) -> dict[str, object]:
    """Rule name -> its ``gpu`` resource as declared (an int, or a callable evaluated per job)."""
    with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        workflow = api.workflow(
            resource_settings=ResourceSettings(cores=1),  # the workflow reads the core count while parsing
            config_settings=ConfigSettings(configfiles=[ROOT / "config.yaml"], config={"preset": preset}),
            snakefile=ROOT / "Snakefile",
            workdir=workdir,
        )
        return {rule.name: rule.resources.get("gpu") for rule in workflow._workflow.rules}


@pytest.fixture(scope="module")
def rules_by_preset(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    return {preset: _rules(preset, tmp_path_factory.mktemp(preset)) for preset in PRESETS}


def _wants_gpu(gpu: object) -> bool:
    value = getattr(gpu, "value", gpu)
    return callable(value) or bool(value)


def test_every_gpu_rule_goes_to_a_gpu_partition(rules_by_preset) -> None:
    cpu_partition = PROFILE["default-resources"]["slurm_partition"]
    overrides = PROFILE.get("set-resources", {})
    for preset, rules in rules_by_preset.items():
        gpu_rules = sorted(name for name, gpu in rules.items() if _wants_gpu(gpu))
        assert gpu_rules, f"{preset}: no rule declares a GPU (has the resource been renamed?)"
        stray = [r for r in gpu_rules if overrides.get(r, {}).get("slurm_partition", cpu_partition) == cpu_partition]
        assert not stray, f"{preset}: GPU rules left on partition {cpu_partition!r} by the profile: {stray}"


def test_profile_names_only_existing_rules(rules_by_preset) -> None:
    known = set().union(*rules_by_preset.values())
    for section in ("set-resources", "set-threads"):
        unknown = set(PROFILE.get(section, {})) - known
        assert not unknown, f"profile {section} names rules the workflow does not have: {sorted(unknown)}"
