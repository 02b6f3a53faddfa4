"""The tiny synthetic world, built once per test session (about 10-20 s on 2 cores)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from vipant.media.ffmpeg import ffmpeg_exe
from vipant.synth import WorldConfig, build_world, plan_world
from vipant.synth.world import WorldPlan


@pytest.fixture(scope="session")
def tiny_cfg() -> WorldConfig:
    return WorldConfig.tiny(seed=7)


@pytest.fixture(scope="session")
def tiny_plan(tiny_cfg: WorldConfig) -> WorldPlan:
    return plan_world(tiny_cfg)


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory: pytest.TempPathFactory, tiny_cfg: WorldConfig) -> Path:
    out = tmp_path_factory.mktemp("world")
    build_world(tiny_cfg, out, jobs=2)
    return out


@pytest.fixture(scope="session")
def truth(tiny_world: Path) -> list[dict]:
    return [json.loads(line) for line in (tiny_world / "truth/clips.jsonl").read_text().splitlines()]


def decode_frame(path: Path, t: float, width: int, height: int) -> np.ndarray:
    """The RGB frame shown at time ``t`` of a video."""
    proc = subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-ss",
            f"{t:.3f}",
            "-i",
            str(path),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "pipe:1",
        ],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(proc.stdout, np.uint8).reshape(height, width, 3)


def decode_audio(path: Path) -> np.ndarray:
    """All audio of a file as int16 mono samples."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-vn", "-ac", "1", "-f", "s16le", "pipe:1"],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(proc.stdout, np.int16)
