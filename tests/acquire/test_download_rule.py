"""The download rule through Snakemake: a rerun retries blocked clips without --forcerun, then stops."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

_fx = sys.modules["_acquire_conftest"]  # tests/acquire/conftest.py (see its last lines)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GOOD, START, END = _fx.GOOD, _fx.START, _fx.END
FORBIDDEN = "forbidden01"
MANIFEST = "data/synthetic/download/shard-000.csv"


def _snakemake(work: Path) -> str:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [
            str(BIN / "snakemake"),
            "-s",
            str(ROOT / "Snakefile"),
            "--configfile",
            str(ROOT / "config.yaml"),
            str(work / "override.yaml"),
            "--cores",
            "1",
            "--allowed-rules",
            "download",
            "download_retry_ticket",
            "--",
            MANIFEST,
        ],
        cwd=work,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stderr


@pytest.mark.workflow  # three Snakemake invocations over the whole workflow's DAG: ~80 s on 2 busy cores
@pytest.mark.timeout(600)
def test_rerun_retries_blocked_clips_without_forcerun(tmp_path, bad_day_server):
    """Catches a download rule that a second invocation skips although its manifest lists blocked clips
    (Snakemake reruns only on changed inputs, not on function-computed parameters), and one that keeps
    rerunning (and redoing everything downstream) once every clip is final."""
    server = bad_day_server
    server.aliases[f"{FORBIDDEN}.mp4"] = f"{GOOD}.mp4"
    server.answers[f"{FORBIDDEN}.mp4"] = (403, "Forbidden")
    meta = tmp_path / "data" / "synthetic" / "meta"
    meta.mkdir(parents=True)
    pd.DataFrame(
        [{"clip_id": f"{y}_2000", "ytid": y, "start": START, "end": END, "shard": "000"} for y in (GOOD, FORBIDDEN)]
    ).to_csv(meta / "youtube_clips.csv", index=False)
    (tmp_path / "override.yaml").write_text(
        yaml.safe_dump(
            {
                "presets": {
                    "synthetic": {
                        "download": {"url_template": server.template, "shards": 1, "retries": 0, "blocked_limit": 0}
                    }
                }
            }
        )
    )

    _snakemake(tmp_path)
    first = pd.read_csv(tmp_path / MANIFEST, keep_default_na=False).set_index("ytid")
    assert (first.loc[FORBIDDEN, "reason"], first.loc[GOOD, "status"]) == ("blocked", "ok")

    server.answers.clear()  # the block lifts
    server.reset_counts()
    log = _snakemake(tmp_path)
    assert "download_retry_ticket" in log
    second = pd.read_csv(tmp_path / MANIFEST, keep_default_na=False).set_index("ytid")
    assert second["status"].tolist() == ["ok", "ok"]
    assert f"{GOOD}.mp4" not in server.hits  # the ok clip was not fetched again

    mtime = (tmp_path / MANIFEST).stat().st_mtime_ns
    log = _snakemake(tmp_path)
    assert "Nothing to be done" in log
    assert (tmp_path / MANIFEST).stat().st_mtime_ns == mtime
