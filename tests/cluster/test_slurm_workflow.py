"""The tiny DAG through ``workflow/profiles/slurm`` on a real one-node SLURM cluster, tracked on an MLflow
server: every job runs as a SLURM job, every result equals the local run's, every run reaches the server.

The SLURM work dir starts as a copy of the local run (``tiny_workflow``), timestamps kept, with the outputs
of one branch of each kind removed (``REBUILT``): the VA pretraining of VA-Rand (``gpu=1``, the profile's
``gpu`` partition), the AT fine-tuning on GC, the evaluation of both models and the two tables. Snakemake
sees everything else up to date (mtimes; seeded files have no metadata, so no other trigger fires) and
submits exactly those six jobs, three levels deep. The data stages and the other models are what the local
run built with the same code; rebuilding them through SLURM would only repeat ~55 submissions of the same
rules (it took 13 min here), while the checks below stay the same: every job of the invocation is an sbatch
job, its results equal the local run's exactly, its runs reach the server under one parent.

The run uses the profile unchanged (executor, partitions, resources) plus what this cluster needs:

* ``--slurm-status-command squeue --slurm-no-account``: accounting is off, so no sacct and no accounts
  (plugin 2.8.0 declares ``--slurm-no-account`` but never reads it: it tries to guess an account with
  sacct, fails, and submits without one, which is what this cluster needs anyway);
* ``--slurm-init-seconds-before-status-checks 1``: the plugin polls 1 s after a job finishes, then backs
  off by 10 s per poll that sees no job finish (plugin 2.8.0); its default of 40 s dominates a tiny run;
* ``--slurm-keep-successful-logs``: the per-job SLURM logs are the evidence that each job ran in SLURM;
* ``--set-threads``: the rules the profile gives more threads run with the threads they declare, as in the
  local run. OMP thread count changes float summation order: one AT fine-tuning with 2 threads instead of
  1 ended with 3 of its 20 weight tensors off by up to 9.3e-10, which can flip a rank in the tiny
  retrieval metrics. With equal threads the code is deterministic, so results are compared exactly
  (this comparison found VA-Rand's unseeded random init, fixed in ``vipant pretrain-va``).

Time on this 2-core machine: each job spends ~20 s in the plugin's two nested Snakemake start-ups (sbatch
job, then srun step) and a median 16 s between finishing and being seen by the poller. The whole tiny DAG
(60 sbatch jobs) took 766 s at load average 5-16; the six jobs of ``REBUILT`` take about 2 min.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.cluster

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "workflow" / "profiles" / "slurm"
# The `threads:` the rules declare, which the local run used; the profile raises them for GPU nodes.
LOCAL_THREADS = {"pretrain_va": 1, "finetune_at": 1, "embed_frames": 1, "embed_text": 1}
# Rules with no command (pure targets): Snakemake finishes them in the main process, never submits them.
NO_COMMAND_RULES = {"data"}

CLUSTER_ARGS = (
    "--workflow-profile",
    str(PROFILE),
    "--slurm-status-command",
    "squeue",
    "--slurm-no-account",
    "--slurm-init-seconds-before-status-checks",
    "1",
    "--slurm-keep-successful-logs",
)
# What the SLURM run rebuilds on top of the local run, under data/<preset>/: output dirs of one model per
# training rule (VA-Rand: pretrain_va, gpu=1; AT w/ GC: finetune_at) and of their evaluations. The tables
# that read them are removed too; everything else is the local run's, copied with its timestamps.
REBUILT = ("models/va/va_rand", "models/at/GC", "eval/va_rand", "eval/at_GC")
REBUILT_TABLES = ("results/table3.csv", "results/table4.csv")
# The jobs that must follow, as (rule, wildcards) in Snakemake's "wildcards:" notation ("" for none).
EXPECTED_JOBS = {
    ("pretrain_va", "va=va_rand"),
    ("finetune_at", "curation=GC"),
    ("evaluate", "model=va_rand"),
    ("evaluate", "model=at_GC"),
    ("table", "table=table3"),
    ("table", "table=table4"),
}
# Rules of EXPECTED_JOBS that declare gpu=1: the profile sends them to its gpu partition with --gpus=1.
GPU_RULES = {"pretrain_va", "finetune_at", "evaluate"}
_JOB_HEADER = re.compile(r"^(local)?rule (\w+):\n(?:    .*\n)*?    jobid: (\d+)$", re.MULTILINE)
_JOB_BLOCK = re.compile(r"^(?:local)?rule (\w+):\n((?:    .*\n)*)", re.MULTILINE)
_SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.")


@dataclass(frozen=True)
class SlurmRun:
    work: Path
    stderr: str
    seconds: float
    records: dict[str, dict[str, str]]  # SLURM job id -> slurmctld's record of it

    def jobs(self) -> dict[int, tuple[str, bool]]:
        """Snakemake job id -> (rule, ran locally?) for every job this invocation scheduled."""
        return {int(jobid): (rule, bool(local)) for local, rule, jobid in _JOB_HEADER.findall(self.stderr)}

    def scheduled(self) -> set[tuple[str, str]]:
        """(rule, wildcards as Snakemake prints them, "" for none) of every job this invocation scheduled."""
        found = set()
        for rule, body in _JOB_BLOCK.findall(self.stderr):
            wildcards = re.search(r"^    wildcards: (.*)$", body, re.MULTILINE)
            found.add((rule, wildcards.group(1) if wildcards else ""))
        return found

    def submissions(self) -> dict[int, tuple[str, Path]]:
        """Snakemake job id -> (SLURM job id, SLURM log file) for every job submitted with sbatch."""
        return {int(job): (slurm, Path(path)) for job, slurm, path in _SUBMITTED.findall(self.stderr)}


def _failure_report(work: Path, stderr: str, cluster) -> str:
    rule_logs = [p for p in (work / "data").rglob("*.log") if "Traceback" in p.read_text(errors="replace")]
    slurm_logs = [
        p
        for p in (work / ".snakemake" / "slurm_logs").rglob("*.log")
        if re.search(r"Error|Traceback|error:", p.read_text(errors="replace"))
    ]
    tails = "\n".join(f"--- {p}\n{p.read_text(errors='replace')[-2000:]}" for p in [*rule_logs, *slurm_logs][:6])
    return f"{stderr[-5000:]}\n{tails}\n{cluster.logs()}"


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, mlflow_server, tiny_workflow: Path, tiny_targets, snakemake, tmp_path_factory) -> SlurmRun:
    """A copy of the local run less ``REBUILT``, its targets built through the SLURM profile."""
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    unpinned = set(profile.get("set-threads", {})) - set(LOCAL_THREADS)
    assert not unpinned, f"the profile raises threads of {unpinned}: add their local threads to LOCAL_THREADS"
    work = tmp_path_factory.mktemp("slurm_run")
    shutil.copy(tiny_workflow / "test_config.yaml", work / "test_config.yaml")
    # copytree copies with shutil.copy2: modification times are kept, so Snakemake sees the seed up to date.
    # Not copied: .snakemake (locks, metadata of the local invocation) and mlflow.db (this run tracks on the server).
    for part in ("data", "results"):
        shutil.copytree(tiny_workflow / part, work / part, symlinks=True)
    (preset_dir,) = (work / "data").iterdir()
    for rel in REBUILT:
        assert (preset_dir / rel).is_dir(), f"the local run has no {rel} to rebuild"
        shutil.rmtree(preset_dir / rel)
    for rel in REBUILT_TABLES:
        (work / rel).unlink()
    env = {**slurm_cluster.env, "VIPANT_MLFLOW_URI": mlflow_server.uri}
    threads = [f"{rule}={n}" for rule, n in LOCAL_THREADS.items()]
    start = time.monotonic()
    # Targets first: --set-threads takes every word after it.
    proc = snakemake(work, *tiny_targets, *CLUSTER_ARGS, "--set-threads", *threads, check=False, env_extra=env)
    seconds = time.monotonic() - start
    assert proc.returncode == 0, f"snakemake through SLURM failed ({proc.returncode}):\n" + _failure_report(
        work, proc.stderr, slurm_cluster
    )
    log.warning("tiny DAG through SLURM: %.0f s wall", seconds)
    slurm_ids = [slurm for _, slurm, _ in _SUBMITTED.findall(proc.stderr)]
    return SlurmRun(work=work, stderr=proc.stderr, seconds=seconds, records=slurm_cluster.job_records(slurm_ids))


def test_tiny_dag_runs_through_slurm(slurm_run: SlurmRun, tiny_targets) -> None:
    """Every job with a command was an sbatch job whose SLURM log the cluster wrote."""
    jobs = slurm_run.jobs()
    submitted = slurm_run.submissions()
    assert jobs, f"no jobs found in Snakemake's output:\n{slurm_run.stderr[-3000:]}"
    local = {rule for rule, is_local in jobs.values() if is_local}
    assert local <= NO_COMMAND_RULES, f"rules run outside SLURM: {local - NO_COMMAND_RULES}"
    expected = {job for job, (rule, is_local) in jobs.items() if not is_local}
    assert set(submitted) == expected, f"not submitted: {sorted(jobs[j][0] for j in expected - set(submitted))}"
    slurm_ids = [slurm for slurm, _ in submitted.values()]
    assert len(set(slurm_ids)) == len(slurm_ids), "two Snakemake jobs share a SLURM job id"
    for job, (slurm_id, slurm_log) in submitted.items():
        path = slurm_log if slurm_log.is_absolute() else slurm_run.work / slurm_log
        assert path.is_file(), f"{jobs[job][0]}: SLURM log {path} missing"
        assert path.stem == slurm_id
    # Exactly the removed branch was rebuilt (the seeded outputs were taken as up to date), and it holds a
    # GPU training job, a fine-tuning, evaluations and the tables.
    assert {rule for rule, _ in jobs.values()} >= {"pretrain_va", "finetune_at", "evaluate", "table"}
    assert slurm_run.scheduled() == EXPECTED_JOBS, f"scheduled {sorted(slurm_run.scheduled())}"
    (preset_dir,) = (slurm_run.work / "data").iterdir()
    for path in (*(slurm_run.work / t for t in REBUILT_TABLES), *(preset_dir / d / "model.pt" for d in REBUILT[:2])):
        assert path.is_file(), f"{path} not rebuilt"
    # What SLURM itself granted: the profile's partition per rule, and one GPU (gres) to each gpu=1 rule.
    for job, (slurm_id, _) in submitted.items():
        rule, record = jobs[job][0], slurm_run.records[slurm_id]
        gpu_rule = rule in GPU_RULES
        assert record["JobState"] == "COMPLETED", (rule, record)
        assert record["Partition"] == ("gpu" if gpu_rule else "cpu"), (rule, record)
        gres = re.fullmatch(r"gpu:(\d+)", record.get("JOB_GRES", ""))
        assert (int(gres.group(1)) if gres else 0) == (1 if gpu_rule else 0), (rule, record.get("JOB_GRES"))
    log.warning("%d SLURM jobs in %.0f s", len(submitted), slurm_run.seconds)


def _metrics_files(work: Path) -> dict[str, dict]:
    return {
        str(p.relative_to(work)): json.loads(p.read_text()) for p in sorted(work.glob("data/*/eval/*/*/metrics.json"))
    }


def test_results_equal_the_local_run(slurm_run: SlurmRun, tiny_workflow: Path) -> None:
    """Tables and every metrics.json are identical to the local run's (same threads, deterministic code)."""
    for table in ("results/table3.csv", "results/table4.csv"):
        pd.testing.assert_frame_equal(
            pd.read_csv(slurm_run.work / table), pd.read_csv(tiny_workflow / table), check_exact=True, obj=table
        )
    ours, local = _metrics_files(slurm_run.work), _metrics_files(tiny_workflow)
    assert local, "the local run wrote no metrics.json"
    assert ours.keys() == local.keys()
    for name in local:
        assert ours[name] == local[name], f"{name} differs from the local run"


def test_runs_reach_the_tracking_server(slurm_run: SlurmRun, mlflow_server, tiny_workflow: Path) -> None:
    """One child run per training/evaluation job, all under one parent, each tagged with its SLURM job."""
    experiment = yaml.safe_load((ROOT / "config.yaml").read_text())["mlflow"]["experiment"]

    def runs(uri: str) -> list:
        client = MlflowClient(uri)
        found = client.get_experiment_by_name(experiment)
        assert found is not None, f"experiment {experiment!r} missing at {uri}"
        return client.search_runs([found.experiment_id], max_results=5000)

    server = runs(mlflow_server.uri)
    parents = [r for r in server if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1, f"expected one parent run, got {[r.info.run_name for r in parents]}"
    parent = parents[0]
    assert parent.info.status == "FINISHED"
    children = [r for r in server if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == len(server) - 1
    # The local run's child runs of the jobs this invocation ran: the same names, no more, no fewer.
    ran = {
        f"{rule}[{wildcards.replace(', ', ',')}]" if wildcards else rule for rule, wildcards in slurm_run.scheduled()
    }
    local_names = sorted(
        r.info.run_name
        for r in runs(f"sqlite:///{tiny_workflow / 'mlflow.db'}")
        if "mlflow.parentRunId" in r.data.tags and r.info.run_name in ran
    )
    assert {"pretrain_va[va=va_rand]", "finetune_at[curation=GC]", "evaluate[model=at_GC]"} <= set(local_names)
    assert sorted(r.info.run_name for r in children) == local_names
    slurm_ids = {slurm for slurm, _ in slurm_run.submissions().values()}
    for run in children:
        assert run.info.status == "FINISHED", run.info.run_name
        assert run.data.tags.get("slurm.job_id") in slurm_ids, f"{run.info.run_name} has no SLURM job id tag"
