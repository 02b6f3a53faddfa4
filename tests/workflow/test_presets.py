"""The presets in config.yaml: ``synthetic_large`` is the demo's world at a larger scale and nothing else."""

from pathlib import Path

import yaml

from vipant.synth import audioset
from vipant.synth.config import WorldConfig

ROOT = Path(__file__).resolve().parents[2]
PRESETS = yaml.safe_load((ROOT / "config.yaml").read_text())["presets"]


def _differences(a: dict, b: dict, prefix: str = "") -> set[str]:
    out = set()
    for key in set(a) | set(b):
        x, y = a.get(key), b.get(key)
        if isinstance(x, dict) and isinstance(y, dict):
            out |= _differences(x, y, f"{prefix}{key}.")
        elif x != y:
            out.add(f"{prefix}{key}")
    return out


def test_the_large_preset_changes_only_sizes_epochs_and_its_directory():
    small, large = PRESETS["synthetic"], PRESETS["synthetic_large"]
    assert _differences(small, large) == {
        "work_dir",
        "world.audioset_unbalanced_train",
        "world.audioset_eval",
        "world.audiocaps_test",
        "world.clotho_evaluation",
        "va.train.epochs",
    }
    assert large["work_dir"] != small["work_dir"]  # the two never share caches
    assert large["world"]["audioset_unbalanced_train"] > small["world"]["audioset_unbalanced_train"]
    # ~the same number of VA steps: more clips, fewer passes over them
    steps = {
        name: p["world"]["audioset_balanced_train"] + p["world"]["audioset_unbalanced_train"]
        for name, p in (("small", small), ("large", large))
    }
    ratio = (steps["large"] * large["va"]["train"]["epochs"]) / (steps["small"] * small["va"]["train"]["epochs"])
    assert 1 <= ratio <= 1.5


def test_every_synthetic_preset_plans_a_world():
    for name, preset in PRESETS.items():
        if "world" in preset:
            cfg = WorldConfig.from_dict(preset["world"])
            clips = audioset.plan(cfg)
            assert len(clips) == cfg.audioset_balanced_train + cfg.audioset_unbalanced_train + cfg.audioset_eval, name
