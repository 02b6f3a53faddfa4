"""Shared fixtures: one run of the whole DAG on a tiny synthetic world, used by the workflow tests, the
SLURM cluster test (which compares its results with this local run) and the MLflow UI test.

The run happens once per session (about 5 minutes on 2 cores) in a temp directory, and only when a test
that needs it is selected.
"""

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# What the tiny run builds; tests/cluster runs the same targets through SLURM.
TINY_TARGETS = ("data", "results/table3.csv", "results/table4.csv")

# The tiny run's configuration, an overlay on config.yaml's `synthetic` preset: a file a person can run
# too (its first lines say how); tests/workflow/test_config_schema.py checks it against the code.
TINY_CONFIG = ROOT / ".test" / "config.yaml"


def run_snakemake(
    workdir: Path,
    *args: str,
    check: bool = True,
    extra_config: Path | None = None,
    env_extra: dict[str, str] | None = None,
    cores: int | None = 2,
) -> subprocess.CompletedProcess:
    """Snakemake on the repository's workflow in ``workdir`` with the tiny config; ``cores=None`` passes no
    ``--cores``, as commands that run no job (``--report``) are documented without it."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    env.pop("VIPANT_MLFLOW_URI", None)
    env.update(env_extra or {})  # e.g. the cluster test's SLURM_CONF and tracking server
    proc = subprocess.run(
        [
            str(BIN / "snakemake"),
            "-s",
            str(ROOT / "Snakefile"),
            "--configfile",
            str(ROOT / "config.yaml"),
            str(extra_config or workdir / "test_config.yaml"),
            *(["--cores", str(cores)] if cores is not None else []),
            *args,
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
        timeout=1500,
    )
    if check and proc.returncode != 0:
        logs = "\n".join(
            f"--- {p}\n{p.read_text()[-2000:]}"
            for p in (workdir / "data").rglob("*.log")
            if "Error" in p.read_text() or "Traceback" in p.read_text()
        )
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stderr[-4000:]}\n{logs}")
    return proc


def tiny_config() -> dict:
    # no work_dir: the preset's relative data/synthetic lands in each test's temp dir
    return yaml.safe_load(TINY_CONFIG.read_text())


@pytest.fixture(scope="session")
def tiny_vt_model() -> dict:
    """A one-layer VT model config on 64 x 64 images (2 x 2 patches): seconds per hundred steps."""
    return {
        "embed_dim": 32,
        "quick_gelu": True,
        "vision_cfg": {"image_size": 64, "layers": 1, "width": 32, "patch_size": 32, "head_width": 16},
        "text_cfg": {"context_length": 8, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
    }


@pytest.fixture(scope="session")
def snakemake():
    """The function that runs Snakemake on this repository's workflow in a work directory."""
    return run_snakemake


@pytest.fixture(scope="session")
def tiny_targets() -> tuple[str, ...]:
    return TINY_TARGETS


@pytest.fixture
def tiny_overlay() -> dict:
    """The config overlay the tiny run passes to Snakemake (``tiny_config()``; a fresh copy per test)."""
    return tiny_config()


@pytest.fixture(scope="session")
def tiny_workflow(tmp_path_factory) -> Path:
    """Work directory of one local run of TINY_TARGETS on the tiny world (MLflow in <dir>/mlflow.db)."""
    work = tmp_path_factory.mktemp("workflow")
    (work / "test_config.yaml").write_text(yaml.safe_dump(tiny_config()))
    run_snakemake(work, *TINY_TARGETS)
    return work


@pytest.fixture(scope="session")
def tiny_followups(request, tiny_workflow: Path) -> Path:
    """The tiny run's work directory with the ``TARGETS`` of every selected test module that uses this
    fixture built on top of it, in one Snakemake invocation.

    One invocation instead of one per module: a single DAG to build, and the two cores stay busy across
    the modules' jobs (one module's last long job overlaps the next module's first ones). The jobs and
    their results are the same as with one invocation per module; MLflow gets one parent for all of them.
    """
    targets: dict[str, None] = {}
    for item in request.session.items:
        if "tiny_followups" in item.fixturenames:
            targets.update(dict.fromkeys(getattr(item.module, "TARGETS")))
    run_snakemake(tiny_workflow, *targets)
    return tiny_workflow


# ---- inference on researchers' own audio (tests/inference, tests/commands/test_user_cli.py) --------------
INFERENCE_STATS = {"mean": -6.0, "std": 4.5, "n_clips": 10}


@pytest.fixture(scope="session")
def inference_layout(tmp_path_factory) -> dict:
    """A workflow folder ``<root>/data/synthetic`` holding a random tiny VT model, FBANK stats, a
    self-describing AT checkpoint (``models/at/GC``) and one without the description (``models/va/legacy``),
    all written by the real save functions. Returns the paths by name."""
    import json

    import torch

    from vipant.checkpoint import save_checkpoint
    from vipant.inference.model import describe
    from vipant.models.audio_encoder import AudioEncoder, save_audio_model
    from vipant.models.vt import build_clip

    root = tmp_path_factory.mktemp("inference")
    work = root / "data" / "synthetic"
    cfg = tiny_config()["presets"]["synthetic"]["vt"]["model"]
    torch.manual_seed(0)
    vt = build_clip(cfg)
    vt_path = work / "models" / "vt" / "model.pt"
    save_checkpoint(vt_path, {"model": vt.state_dict(), "config": cfg})
    stats = work / "fbank" / "stats.json"
    stats.parent.mkdir(parents=True)
    stats.write_text(json.dumps(INFERENCE_STATS))
    encoder = AudioEncoder(vt.visual, init="clip", frames=1000)
    at = work / "models" / "at" / "GC" / "model.pt"
    # recorded relative to the folder Snakemake ran in, as the workflow's vt_spec_json does
    save_audio_model(
        at, encoder, cfg, init="clip", **describe({"checkpoint": "data/synthetic/models/vt/model.pt"}, stats)
    )
    legacy = work / "models" / "va" / "legacy" / "model.pt"
    save_audio_model(legacy, encoder, cfg, init="clip", match="random")
    (root / "config.yaml").write_text("preset: synthetic\npresets:\n  synthetic:\n    work_dir: data/synthetic\n")
    return {
        "root": root,
        "work": work,
        "vt": vt_path,
        "stats": stats,
        "at": at,
        "legacy": legacy,
        "config": root / "config.yaml",
    }


def _tone(seconds: float, sr: int, freq: float, channels: int = 1, seed: int = 0):
    import numpy as np

    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(seed)
    wave = 0.3 * np.sin(2 * np.pi * freq * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.7 * t)) + 0.02 * rng.standard_normal(
        t.size
    )
    return np.stack([wave * (0.5 + 0.5 * c) for c in range(channels)], axis=1).astype(np.float32)


@pytest.fixture(scope="session")
def audio_zoo(tmp_path_factory) -> dict:
    """Inputs as researchers have them: wav, flac, mp3, ogg, 48 kHz stereo, 0.5 s, 70 s — and bad ones:
    corrupt bytes, an empty file, a text file, a text file named .wav, a missing path. ``good``/``bad``
    map names to paths; ``dir`` holds them all (with a sub-folder)."""
    import soundfile as sf

    from vipant.media.ffmpeg import run_ffmpeg

    d = tmp_path_factory.mktemp("zoo")
    (d / "sub").mkdir()
    good = {
        "wav": d / "tone.wav",
        "flac": d / "sub" / "hum.flac",
        "mp3": d / "chirp.mp3",
        "ogg": d / "bell.ogg",
        "stereo48k": d / "stereo_48k.wav",
        "short": d / "short.wav",
        "long": d / "long.flac",
    }
    sf.write(good["wav"], _tone(3.0, 16000, 440, seed=1), 16000, subtype="PCM_16")
    sf.write(good["flac"], _tone(6.0, 22050, 120, seed=2), 22050)
    sf.write(good["stereo48k"], _tone(4.0, 48000, 1500, channels=2, seed=3), 48000, subtype="PCM_16")
    sf.write(good["short"], _tone(0.5, 16000, 3000, seed=4), 16000, subtype="PCM_16")
    sf.write(good["long"], _tone(70.0, 16000, 250, seed=5), 16000)
    src = d / "src.wav"
    sf.write(src, _tone(5.0, 44100, 800, channels=2, seed=6), 44100)
    run_ffmpeg(["-i", str(src), "-c:a", "libmp3lame", "-b:a", "96k", str(good["mp3"])])
    run_ffmpeg(["-i", str(src), "-c:a", "libvorbis", "-q:a", "3", str(good["ogg"])])
    src.unlink()
    bad = {
        "corrupt": d / "corrupt.mp3",
        "empty": d / "empty.wav",
        "text": d / "notes.txt",
        "text_as_wav": d / "sub" / "fake.wav",
        "missing": d / "missing.flac",
    }
    bad["corrupt"].write_bytes(bytes(range(256)) * 40)
    bad["empty"].write_bytes(b"")
    bad["text"].write_text("not audio at all\n")
    bad["text_as_wav"].write_text("RIFF? no, just text pretending to be a wav file\n")
    return {"dir": d, "good": good, "bad": bad}


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated MLflow database for the session: creating the schema takes ~10 s, copying it milliseconds."""
    from vipant import tracking

    db = tmp_path_factory.mktemp("template") / "mlflow.db"
    tracking.setup_tracking(f"sqlite:///{db}", "vipant")
    return db


@pytest.fixture
def db_uri(template_db: Path, tmp_path: Path) -> str:
    """A private copy of the migrated database (the backup API copies WAL content consistently)."""
    db = tmp_path / "mlflow.db"
    with closing(sqlite3.connect(template_db)) as src, closing(sqlite3.connect(db)) as dst:
        src.backup(dst)
    return f"sqlite:///{db}"


# ---- a one-shard FBANK store of random features (tests/train, tests/evaluate) ---------------------------
@pytest.fixture(scope="session")
def write_fbank_store():
    """``write(folder, ids, frames, rng, shard_csv="shard-000.csv") -> index.csv``: random float16 FBANK of
    ``frames`` × 128 per clip (drawn from ``rng``, so the caller's later draws stay as they were), one shard
    index row per clip, merged into ``folder/index.csv``."""
    import numpy as np
    import pandas as pd

    from vipant.features.fbank import INDEX_COLUMNS
    from vipant.features.store import merge_indexes

    def write(folder: Path, ids: list[str], frames: int, rng, shard_csv: str = "shard-000.csv") -> Path:
        np.save(folder / "shard-000.npy", rng.standard_normal((len(ids), frames, 128)).astype(np.float16))
        rows = [
            {
                "clip_id": c,
                "shard": "shard-000.npy",
                "row": i,
                "n_frames": frames,
                "status": "ok",
                "reason": "",
                "detail": "",
            }
            for i, c in enumerate(ids)
        ]
        pd.DataFrame(rows, columns=INDEX_COLUMNS).to_csv(folder / shard_csv, index=False)
        merge_indexes([folder / shard_csv], folder / "index.csv")
        return folder / "index.csv"

    return write
