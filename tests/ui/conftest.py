"""Browser tests: the MLflow UI seen through headless Chromium.

Opt-in: everything here is skipped unless ``VIPANT_SYSTEM_TESTS=1`` (``.ci/run`` sets it), because the
first run installs Debian's chromium with apt-get (root) and the test needs the tiny pipeline run of
``tests/conftest.py``. The helpers live in ``mlflow_browser.py`` beside this file, which is also the
script that makes the screenshot in docs/mlflow.md; the ``mlflow_browser`` fixture hands that module to tests.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

SYSTEM_TESTS = os.environ.get("VIPANT_SYSTEM_TESTS") == "1"
SKIP_REASON = "system test: set VIPANT_SYSTEM_TESTS=1 to drive the MLflow UI in headless Chromium (apt-get needs root)"
HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip this directory's tests, with the reason, unless system tests were asked for."""
    if SYSTEM_TESTS:
        return
    for item in items:
        if HERE in Path(item.fspath).parents:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


def _load_helpers() -> ModuleType:
    # Tests are imported with --import-mode=importlib (no sys.path entry for this directory), so the
    # helper module is loaded from its file.
    spec = importlib.util.spec_from_file_location("vipant_tests_mlflow_browser", HERE / "mlflow_browser.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def mlflow_browser() -> ModuleType:
    """``tests/ui/mlflow_browser.py``, with Debian's chromium installed (apt-get) if it was missing."""
    helpers = _load_helpers()
    helpers.ensure_chromium()
    return helpers
