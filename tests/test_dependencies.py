"""pyproject.toml says what the code uses: every third-party import of src/ and tests/ is declared, and every
core dependency is imported somewhere."""

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(req: str) -> str:
    return _canonical(re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0])


def _imports() -> dict[str, list[str]]:
    """Top-level names of absolute imports in src/ and tests/ that are neither stdlib nor this repository's
    own modules (vipant, test helpers such as conftest), with the files that import them."""
    files = [*(ROOT / "src").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]
    local = {"vipant"} | {p.stem for p in files}
    found: dict[str, list[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local and top != "__future__":
                    found.setdefault(top, []).append(str(path.relative_to(ROOT)))
    return found


@functools.cache
def _providers() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()  # scans every installed distribution: once


def _distributions(module: str) -> set[str]:
    """Distributions that provide ``module`` here; a module not installed (an extra such as transformers)
    is assumed to be its own distribution's name."""
    return {_canonical(d) for d in _providers().get(module, [module])}


def test_every_third_party_import_is_declared():
    """Catches: an import whose distribution pyproject.toml does not list (a clean install then fails)."""
    declared = {_requirement_name(r) for r in PROJECT["dependencies"]}
    for extra in PROJECT["optional-dependencies"].values():
        declared |= {_requirement_name(r) for r in extra}
    missing = {m: files[:3] for m, files in _imports().items() if not (_distributions(m) & declared)}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_every_core_dependency_is_imported():
    """Catches: a dependency nothing imports (ffmpeg-python, jsonschema) that every install pays for."""
    imported = set().union(*(_distributions(m) for m in _imports()))
    unused = {_requirement_name(r) for r in PROJECT["dependencies"]} - imported
    assert not unused, f"declared in [project.dependencies] but never imported: {sorted(unused)}"


def test_requires_python_allows_only_versions_with_tomllib():
    """The tests read TOML with tomllib (Python 3.11+). Catches: requires-python admitting 3.10."""
    assert re.fullmatch(r">=\s*3\.(\d+).*", PROJECT["requires-python"].split("#")[0].strip())
    assert int(re.match(r">=\s*3\.(\d+)", PROJECT["requires-python"]).group(1)) >= 11
