"""What a run records about where it came from: the commit of the code being run (exported by the
workflow, else asked of ``git``, with ``+dirty`` for uncommitted changes) and the host, pid, user and
SLURM job, as tags."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
from pathlib import Path
from typing import Any

from vipant.tracking.config import ENV_GIT_COMMIT


def git_commit() -> str:
    """Commit of the code being run: ``VIPANT_GIT_COMMIT`` (exported by the workflow), else ``git``.

    ``git rev-parse HEAD`` is tried in the working directory and then in this package's directory; a
    ``+dirty`` suffix marks uncommitted changes to tracked files. "unknown" when neither is a checkout.
    """
    exported = os.environ.get(ENV_GIT_COMMIT, "").strip()
    if exported:
        return exported
    for where in (Path.cwd(), Path(__file__).resolve().parent):
        try:
            head = subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            dirty = subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=where,
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        if head:
            return f"{head}+dirty" if dirty else head
    return "unknown"


def _host_tags() -> dict[str, Any]:
    """Where and as whom a run happened: host, pid, user, SLURM job when there is one."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = None
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "mlflow.user": user,
        "slurm.job_id": os.environ.get("SLURM_JOB_ID"),
        "slurm.array_task_id": os.environ.get("SLURM_ARRAY_TASK_ID"),
    }


def _commit_tags(commit: str) -> dict[str, str]:
    tags = {"git_commit": commit}
    if commit != "unknown":
        tags["mlflow.source.git.commit"] = commit.removesuffix("+dirty")
    return tags
