"""The test cluster itself: jobs submitted to the profile's partitions run, and a GPU request is granted.

Seconds, where the DAG test takes minutes: when SLURM or munge is broken this fails first, with the
daemons' logs, instead of as a Snakemake error deep in a workflow run.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest

pytestmark = pytest.mark.cluster


def _sbatch(cluster, *args: str) -> str:
    proc = subprocess.run(
        ["sbatch", "--parsable", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **cluster.env},
        cwd=cluster.tmp,
    )
    assert proc.returncode == 0, f"sbatch {args} failed: {proc.stderr}\n{cluster.logs()}"
    return proc.stdout.strip().split(";")[0]


def _wait_done(cluster, job_id: str, timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    state = ""
    while time.monotonic() < deadline:
        state = subprocess.run(
            ["squeue", "-h", "--states=all", "-j", job_id, "-o", "%T"],
            capture_output=True,
            text=True,
            env={**os.environ, **cluster.env},
            timeout=10,
        ).stdout.strip()
        if state in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"):
            return state
        time.sleep(0.3)
    pytest.fail(f"job {job_id} still {state!r} after {timeout_s} s\n{cluster.logs()}")


@pytest.mark.parametrize("partition,extra", [("cpu", []), ("gpu", ["--gpus=1"])])
def test_job_runs_on_profile_partition(slurm_cluster, partition: str, extra: list[str]) -> None:
    out = slurm_cluster.tmp / f"probe_{partition}.out"
    job = _sbatch(
        slurm_cluster,
        "-p",
        partition,
        "--cpus-per-task=1",
        "--mem=100",
        "-t",
        "1",
        *extra,
        "-o",
        str(out),
        "--wrap",
        "echo job=$SLURM_JOB_ID gpus=${SLURM_GPUS:-none} part=$SLURM_JOB_PARTITION",
    )
    assert _wait_done(slurm_cluster, job) == "COMPLETED", out.read_text() if out.exists() else slurm_cluster.logs()
    text = out.read_text()
    assert f"job={job}" in text and f"part={partition}" in text
    if extra:
        assert "gpus=1" in text, text
