"""The conda envs of the rule families must pin what pyproject.toml pins (conda itself is unreachable here)."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ]", req, maxsplit=1)[0].lower().replace("_", "-")


def test_envs_parse_and_mirror_pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = {_name(r): r for r in project["dependencies"]}
    env_files = sorted((ROOT / "envs").glob("*.yaml"))
    assert env_files, "no conda envs in envs/"
    for env_file in env_files:
        env = yaml.safe_load(env_file.read_text())
        assert "conda-forge" in env["channels"]
        pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
        assert "-e .." in pip_section, f"{env_file.name} does not install vipant itself"
        for req in pip_section:
            if req.startswith("-e"):
                continue
            name = _name(req)
            assert name in pinned, f"{env_file.name}: {req} is not a dependency in pyproject.toml"
            assert req.replace(" ", "") == pinned[name].replace(" ", ""), (
                f"{env_file.name} says {req!r}, pyproject.toml says {pinned[name]!r}"
            )
        for exact in ("torch==2.11.0", "torchaudio==2.11.0", "torchvision==0.26.0"):
            assert exact in pip_section, f"{env_file.name} lacks {exact}"


def test_every_rule_file_uses_an_existing_env():
    for smk in (ROOT / "workflow" / "rules").glob("*.smk"):
        for rel in re.findall(r'conda:\s*\n\s*"([^"]+)"', smk.read_text()):
            assert (smk.parent / rel).resolve().is_file(), f"{smk.name} names missing env {rel}"
