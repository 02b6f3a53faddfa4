"""MLflow artifacts and system metrics (:mod:`vipant.tracking`): what a run carries besides numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from vipant import tracking
from vipant.checkpoint import load_checkpoint, save_checkpoint
from vipant.cli import main


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (tracking.ENV_URI, tracking.ENV_EXPERIMENT, tracking.ENV_PARENT_RUN, tracking.ENV_GIT_COMMIT):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(tracking.ENV_GIT_COMMIT, "test")  # no git calls


def _files(client: MlflowClient, run_id: str, path: str | None = None) -> set[str]:
    out = set()
    for info in client.list_artifacts(run_id, path):
        out |= _files(client, run_id, info.path) if info.is_dir else {info.path}
    return out


def test_a_short_training_job_still_records_cpu_and_memory(db_uri: str) -> None:
    """MLflow's monitor samples every 10 s; a job that ends sooner still gets its final sample.
    Catches: system metrics never started, or lost for jobs shorter than the sampling interval."""
    with tracking.job_run(
        rule="pretrain_va", wildcards={}, params={}, preset="t", tracking_uri=db_uri, system_metrics=True
    ) as run:
        run.log_metrics({"loss": 1.0})
    metrics = MlflowClient(db_uri).get_run(run.run_id).data.metrics
    assert {"system/cpu_utilization_percentage", "system/system_memory_usage_megabytes"} <= set(metrics)
    assert metrics["system/system_memory_usage_megabytes"] > 0
    with tracking.job_run(rule="evaluate", wildcards={}, params={}, preset="t", tracking_uri=db_uri) as plain:
        pass
    assert not any(k.startswith("system/") for k in MlflowClient(db_uri).get_run(plain.run_id).data.metrics)


def test_mlflow_splits_large_batches_itself(db_uri: str) -> None:
    """RunLogger hands MLflow 1,500 metrics and 250 params in one call each (MLflow's limits are 1,000
    and 100 per request). Catches: dropping our chunking without MLflow's client splitting them."""
    with tracking.job_run(
        rule="x", wildcards={}, params={f"p{i}": i for i in range(250)}, preset="t", tracking_uri=db_uri
    ) as run:
        run.log_metrics({f"m{i}": float(i) for i in range(1500)}, step=3)
    data = MlflowClient(db_uri).get_run(run.run_id).data
    assert len(data.params) == 250 and data.params["p249"] == "249"
    assert len(data.metrics) == 1500 and data.metrics["m1499"] == 1499.0


def test_folders_are_copied_or_referenced_by_size(db_uri: str, tmp_path: Path, monkeypatch) -> None:
    """Catches: a large model copied into the artifact store, or a folder's files not listed under its name."""
    folder = tmp_path / "at_GC"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"x" * 2000)
    client = MlflowClient(db_uri)
    with tracking.job_run(rule="x", wildcards={}, params={}, preset="t", tracking_uri=db_uri) as run:
        run.log_artifacts([folder, tmp_path / "absent.json"], "model")
    assert _files(client, run.run_id) == {"model/at_GC/config.json", "model/at_GC/model.safetensors"}
    monkeypatch.setattr(tracking.run_logger, "MAX_ARTIFACT_BYTES", 1000)
    with tracking.job_run(rule="x", wildcards={}, params={}, preset="t", tracking_uri=db_uri) as run:
        run.log_artifacts([folder], "model")
    assert _files(client, run.run_id) == {"model/at_GC.reference.json"}
    ref = json.loads(
        Path(client.download_artifacts(run.run_id, "model/at_GC.reference.json", str(tmp_path))).read_text()
    )
    assert ref["path"] == str(folder.resolve()) and ref["bytes"] == 2002
    assert ref["files"] == ["config.json", "model.safetensors"]


def test_tables_go_to_the_parent_run(db_uri: str, tmp_path: Path, monkeypatch) -> None:
    """`vipant table` logs its CSV into the invocation's parent run. Catches: tables logged nowhere, or
    a job failing when there is no parent run."""
    parent = tracking.start_parent_run(db_uri, "vipant", "snakemake test")
    metrics = tmp_path / "m.json"
    from vipant.tables import write_metrics

    write_metrics(metrics, "vipant", "esc50_zs", {"acc_prompt": 50.0, "acc_noprompt": 40.0}, {}, 10)
    main(["table", "--name", "table4", "--out", str(tmp_path / "table4.csv"), str(metrics)])  # no parent: no log
    monkeypatch.setenv(tracking.ENV_URI, db_uri)
    monkeypatch.setenv(tracking.ENV_PARENT_RUN, parent)
    main(["table", "--name", "table4", "--out", str(tmp_path / "table4.csv"), str(metrics)])
    assert _files(MlflowClient(db_uri), parent) == {"tables/table4.csv"}


def test_export_adds_the_model_to_its_training_run(db_uri: str, inference_layout, tmp_path: Path, monkeypatch) -> None:
    """The checkpoint names the training run; `vipant export` logs the folder there.
    Catches: the exported model logged to no run, or to the wrong one."""
    with tracking.job_run(
        rule="finetune_at", wildcards={"curation": "GC"}, params={}, preset="t", tracking_uri=db_uri
    ) as run:
        pass
    ckpt = tmp_path / "model.pt"
    save_checkpoint(ckpt, {**load_checkpoint(inference_layout["at"]), "mlflow_run_id": run.run_id})
    monkeypatch.setenv(tracking.ENV_URI, db_uri)
    main(["export", str(ckpt), str(tmp_path / "at_GC"), "--vt", str(inference_layout["vt"])])
    assert _files(MlflowClient(db_uri), run.run_id) == {
        "model/at_GC/config.json",
        "model/at_GC/model.safetensors",
        "model/at_GC/README.md",
    }
