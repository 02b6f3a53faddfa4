"""Shared fixtures: one run of the whole DAG on a tiny synthetic world, used by the workflow tests, the
SLURM cluster test (which compares its results with this local run) and the MLflow UI test.

The run happens once per session (about 5 minutes on 2 cores) in a temp directory, and only when a test
that needs it is selected.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# What the tiny run builds; tests/cluster runs the same targets through SLURM.
TINY_TARGETS = ("data", "results/table3.csv", "results/table4.csv")

TINY_TRAINING = {
    "vt": {"model": {"embed_dim": 64, "quick_gelu": True,
                     "vision_cfg": {"image_size": 224, "layers": 1, "width": 64, "patch_size": 32, "head_width": 32},
                     "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 1}},
           "train": {"epochs": 2, "batch_size": 32}},
    "va": {"frames_length": 1000, "max_val": 16, "train": {"epochs": 2, "batch_size": 8, "warmup_epochs": 1},
           "models": {"vipant": {"init": "clip", "match": "random", "seed": 0},
                      "va_rand": {"init": "random", "match": "random", "seed": 0}}},
    "at": {"init": "vipant", "curations": ["AC", "FC", "VC", "RC", "GL", "GC"],
           "train": {"epochs": 1, "batch_size": 8, "warmup_epochs": 0, "spec_augment": False}},
    "fc": {"generator": "trigram", "n": 50, "seed": 0},
}


def run_snakemake(workdir: Path, *args: str, check: bool = True, extra_config: Path | None = None,
                  env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    env.pop("VIPANT_MLFLOW_URI", None)
    env.update(env_extra or {})  # e.g. the cluster test's SLURM_CONF and tracking server
    proc = subprocess.run(
        [str(BIN / "snakemake"), "-s", str(ROOT / "Snakefile"), "--configfile", str(ROOT / "config.yaml"),
         str(extra_config or workdir / "test_config.yaml"), "--cores", "2", *args],
        cwd=workdir, capture_output=True, text=True, env=env, timeout=1500,
    )
    if check and proc.returncode != 0:
        logs = "\n".join(f"--- {p}\n{p.read_text()[-2000:]}" for p in (workdir / "data").rglob("*.log")
                         if "Error" in p.read_text() or "Traceback" in p.read_text())
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stderr[-4000:]}\n{logs}")
    return proc


def tiny_config() -> dict:
    from vipant.synth.config import WorldConfig

    return {"presets": {"synthetic": {
        "world": WorldConfig.tiny().to_dict(),
        "download": {"url_template": "{world_url}/web/videos/{ytid}.mp4", "shards": 2, "retries": 0,
                     "backoff": 0.1, "min_coverage": 0.5},
        **TINY_TRAINING,
    }}}


@pytest.fixture(scope="session")
def snakemake():
    """The function that runs Snakemake on this repository's workflow in a work directory."""
    return run_snakemake


@pytest.fixture(scope="session")
def tiny_targets() -> tuple[str, ...]:
    return TINY_TARGETS


@pytest.fixture(scope="session")
def tiny_workflow(tmp_path_factory) -> Path:
    """Work directory of one local run of TINY_TARGETS on the tiny world (MLflow in <dir>/mlflow.db)."""
    work = tmp_path_factory.mktemp("workflow")
    (work / "test_config.yaml").write_text(yaml.safe_dump(tiny_config()))
    run_snakemake(work, *TINY_TARGETS)
    return work

