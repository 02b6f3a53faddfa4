"""A real one-node SLURM cluster and an MLflow tracking server on this machine, for the cluster test.

Opt-in: tests marked ``cluster`` are skipped unless ``VIPANT_SYSTEM_TESTS=1`` (``.ci/run`` sets it). The
``slurm_cluster`` fixture

1. installs Debian's ``slurm-wlm`` and ``munge`` with apt-get when their binaries are missing (root only);
2. makes sure a munge daemon answers: an already running one is reused (and left alone at teardown),
   otherwise a key is created if there is none and ``munged`` is started as the ``munge`` user;
3. writes ``slurm.conf`` with every state/spool/pid/log path in a temp dir, on loopback ports chosen free,
   starts ``slurmctld`` and ``slurmd`` in the foreground as children of this process, and waits until
   ``sinfo`` shows the node idle;
4. at teardown stops exactly the daemons it started, by their pids.

The node stands in for a GPU node of a real cluster. It advertises the shape of the largest job in the
profile (CPUs, memory) and GPUs as a count-only generic resource (``Gres=gpu:N`` with no device file),
with ``SlurmdParameters=config_overrides`` so slurmd does not check those figures against the hardware.
That way the profile's partitions (``cpu``, ``gpu``) and its resource requests reach ``sbatch``
unchanged, and ``--gpus=1`` is really granted and counted by SLURM (at most N GPU jobs at once), even
though the machine has 2 cores and no GPU: processes are not bound (``task/none``), they time-share.

``mlflow_server`` starts ``mlflow server`` on a free loopback port with a SQLite backend in a temp dir,
which is how a cluster should track (docs/cluster.md, "Submitting the workflow with SLURM"), and stops it by pid.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
import yaml

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "workflow" / "profiles" / "slurm"
BIN = Path(sys.executable).parent

SYSTEM_TESTS = os.environ.get("VIPANT_SYSTEM_TESTS") == "1"
SKIP_REASON = "system test: set VIPANT_SYSTEM_TESTS=1 to start a local SLURM cluster (needs root for apt-get)"

APT_PACKAGES = ("slurm-wlm", "munge")
SLURM_BINARIES = ("slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol", "munged", "munge", "unmunge")
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin", "/bin"])
# Where SLURM's clients look when SLURM_CONF is unset (Debian's build). See `default_conf_link`.
DEFAULT_SLURM_CONF = Path("/etc/slurm/slurm.conf")
MUNGE_KEY = Path("/etc/munge/munge.key")
MUNGE_RUN_DIR = Path("/run/munge")
# Fake GPUs on the test node: two, so two GPU jobs can share the 2 cores, as local CPU training would.
TEST_GPUS = 2
TEST_CLUSTER = "vipanttest"
START_TIMEOUT_S = 90


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tests marked ``cluster``, with the reason, unless system tests were asked for."""
    if SYSTEM_TESTS:
        return
    for item in items:
        if item.get_closest_marker("cluster") is not None:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


# ------------------------------------------------------------------------------------------ packages
def _which(name: str) -> str | None:
    return shutil.which(name, path=SEARCH_PATH)


def ensure_packages() -> None:
    """apt-get install slurm-wlm and munge if any of their binaries is missing (needs root)."""
    missing = [b for b in SLURM_BINARIES if _which(b) is None]
    if not missing:
        return
    if os.geteuid() != 0:
        pytest.fail(
            f"SLURM binaries missing ({', '.join(missing)}) and not root: cannot apt-get install {APT_PACKAGES}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [
        "apt-get",
        "install",
        "-y",
        "-q",
        "--no-install-recommends",
        "-o",
        "DPkg::Lock::Timeout=600",
        *APT_PACKAGES,
    ]
    log.info("installing %s with apt-get", " ".join(APT_PACKAGES))
    proc = subprocess.run(install, env=env, capture_output=True, text=True)
    if proc.returncode != 0:  # stale or absent package lists on a fresh machine: update once, retry
        subprocess.run(
            ["apt-get", "update", "-q", "-o", "DPkg::Lock::Timeout=600"], env=env, capture_output=True, text=True
        )
        proc = subprocess.run(install, env=env, capture_output=True, text=True)
    still = [b for b in SLURM_BINARIES if _which(b) is None]
    if proc.returncode != 0 or still:
        pytest.fail(
            f"apt-get install {' '.join(APT_PACKAGES)} failed (rc {proc.returncode}, missing {still}):\n"
            f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        )


# --------------------------------------------------------------------------------------------- daemons
@dataclass
class Daemons:
    """The processes this harness started, stopped in reverse order, by pid, at teardown."""

    started: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], log_path: Path, **popen_kwargs) -> subprocess.Popen:
        with open(log_path, "ab") as out:
            proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **popen_kwargs
            )
        self.started.append((name, proc))
        log.info("started %s (pid %d)", name, proc.pid)
        return proc

    def stop_all(self) -> None:
        for name, proc in reversed(self.started):
            if proc.poll() is not None:
                continue
            # A daemon started in a session of its own (mlflow server and its workers) is stopped as a group.
            if os.getpgid(proc.pid) == proc.pid:
                os.killpg(proc.pid, signal.SIGTERM)
            else:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                log.warning("%s (pid %d) ignored SIGTERM; killing it", name, proc.pid)
                if os.getpgid(proc.pid) == proc.pid:
                    os.killpg(proc.pid, signal.SIGKILL)
                else:
                    proc.kill()
                proc.wait(timeout=10)
        self.started.clear()


def _wait_for(what: str, check, timeout_s: float, logs: list[Path], procs: list[subprocess.Popen] = ()) -> None:
    """Poll ``check()`` until true; fail with the daemons' logs if it never is or a daemon died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            break
        time.sleep(0.5)
    tails = "\n".join(f"--- {p}\n{p.read_text(errors='replace')[-3000:]}" for p in logs if p.exists())
    pytest.fail(
        f"{what} not reached within {timeout_s:.0f} s" + (" (a daemon exited)" if procs and dead else "") + f"\n{tails}"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------------------------- munge
def munge_works() -> bool:
    """A credential made by ``munge`` decodes with ``unmunge``: some munged answers on the socket."""
    try:
        cred = subprocess.run([_which("munge"), "-n"], capture_output=True, timeout=10)
        if cred.returncode != 0:
            return False
        return subprocess.run([_which("unmunge")], input=cred.stdout, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def ensure_munge(daemons: Daemons, tmp: Path) -> None:
    """Reuse a running munged; otherwise create the key if missing and start munged as ``munge``."""
    if munge_works():
        log.info("reusing the munge daemon already running")
        return
    user = pwd.getpwnam("munge")
    if not MUNGE_KEY.exists():
        MUNGE_KEY.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        subprocess.run(
            [_which("mungekey") or "/usr/sbin/mungekey", "--create", "--keyfile", str(MUNGE_KEY)], check=True
        )
        os.chown(MUNGE_KEY.parent, user.pw_uid, user.pw_gid)
    os.chown(MUNGE_KEY, user.pw_uid, user.pw_gid)
    os.chmod(MUNGE_KEY, 0o400)
    MUNGE_RUN_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    os.chown(MUNGE_RUN_DIR, user.pw_uid, user.pw_gid)
    for state in (Path("/var/lib/munge"), Path("/var/log/munge")):
        state.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chown(state, user.pw_uid, user.pw_gid)
    # --force: a socket left by a dead munged would otherwise stop it (a live one answered above).
    proc = daemons.start(
        "munged",
        [_which("munged"), "--foreground", "--force"],
        tmp / "munged.log",
        user=user.pw_uid,
        group=user.pw_gid,
        extra_groups=[],
    )
    _wait_for("munge credentials", munge_works, 30, [tmp / "munged.log"], [proc])


# ----------------------------------------------------------------------------------------------- slurm
def _profile_peak() -> tuple[int, int]:
    """Largest cpus_per_task and mem_mb any rule of the profile asks for."""
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    requests = [profile.get("default-resources", {}), *profile.get("set-resources", {}).values()]
    cpus = max(int(r.get("cpus_per_task", 1)) for r in requests)
    mem = max(int(r.get("mem_mb", 1000)) for r in requests)
    return cpus, mem


@dataclass(frozen=True)
class SlurmCluster:
    """What a test needs to submit to the cluster: its config file and the environment for clients."""

    conf: Path
    node: str
    tmp: Path

    @property
    def env(self) -> dict[str, str]:
        """Client commands (sbatch, squeue...) and the jobs they start find the cluster through SLURM_CONF."""
        return {"SLURM_CONF": str(self.conf)}

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(self.tmp.glob("*.log"))
        )

    def job_records(self, job_ids: list[str]) -> dict[str, dict[str, str]]:
        """slurmctld's record of each job (``scontrol show job -d -o``: Partition, JobState, JOB_GRES (the
        generic resources allocated, e.g. ``gpu:1``)...), finished jobs included (kept for ``MinJobAge``)."""
        records = {}
        for job_id in job_ids:
            proc = subprocess.run(
                [_which("scontrol"), "show", "job", "-d", "-o", job_id],
                capture_output=True,
                text=True,
                env={**os.environ, **self.env},
                timeout=10,
            )
            assert proc.returncode == 0, f"scontrol show job {job_id}: {proc.stderr}"
            records[job_id] = dict(field.split("=", 1) for field in proc.stdout.split() if "=" in field)
        return records


def write_slurm_conf(tmp: Path, node: str) -> Path:
    cpus, mem = _profile_peak()
    cpus = max(cpus, os.cpu_count() or 1)
    for sub in ("state", "spool"):
        (tmp / sub).mkdir(exist_ok=True)
    conf = tmp / "slurm.conf"
    conf.write_text(f"""\
ClusterName={TEST_CLUSTER}
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
# Finished jobs stay in slurmctld (and `scontrol show job`) for an hour, not 5 min: the DAG test reads the
# partition and GPUs each job was given after the whole run.
MinJobAge=3600
StateSaveLocation={tmp}/state
SlurmdSpoolDir={tmp}/spool
SlurmctldPidFile={tmp}/slurmctld.pid
SlurmdPidFile={tmp}/slurmd.pid
SlurmctldLogFile={tmp}/slurmctld.log
SlurmdLogFile={tmp}/slurmd.log
# Node figures come from this file, not the hardware: the test node has the profile's largest shape.
SlurmdParameters=config_overrides
GresTypes=gpu
NodeName={node} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem} Gres=gpu:{TEST_GPUS} State=UNKNOWN
# The profile's partition names, both on the one node.
PartitionName=cpu Nodes={node} Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes={node} MaxTime=INFINITE State=UP
""")
    # Fake GPUs: SLURM drops a GPU that has no character device file, so each one is a link to /dev/null
    # named with its index. Nothing opens it (no cgroup device constraint); SLURM only counts, grants and
    # names it (CUDA_VISIBLE_DEVICES), and torch on this GPU-less machine still sees no CUDA device.
    (tmp / "gpu").mkdir(exist_ok=True)
    for i in range(TEST_GPUS):
        link = tmp / "gpu" / f"fake{i}"
        if not link.is_symlink():
            link.symlink_to("/dev/null")
    (tmp / "gres.conf").write_text(f"NodeName={node} Name=gpu File={tmp}/gpu/fake[0-{TEST_GPUS - 1}]\n")
    return conf


def node_states(conf: Path, node: str) -> set[str]:
    """The node's state in each partition as sinfo reports it (one line per partition)."""
    proc = subprocess.run(
        [_which("sinfo"), "-h", "-N", "-n", node, "-o", "%T"],
        capture_output=True,
        text=True,
        env={**os.environ, "SLURM_CONF": str(conf)},
        timeout=10,
    )
    return set(proc.stdout.split()) if proc.returncode == 0 else set()


def _is_test_conf_link(path: Path) -> bool:
    """Whether ``path`` is a link this fixture made: dangling, or to a config naming the test cluster."""
    if not path.is_symlink():
        return False
    try:
        return f"ClusterName={TEST_CLUSTER}" in path.read_text().splitlines()
    except OSError:  # dangling: the temp dir it pointed into is gone
        return True


@contextlib.contextmanager
def default_conf_link(conf: Path, default: Path = DEFAULT_SLURM_CONF) -> Iterator[None]:
    """Make the default config path ``default`` a link to ``conf`` for the cluster's lifetime.

    Inside a job, snakemake-executor-plugin-slurm-jobstep (0.6.1) starts the rule with ``srun`` in an
    environment stripped of every ``SLURM_*`` variable but the job's ids, SLURM_CONF included; that srun
    then only finds a config at the default path, as on a real cluster, where it lives there on every node.
    A link left by a killed test session (pytest keeps the last temp dirs, so it may still resolve) is
    replaced; any other existing file is never touched: the test fails instead.
    """
    if _is_test_conf_link(default):
        log.info("removing %s -> %s, left by an earlier test session", default, os.readlink(default))
        default.unlink()
    if default.exists() or default.is_symlink():
        pytest.fail(f"{default} exists (a real SLURM installation?): not starting a test cluster over it")
    default.parent.mkdir(parents=True, exist_ok=True)
    default.symlink_to(conf)
    try:
        yield
    finally:
        if default.is_symlink() and Path(os.readlink(default)) == conf:
            default.unlink()


@pytest.fixture
def conf_link():
    """``default_conf_link`` itself, for its own tests (test modules cannot import this conftest)."""
    return default_conf_link


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    """A running one-node SLURM cluster (see the module docstring); torn down after the session."""
    ensure_packages()
    tmp = tmp_path_factory.mktemp("slurm")
    daemons = Daemons()
    node = socket.gethostname().split(".")[0]
    conf = write_slurm_conf(tmp, node)
    with contextlib.ExitStack() as stack:
        stack.enter_context(default_conf_link(conf))
        stack.callback(daemons.stop_all)
        ensure_munge(daemons, tmp)
        env = {**os.environ, "SLURM_CONF": str(conf)}
        ctld = daemons.start(
            "slurmctld", [_which("slurmctld"), "-D", "-c", "-f", str(conf)], tmp / "slurmctld.out", env=env
        )
        slurmd = daemons.start(
            "slurmd", [_which("slurmd"), "-D", "-f", str(conf), "-N", node], tmp / "slurmd.out", env=env
        )
        logs = [tmp / n for n in ("slurmctld.log", "slurmd.log", "slurmctld.out", "slurmd.out")]
        _wait_for(
            f"node {node} idle in sinfo",
            lambda: node_states(conf, node) == {"idle"},
            START_TIMEOUT_S,
            logs,
            [ctld, slurmd],
        )
        yield SlurmCluster(conf=conf, node=node, tmp=tmp)


# ---------------------------------------------------------------------------------------------- mlflow
@dataclass(frozen=True)
class MlflowServer:
    uri: str
    db: Path


def _server_up(uri: str) -> bool:
    try:
        with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """``mlflow server`` on 127.0.0.1 with a SQLite backend in a temp dir; stopped by pid afterwards."""
    tmp = tmp_path_factory.mktemp("mlflow_server")
    db = tmp / "mlflow.db"
    port = _free_port()
    uri = f"http://127.0.0.1:{port}"
    daemons = Daemons()
    try:
        proc = daemons.start(
            "mlflow server",
            [
                str(BIN / "mlflow"),
                "server",
                "--backend-store-uri",
                f"sqlite:///{db}",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            tmp / "mlflow_server.log",
            cwd=tmp,
            start_new_session=True,
        )
        _wait_for(
            f"mlflow server at {uri}", lambda: _server_up(uri), START_TIMEOUT_S, [tmp / "mlflow_server.log"], [proc]
        )
        yield MlflowServer(uri=uri, db=db)
    finally:
        daemons.stop_all()
