"""The tiny DAG through ``workflow/profiles/slurm`` on a real one-node SLURM cluster, tracked on an MLflow
server: every job runs as a SLURM job, every result equals the local run's, every run reaches the server.

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

Time on this 2-core machine, shared with other sessions: the SLURM run of the tiny DAG (60 sbatch jobs)
took 766 s at load average 5-16 and 27 min at 15-24 (the local run it is compared with comes on top);
each job spends ~20 s in the plugin's two nested Snakemake start-ups (sbatch job, then srun step) and a
median 16 s between finishing and being seen by the poller.
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
LOCAL_THREADS = {"pretrain_va": 1, "finetune_at": 1}
# Rules with no command (pure targets): Snakemake finishes them in the main process, never submits them.
NO_COMMAND_RULES = {"data"}

CLUSTER_ARGS = (
    "--workflow-profile", str(PROFILE),
    "--slurm-status-command", "squeue",
    "--slurm-no-account",
    "--slurm-init-seconds-before-status-checks", "1",
    "--slurm-keep-successful-logs",
)
_JOB_HEADER = re.compile(r"^(local)?rule (\w+):\n(?:    .*\n)*?    jobid: (\d+)$", re.MULTILINE)
_SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.")


@dataclass(frozen=True)
class SlurmRun:
    work: Path
    stderr: str
    seconds: float

    def jobs(self) -> dict[int, tuple[str, bool]]:
        """Snakemake job id -> (rule, ran locally?) for every job this invocation scheduled."""
        return {int(jobid): (rule, bool(local)) for local, rule, jobid in _JOB_HEADER.findall(self.stderr)}

    def submissions(self) -> dict[int, tuple[str, Path]]:
        """Snakemake job id -> (SLURM job id, SLURM log file) for every job submitted with sbatch."""
        return {int(job): (slurm, Path(path)) for job, slurm, path in _SUBMITTED.findall(self.stderr)}


def _failure_report(work: Path, stderr: str, cluster) -> str:
    rule_logs = [p for p in (work / "data").rglob("*.log") if "Traceback" in p.read_text(errors="replace")]
    slurm_logs = [p for p in (work / ".snakemake" / "slurm_logs").rglob("*.log")
                  if re.search(r"Error|Traceback|error:", p.read_text(errors="replace"))]
    tails = "\n".join(f"--- {p}\n{p.read_text(errors='replace')[-2000:]}" for p in [*rule_logs, *slurm_logs][:6])
    return f"{stderr[-5000:]}\n{tails}\n{cluster.logs()}"


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, mlflow_server, tiny_workflow: Path, tiny_targets, snakemake, tmp_path_factory) -> SlurmRun:
    """A fresh work dir with the local run's config, its targets built through the SLURM profile."""
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    unpinned = set(profile.get("set-threads", {})) - set(LOCAL_THREADS)
    assert not unpinned, f"the profile raises threads of {unpinned}: add their local threads to LOCAL_THREADS"
    work = tmp_path_factory.mktemp("slurm_run")
    shutil.copy(tiny_workflow / "test_config.yaml", work / "test_config.yaml")
    env = {**slurm_cluster.env, "VIPANT_MLFLOW_URI": mlflow_server.uri}
    threads = [f"{rule}={n}" for rule, n in LOCAL_THREADS.items()]
    start = time.monotonic()
    # Targets first: --set-threads takes every word after it.
    proc = snakemake(work, *tiny_targets, *CLUSTER_ARGS, "--set-threads", *threads, check=False, env_extra=env)
    seconds = time.monotonic() - start
    assert proc.returncode == 0, f"snakemake through SLURM failed ({proc.returncode}):\n" + _failure_report(work, proc.stderr, slurm_cluster)
    log.warning("tiny DAG through SLURM: %.0f s wall", seconds)
    return SlurmRun(work=work, stderr=proc.stderr, seconds=seconds)


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
    # Each rule present in the local run's outputs ran here too (the same DAG, nothing skipped).
    assert {rule for rule, _ in jobs.values()} >= {"pretrain_va", "finetune_at", "evaluate", "table3", "table4"}
    log.warning("%d SLURM jobs in %.0f s", len(submitted), slurm_run.seconds)


def _metrics_files(work: Path) -> dict[str, dict]:
    return {str(p.relative_to(work)): json.loads(p.read_text()) for p in sorted(work.glob("data/*/eval/*/*/metrics.json"))}


def test_results_equal_the_local_run(slurm_run: SlurmRun, tiny_workflow: Path) -> None:
    """Tables and every metrics.json are identical to the local run's (same threads, deterministic code)."""
    for table in ("results/table3.csv", "results/table4.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(slurm_run.work / table), pd.read_csv(tiny_workflow / table),
                                      check_exact=True, obj=table)
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
    local_names = sorted(r.info.run_name for r in runs(f"sqlite:///{tiny_workflow / 'mlflow.db'}")
                         if "mlflow.parentRunId" in r.data.tags)
    assert sorted(r.info.run_name for r in children) == local_names
    slurm_ids = {slurm for slurm, _ in slurm_run.submissions().values()}
    for run in children:
        assert run.info.status == "FINISHED", run.info.run_name
        assert run.data.tags.get("slurm.job_id") in slurm_ids, f"{run.info.run_name} has no SLURM job id tag"
