"""MLflow tracking: setup, parent/child runs, failure status, and many job processes on one SQLite file."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import closing
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from vipant import tracking

N_PROCS = 6
N_STEPS = 20
N_PARAMS = 50


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (tracking.ENV_URI, tracking.ENV_EXPERIMENT, tracking.ENV_PARENT_RUN, tracking.ENV_GIT_COMMIT):
        monkeypatch.delenv(name, raising=False)


def test_setup_is_idempotent_and_uses_wal(db_uri: str) -> None:
    first = tracking.setup_tracking(db_uri, "vipant")
    assert tracking.setup_tracking(db_uri, "vipant") == first
    assert tracking.setup_tracking(db_uri, "other") != first
    db = db_uri.removeprefix("sqlite:///")
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_uri_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert tracking.resolve_tracking_uri() == f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv(tracking.ENV_URI, "sqlite:///sub/x.db")
    assert tracking.resolve_tracking_uri() == f"sqlite:///{tmp_path / 'sub' / 'x.db'}"
    assert tracking.resolve_tracking_uri("http://mlflow:5000") == "http://mlflow:5000"
    monkeypatch.setenv(tracking.ENV_URI, "off")
    assert tracking.resolve_tracking_uri("sqlite:///y.db") is None
    monkeypatch.delenv(tracking.ENV_URI)
    assert tracking.resolve_experiment() == "vipant"
    monkeypatch.setenv(tracking.ENV_EXPERIMENT, "ablation")
    assert tracking.resolve_experiment() == "ablation" and tracking.resolve_experiment("x") == "x"


def test_child_run_under_parent(db_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(tracking.ENV_URI, db_uri)
    parent = tracking.workflow_start("snakemake all", {"targets": "all"})
    assert parent and os.environ[tracking.ENV_PARENT_RUN] == parent
    assert os.environ[tracking.ENV_URI] == db_uri
    params = {"train": {"lr": 0.001, "epochs": 3, "datasets": ["audioset", "vggsound"]}, "seed": 7}
    with tracking.job_run(
        rule="train_va",
        wildcards={"seed": 7, "variant": "base"},
        params=params,
        preset="synthetic",
        job_info={"threads": 2},
    ) as run:
        for step in range(5):
            run.log_metrics({"loss": 1.0 / (step + 1), "acc": step / 5}, step=step)
        run.set_tags({"note": "ok"})
        artifact = Path(db_uri.removeprefix("sqlite:///")).parent / "summary.txt"
        artifact.write_text("done\n")
        run.log_artifact(artifact)
        run_id = run.run_id
    tracking.workflow_end("FINISHED")

    client = MlflowClient(db_uri)
    child = client.get_run(run_id)
    tags = child.data.tags
    assert child.info.status == "FINISHED"
    assert child.info.run_name == "train_va[seed=7,variant=base]"
    assert tags["mlflow.parentRunId"] == parent
    assert tags["rule"] == "train_va" and tags["preset"] == "synthetic"
    assert tags["seed"] == "7" and tags["variant"] == "base" and tags["snakemake.threads"] == "2"
    assert tags["git_commit"] == os.environ[tracking.ENV_GIT_COMMIT] != ""
    assert tags["note"] == "ok"
    assert child.data.params == {
        "train.lr": "0.001",
        "train.epochs": "3",
        "train.datasets": '["audioset", "vggsound"]',
        "seed": "7",
    }
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(s, 1.0 / (s + 1)) for s in range(5)]
    assert [a.path for a in client.list_artifacts(run_id)] == ["summary.txt"]
    assert client.get_run(parent).info.status == "FINISHED"


def test_failing_job_ends_failed_and_reraises(db_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(tracking.ENV_URI, db_uri)
    seen: list[str] = []
    with pytest.raises(RuntimeError, match="boom"):
        with tracking.job_run(rule="eval", wildcards={}, params={}, preset="synthetic") as run:
            seen.append(run.run_id)
            raise RuntimeError("boom")
    run = MlflowClient(db_uri).get_run(seen[0])
    assert run.info.status == "FAILED"
    assert "mlflow.parentRunId" not in run.data.tags  # no parent in the environment

    parent = tracking.workflow_start("snakemake failing")
    tracking.workflow_end("FAILED")  # what the Snakefile's onerror does
    assert MlflowClient(db_uri).get_run(parent).info.status == "FAILED"


@pytest.mark.skipif(signal.getsignal(signal.SIGTERM) != signal.SIG_DFL, reason="SIGTERM already handled")
def test_sigterm_ends_run_killed(db_uri: str) -> None:
    seen: list[str] = []
    with pytest.raises(SystemExit):
        with tracking.job_run(rule="train", wildcards={}, params={}, preset="p", tracking_uri=db_uri) as run:
            seen.append(run.run_id)
            os.kill(os.getpid(), signal.SIGTERM)  # Snakemake or scancel stopping the job
            time.sleep(5)
    assert MlflowClient(db_uri).get_run(seen[0]).info.status == "KILLED"
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_many_params_are_batched_and_long_values_cut(db_uri: str) -> None:
    params = {"grid": {f"p{i:03d}": i for i in range(250)}, "long": "x" * 10_000, "bad key+1": 1}
    with tracking.job_run(rule="big", wildcards={"k": 1}, params=params, preset="p", tracking_uri=db_uri) as run:
        run_id = run.run_id
    logged = MlflowClient(db_uri).get_run(run_id).data.params
    assert len(logged) == 252
    assert logged["grid.p249"] == "249" and logged["bad key_1"] == "1"
    assert len(logged["long"]) == tracking.MAX_PARAM_VALUE


def test_disabled_mode_records_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(tracking.ENV_URI, "off")
    with tracking.job_run(rule="train", wildcards={}, params={"a": 1}, preset="p") as run:
        run.log_metrics({"loss": 1.0}, step=0)
        run.log_params({"b": 2})
        run.set_tags({"c": 3})
        run.log_artifact(tmp_path)
    assert run.run_id is None and not run.enabled
    assert tracking.workflow_start("x") is None
    assert list(tmp_path.iterdir()) == []


def test_retry_only_on_lock_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracking.retry, "_FIRST_DELAY", 0.001)
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("wrapped") from sqlite3.OperationalError("database is locked")
        return "ok"

    assert tracking._with_retry("flaky", flaky) == "ok" and len(calls) == 3
    with pytest.raises(ValueError):
        tracking._with_retry("bad", lambda: (_ for _ in ()).throw(ValueError("bad request")))
    with pytest.raises(sqlite3.OperationalError):
        tracking._with_retry(
            "stuck", lambda: (_ for _ in ()).throw(sqlite3.OperationalError("database is locked")), deadline_s=0.05
        )


JOB_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path

    import mlflow.store.tracking.sqlalchemy_store  # the slow imports happen before the start signal
    from mlflow.tracking import MlflowClient
    from vipant import tracking

    index, ready, go = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    ready.touch()
    while not go.exists():  # every process opens its run and writes at the same moment
        time.sleep(0.005)
    params = {"train": {f"p{i:02d}": i * index for i in range(%(params)d)}}
    with tracking.job_run(rule="train", wildcards={"seed": index}, params=params, preset="synthetic") as run:
        for step in range(%(steps)d):
            run.log_metrics({"loss": index + step / 100, "acc": step}, step=step)
        print(run.run_id)
    """
    % {"params": N_PARAMS, "steps": N_STEPS}
)


def test_parallel_job_processes_lose_nothing(db_uri: str, tmp_path: Path) -> None:
    experiment_id = tracking.setup_tracking(db_uri, "vipant")
    parent = tracking.start_parent_run(db_uri, "vipant", "snakemake parallel")
    env = {**os.environ, **tracking.parent_env(db_uri, "vipant", parent, commit="abc123")}
    script, go = tmp_path / "job.py", tmp_path / "go"
    script.write_text(JOB_SCRIPT)
    ready = [tmp_path / f"ready-{i}" for i in range(N_PROCS)]
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(i), str(ready[i]), str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(N_PROCS)
    ]
    deadline = time.monotonic() + 90
    while not all(r.exists() for r in ready) and time.monotonic() < deadline:
        assert all(p.poll() is None for p in procs), "a job process died before the start signal"
        time.sleep(0.05)
    go.touch()
    started = time.monotonic()
    results = [p.communicate(timeout=120) for p in procs]
    elapsed = time.monotonic() - started
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0, err[-3000:]
    run_ids = {out.strip() for out, _ in results}
    assert len(run_ids) == N_PROCS
    tracking.end_parent_run(db_uri, parent, "FINISHED")
    retries = sum(err.count("database locked (try") for _, err in results)
    print(f"{N_PROCS} processes x {N_STEPS} steps: {elapsed:.1f} s after the start signal, {retries} lock retries")

    # What `mlflow ui --backend-store-uri sqlite:///...` shows: the same store, searched by experiment.
    client = MlflowClient(db_uri)
    runs = client.search_runs([experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent}'")
    assert {r.info.run_id for r in runs} == run_ids
    for run in runs:
        seed = int(run.data.tags["seed"])
        assert run.info.status == "FINISHED"
        assert run.data.tags["git_commit"] == "abc123"
        assert run.info.run_name == f"train[seed={seed}]"
        assert len(run.data.params) == N_PARAMS and run.data.params["train.p49"] == str(49 * seed)
        for key in ("loss", "acc"):
            steps = sorted(m.step for m in client.get_metric_history(run.info.run_id, key))
            assert steps == list(range(N_STEPS)), (seed, key)


def test_metric_names_with_at_sign_are_made_valid():
    from vipant.tracking import metric_key

    assert metric_key("t2a_R@10") == "t2a_R_at_10"
    assert metric_key("audiocaps_retrieval.a2t_mAP@10") == "audiocaps_retrieval.a2t_mAP_at_10"
