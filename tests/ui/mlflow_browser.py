"""Drive the MLflow UI in headless Chromium: start ``mlflow ui`` on a database, open its runs page.

Used by ``test_mlflow_ui.py`` (on the tiny run's database) and, run as a script, to make the docs/mlflow.md
screenshot from the demo's database::

    .venv/bin/python tests/ui/mlflow_browser.py --db mlflow.db --out workflow/report/img/mlflow_ui.png

Why it is built this way:

* Chromium is Debian's (``/usr/bin/chromium``), installed with apt-get when missing; Playwright only
  drives it, so no Playwright browser download is needed (these machines reach package registries only).
* ``mlflow ui`` runs in its own process group (it forks uvicorn workers), so stopping it by its pid's
  group stops everything it started and nothing else. One worker is enough for one browser, and
  telemetry is off because nothing outside loopback can be reached.
* MLflow 3's UI is a React app that opens on the GenAI overview and shows child runs folded under their
  parent. :func:`show_runs` does what a user would: switch to "Model training", unfold the
  Snakemake invocation's parent run, and add metric columns through the "Columns" selector.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

log = logging.getLogger(__name__)

CHROMIUM = Path("/usr/bin/chromium")
# Headless in a container without a GPU, as root, with no outside network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BIN = Path(sys.executable).parent
START_TIMEOUT_S = 180.0  # mlflow ui takes ~25 s to answer on 2 busy cores
PAGE_TIMEOUT_MS = 90_000  # first render of the React app on a loaded machine
# Metrics the pipeline's jobs log (vipant.tracking, '@' written '_at_'): an evaluation metric and the
# VA pretraining validation metric, so both kinds of child run show a number.
DEFAULT_METRICS = ("audiocaps_retrieval.t2a_R_at_10", "final_val_a2i_R_at_5")
# The README screenshot adds zero-shot ESC-50 accuracy and the AT fine-tuning validation metric.
README_METRICS = (
    "audiocaps_retrieval.t2a_R_at_10",
    "esc50_zs.acc_prompt",
    "final_val_a2i_R_at_5",
    "final_val_t2a_R_at_10",
)
# Columns shown by default that say nothing about this pipeline's runs; hidden to make room for metrics.
UNUSED_COLUMNS = ("Dataset", "Source", "Models")


# ------------------------------------------------------------------------------------------- Chromium
def ensure_chromium() -> Path:
    """Debian's Chromium, installed with apt-get (as root, non-interactively) when it is missing."""
    if CHROMIUM.exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise RuntimeError(f"{CHROMIUM} is missing and cannot be installed here (needs apt-get as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log.info("installing Debian's chromium with apt-get")
    for cmd in ([apt, "update", "-q"], [apt, "install", "-y", "-q", "--no-install-recommends", "chromium"]):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    if not CHROMIUM.exists():
        raise RuntimeError(f"apt-get installed chromium but {CHROMIUM} does not exist")
    return CHROMIUM


# ---------------------------------------------------------------------------------------- mlflow ui
def free_port() -> int:
    """A TCP port free on loopback right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def mlflow_ui(db: Path, log_path: Path, timeout_s: float = START_TIMEOUT_S) -> Iterator[str]:
    """Run ``mlflow ui`` on the SQLite database ``db`` on a free loopback port; yield its base URL.

    The server's output goes to ``log_path`` (quoted when it does not come up). On exit the server's
    process group is stopped by its pid: SIGTERM, then SIGKILL after 20 s.
    """
    if not db.is_file():
        raise FileNotFoundError(f"MLflow database {db} does not exist")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        str(BIN / "mlflow"),
        "ui",
        "--backend-store-uri",
        f"sqlite:///{db.resolve()}",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=log_path.parent, start_new_session=True
        )
    try:
        deadline = time.monotonic() + timeout_s
        while not _answers(url):
            if proc.poll() is not None:
                raise RuntimeError(f"mlflow ui exited ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"mlflow ui did not answer on {url} within {timeout_s:.0f} s:\n{log_path.read_text()[-3000:]}"
                )
            time.sleep(1.0)
        log.info("mlflow ui (pid %d) answers on %s", proc.pid, url)
        yield url
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server and the workers it forked: its own process group, by its pid."""
    if proc.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def experiment_id(url: str, name: str) -> str:
    """The id of experiment ``name``, asked of the server through MLflow's REST API."""
    query = urllib.parse.urlencode({"experiment_name": name})
    with urllib.request.urlopen(f"{url}/api/2.0/mlflow/experiments/get-by-name?{query}", timeout=30) as resp:
        return json.load(resp)["experiment"]["experiment_id"]


# ------------------------------------------------------------------------------------------- the page
def run_artifacts_url(url: str, exp_id: str, run_id: str) -> str:
    """The artifacts tab of one run (MLflow 3's hash route)."""
    return f"{url}/#/experiments/{exp_id}/runs/{run_id}/artifacts"


def runs_page_url(url: str, exp_id: str) -> str:
    return f"{url}/#/experiments/{exp_id}/runs?workflowType=machine_learning"


def show_runs(page: "Page", url: str, exp_id: str, metrics: Sequence[str] = DEFAULT_METRICS) -> None:
    """Open the experiment's runs table as a user would set it up: children unfolded, metric columns on.

    Leaves the page showing the parent run, its child runs, and one column per metric in ``metrics``.
    Raises Playwright's TimeoutError, naming what it waited for, when the UI does not show it.
    """
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(runs_page_url(url, exp_id))
    # Parent runs have an unfold button in their name cell; child runs are hidden until it is pressed.
    # It appears once the runs have loaded ("0 matching runs" shows before that).
    unfold = page.locator('button[data-component-id*="runnamecellrenderer"]').first
    unfold.wait_for()
    # The assistant side panel opens by default in a fresh profile and takes a third of the width.
    close = page.locator('button[data-component-id="mlflow.assistant.chat_panel.close"]')
    if close.count():
        close.click()
    # The navigation sidebar is folded away to give the table the width.
    page.locator('button[data-component-id="mlflow_header.toggle_sidebar_button"]').click()
    unfold.click()
    page.get_by_test_id("column-selection-dropdown").filter(visible=True).first.click()
    tree = page.locator('[data-testid="column-selector-tree"]')
    search = page.get_by_placeholder("Search columns")
    for metric in metrics:
        search.fill(metric)
        _tree_node(tree, metric).click()
    search.fill("")
    for column in UNUSED_COLUMNS:
        node = _tree_node(tree, column)
        if node.count():
            node.click()
    page.keyboard.press("Escape")
    _widen_column(page, "attributes.`Run Name`", 320)
    for metric in metrics:
        _widen_column(page, metric_column_id(metric), 8 * len(metric) + 30)


def _tree_node(tree: "Locator", name: str) -> "Locator":
    """The column selector's entry called exactly ``name`` (search highlighting splits its text)."""
    return tree.locator(".du-bois-light-tree-title").filter(has_text=re.compile(rf"^{re.escape(name)}$")).first


def metric_column_id(metric: str) -> str:
    """The runs table's column id of a metric (ag-grid ``col-id``)."""
    return f"metrics.`{metric}`"


def _widen_column(page: "Page", column_id: str, width: int) -> None:
    """Drag a column header's right edge to ``width`` pixels, as a user does to read cut-off names.

    The drag handle straddles the border and its right half lies under the next header, so the drag
    starts just inside the column's own header.
    """
    header = page.locator(f'.ag-header-cell[col-id="{column_id}"]')
    box = header.first.bounding_box() if header.count() else None
    if box is None or box["width"] >= width:  # not rendered (scrolled out of view), or wide enough
        return
    x, y = box["x"] + box["width"] - 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + width - box["width"], y, steps=10)
    page.mouse.up()


def metric_cell(page: "Page", run_name: str, metric: str):
    """The table cell of ``metric`` in the row of the run named ``run_name``."""
    row_index = page.get_by_role("row").filter(has_text=run_name).first.get_attribute("row-index")
    return page.locator(f'[row-index="{row_index}"] [col-id="{metric_column_id(metric)}"]').first


def launch_chromium(playwright):
    """Headless Debian Chromium through Playwright (no Playwright browser download)."""
    return playwright.chromium.launch(executable_path=str(ensure_chromium()), args=CHROMIUM_ARGS)


def screenshot(
    db: Path,
    out: Path,
    experiment: str = "vipant",
    metrics: Sequence[str] = README_METRICS,
    size: tuple[int, int] = (1600, 900),
) -> None:
    """Save a PNG of ``experiment``'s runs page with ``metrics`` as columns, served from the database ``db``."""
    from playwright.sync_api import sync_playwright

    out.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        mlflow_ui(db, Path(tmp) / "mlflow_ui.log") as url,
        sync_playwright() as p,
    ):
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": size[0], "height": size[1]})
            show_runs(page, url, experiment_id(url, experiment), metrics)
            page.get_by_text("pretrain_va[", exact=False).first.wait_for()
            # Written beside the target and renamed, so a failed run never leaves half a PNG.
            partial = Path(tmp) / out.name
            page.screenshot(path=str(partial))
            shutil.move(partial, out)
        finally:
            browser.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("mlflow.db"), help="SQLite MLflow database")
    parser.add_argument("--experiment", default="vipant")
    parser.add_argument("--out", type=Path, required=True, help="PNG to write")
    parser.add_argument("--metric", action="append", help=f"metric column (repeatable; default {README_METRICS})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    screenshot(args.db, args.out, args.experiment, tuple(args.metric or README_METRICS))
    log.info("wrote %s", args.out)


if __name__ == "__main__":
    main()
