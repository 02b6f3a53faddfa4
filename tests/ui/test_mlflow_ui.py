"""The pipeline's MLflow runs, as a user sees them in the MLflow UI in a real browser.

``mlflow ui`` serves the tiny run's own database (``tiny_workflow`` in tests/conftest.py); headless
Chromium opens the experiment's runs page, unfolds the Snakemake invocation's parent run and adds metric
columns through the "Columns" selector (``mlflow_browser.show_runs``). The test then checks what is on
the screen: the parent run, a VA pretraining and an evaluation child run by name, the metric columns'
headers, and that the numbers in them are the ones the jobs logged. A screenshot is kept in the test's
temp dir. About a minute after the tiny run: ~25 s for the server to answer, the rest in the browser.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
VISIBLE_MS = 60_000
EVALUATE_RUN = "evaluate[model=vipant]"
PRETRAIN_RUN = "pretrain_va[va=vipant]"


def _logged(db: Path, experiment: str) -> tuple[str, dict[tuple[str, str], float]]:
    """The parent run's name and every (run name, metric) -> last value, read from the database itself."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        runs = con.execute(
            "SELECT r.run_uuid, r.name FROM runs r JOIN experiments e ON r.experiment_id = e.experiment_id "
            "WHERE e.name = ?",
            (experiment,),
        ).fetchall()
        children = {row[0] for row in con.execute("SELECT run_uuid FROM tags WHERE key = 'mlflow.parentRunId'")}
        metrics = con.execute(
            "SELECT r.name, m.key, m.value FROM latest_metrics m JOIN runs r ON r.run_uuid = m.run_uuid"
        ).fetchall()
    finally:
        con.close()
    parents = [name for run_id, name in runs if run_id not in children]
    assert len(parents) == 1, f"expected one Snakemake parent run in {db}, found {parents}"
    return parents[0], {(name, key): value for name, key, value in metrics}


def test_runs_page_shows_the_pipelines_runs_and_metrics(tiny_workflow, mlflow_browser, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    mb = mlflow_browser
    experiment = yaml.safe_load((ROOT / "config.yaml").read_text())["mlflow"]["experiment"]
    db = tiny_workflow / "mlflow.db"
    parent, logged = _logged(db, experiment)
    shown = {EVALUATE_RUN: "audiocaps_retrieval.t2a_R_at_10", PRETRAIN_RUN: "final_val_a2i_R_at_5"}
    assert set(shown.values()) <= set(mb.DEFAULT_METRICS)
    for run, metric in shown.items():
        assert (run, metric) in logged, f"the tiny run logged no {metric} for {run}"

    shot = tmp_path / "mlflow_ui.png"
    with mb.mlflow_ui(db, tmp_path / "mlflow_ui.log") as url, sync_playwright() as p:
        browser = mb.launch_chromium(p)
        # Tall enough that every run of the tiny DAG (~30) is rendered without scrolling.
        page = browser.new_page(viewport={"width": 1600, "height": 1400})
        try:
            mb.show_runs(page, url, mb.experiment_id(url, experiment))
            expect(page.get_by_text(parent, exact=True)).to_be_visible(timeout=VISIBLE_MS)
            for run in (PRETRAIN_RUN, EVALUATE_RUN):
                expect(page.get_by_text(run, exact=True)).to_be_visible(timeout=VISIBLE_MS)
            for metric in mb.DEFAULT_METRICS:
                header = page.locator(f'.ag-header-cell[col-id="{mb.metric_column_id(metric)}"]')
                expect(header).to_be_visible(timeout=VISIBLE_MS)
                expect(header).to_contain_text(metric)
            for run, metric in shown.items():
                cell = mb.metric_cell(page, run, metric)
                expect(cell).to_be_visible(timeout=VISIBLE_MS)
                assert float(cell.inner_text()) == pytest.approx(logged[(run, metric)]), (run, metric)
        finally:
            page.screenshot(path=str(shot))  # on failure too: it shows what the browser saw
            browser.close()
    assert shot.stat().st_size > 10_000, "screenshot is (nearly) empty"


def _run_ids(db: Path) -> dict[str, str]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {name: run_id for run_id, name in con.execute("SELECT run_uuid, name FROM runs ORDER BY start_time")}
    finally:
        con.close()


def test_run_pages_list_artifacts_and_training_runs_have_system_metrics(tiny_workflow, mlflow_browser, tmp_path):
    """An evaluation run's artifacts tab lists the metrics.json folders it logged, and a training run
    recorded CPU and memory (MLflow's system metrics). Catches: artifacts logged to a store the UI cannot
    read, runs without artifacts, training runs without system metrics."""
    from playwright.sync_api import expect, sync_playwright

    mb = mlflow_browser
    experiment = yaml.safe_load((ROOT / "config.yaml").read_text())["mlflow"]["experiment"]
    db = tiny_workflow / "mlflow.db"
    _, logged = _logged(db, experiment)
    assert (PRETRAIN_RUN, "system/cpu_utilization_percentage") in logged
    assert (PRETRAIN_RUN, "system/system_memory_usage_megabytes") in logged
    run_id = _run_ids(db)[EVALUATE_RUN]
    shot = tmp_path / "mlflow_artifacts.png"
    with mb.mlflow_ui(db, tmp_path / "mlflow_ui.log") as url, sync_playwright() as p:
        browser = mb.launch_chromium(p)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        try:
            page.goto(mb.run_artifacts_url(url, mb.experiment_id(url, experiment), run_id), timeout=mb.PAGE_TIMEOUT_MS)
            for task in ("audiocaps_retrieval", "esc50_zs"):
                expect(page.get_by_text(task, exact=True).first).to_be_visible(timeout=VISIBLE_MS)
        finally:
            page.screenshot(path=str(shot))
            browser.close()
