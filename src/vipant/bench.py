"""``vipant bench``: throughput figures the issues ask for, printed as a small table.

* ``data`` — on a freshly generated synthetic world: download+cut, frames and FBANK clips/s on one core,
  and the FBANK loader's clips/s reading memory-mapped shards on one core.
* ``disk`` — bytes per clip and for 2.08 M clips (:mod:`vipant.disk_budget`), measured on a work dir's
  files (``--measure``) or on freshly downloaded synthetic clips.
* ``train`` — audio-encoder training clips/s (synthetic and ViT-B/32 architectures; random weights,
  since only speed is measured): one training step, eager and (on CUDA) ``torch.compile``d; the step-time
  ratio of training with cached frame embeddings vs. running the frozen image encoder every step; and
  the whole training loop reading random features from a memory-mapped store. ``--device cuda``
  measures bf16 on a GPU.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

if TYPE_CHECKING:
    from vipant.features.store import FbankStore

log = logging.getLogger(__name__)


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:8.1f} clips/s  ({n} clips in {seconds:.2f} s)"


def _random_store(folder: Path, n: int) -> FbankStore:
    """A one-shard FBANK store of ``n`` random 1000 x 128 float16 clips, ids ``c0``, ``c1``, ..."""
    from vipant.features.fbank import INDEX_COLUMNS
    from vipant.features.store import FbankStats, FbankStore, merge_indexes

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    array = np.lib.format.open_memmap(folder / "big.npy", mode="w+", dtype=np.float16, shape=(n, 1000, 128))
    for start in range(0, n, 256):
        array[start : start + 256] = rng.standard_normal((min(256, n - start), 1000, 128)).astype(np.float16)
    array.flush()
    del array
    pd.DataFrame(
        [
            {
                "clip_id": f"c{i}",
                "shard": "big.npy",
                "row": i,
                "n_frames": 1000,
                "status": "ok",
                "reason": "",
                "detail": "",
            }
            for i in range(n)
        ],
        columns=INDEX_COLUMNS,
    ).to_csv(folder / "big.csv", index=False)
    merge_indexes([folder / "big.csv"], folder / "index.csv")
    return FbankStore(folder / "index.csv", FbankStats(-5.0, 4.0))


def _bench_world(workdir: Path, clips: int) -> tuple[Path, pd.DataFrame]:
    """A synthetic world with ``clips`` good training clips (built once per workdir) and their segments;
    the download, frames and fbank stages' folders are emptied so they run from scratch."""
    from vipant.datasets import audioset
    from vipant.synth.config import WorldConfig
    from vipant.synth.world import build_world

    tiny = WorldConfig.tiny().to_dict()
    cfg = WorldConfig.from_dict(
        {
            **tiny,
            "audioset_unbalanced_train": clips,
            "missing_video_rate": 0.0,
            "no_audio_videos": 0,
            "short_videos": 0,
            "corrupt_videos": 0,
            "silent_videos": 0,
        }
    )
    world = workdir / "world"
    if not (world / "web").exists():
        print(f"building a synthetic world with {clips} training clips in {world} ...", flush=True)
        build_world(cfg, world, jobs=2)
    for stage in ("download", "frames", "fbank"):  # timed from scratch, never resumed
        shutil.rmtree(workdir / stage, ignore_errors=True)
    segments, _ = audioset.read_segments(world / "audioset" / "unbalanced_train_segments.csv")
    return world, segments.head(clips)


def bench_data(workdir: Path, clips: int) -> dict[str, float]:
    from vipant.acquire.download import download_shard
    from vipant.features.fbank import fbank_shard
    from vipant.features.frames import frames_shard

    torch.set_num_threads(1)
    world, segments = _bench_world(workdir, clips)
    figures: dict[str, float] = {}

    t = time.perf_counter()
    manifest = download_shard(
        segments[["clip_id", "ytid", "start", "end"]],
        url_template=f"{world.resolve().as_uri()}/web/videos/{{ytid}}.mp4",
        out_dir=workdir / "download",
        manifest_path=workdir / "download" / "shard-000.csv",
        retries=0,
    )
    dt = time.perf_counter() - t
    ok = manifest[manifest["status"] == "ok"]
    figures["download_cut"] = len(ok) / dt
    print(f"download + cut (1 process):  {_rate(len(ok), dt)}")

    t = time.perf_counter()
    frames_shard(manifest, workdir / "frames", workdir / "frames" / "shard-000.csv")
    dt = time.perf_counter() - t
    figures["frames"] = len(ok) / dt
    print(f"frames (1 process):          {_rate(len(ok), dt)}")

    items = ok[["clip_id", "audio_path"]].rename(columns={"audio_path": "path"})
    t = time.perf_counter()
    fbank_shard(items, workdir / "fbank" / "shard-000.npy", workdir / "fbank" / "shard-000.csv", target_frames=1000)
    dt = time.perf_counter() - t
    figures["fbank"] = len(items) / dt
    print(f"FBANK (1 core, decode+fbank): {_rate(len(items), dt)}")

    # Loader: a realistic shard size (2,048 clips of 1000 x 128 float16 = 512 MiB), read in batches.
    rng = np.random.default_rng(0)
    store = _random_store(workdir / "fbank", 2048)
    ids = store.clip_ids
    store.batch(ids[:256])  # open the memory map
    t, n = time.perf_counter(), 0
    while time.perf_counter() - t < 3.0:
        batch = rng.choice(len(ids), size=64, replace=False)
        store.batch([ids[i] for i in batch])
        n += 64
    dt = time.perf_counter() - t
    figures["loader"] = n / dt
    print(f"FBANK loader (1 core, mmap, batches of 64, normalised float32): {_rate(n, dt)}")
    return figures


def bench_disk(workdir: Path, clips: int, measure: Path | None = None) -> dict[str, float]:
    """Bytes per clip and for the paper's 2.08 M clips (docs/cluster.md): FLAC, video cut and JPEG sizes
    measured on the files of ``measure`` (a work dir such as ``data/paper``, read only) or, without it, of
    ``clips`` synthetic clips downloaded, cut and framed here; FBANK and embeddings from their shapes."""
    from vipant import disk_budget
    from vipant.acquire.download import download_shard
    from vipant.features.fbank import fbank_shard
    from vipant.features.frames import frames_shard

    if measure is not None:
        download, frames = disk_budget.read_work_dir(measure)
        what = f"clips of {measure}"
    else:
        world, segments = _bench_world(workdir, clips)
        download = download_shard(
            segments[["clip_id", "ytid", "start", "end"]],
            url_template=f"{world.resolve().as_uri()}/web/videos/{{ytid}}.mp4",
            out_dir=workdir / "download",
            manifest_path=workdir / "download" / "shard-000.csv",
            retries=0,
        )
        frames = frames_shard(download, workdir / "frames" / "jpg", workdir / "frames" / "shard-000.csv")
        ok = download[download["status"] == "ok"]
        array = workdir / "fbank" / "shard-000.npy"
        fbank_shard(
            ok[["clip_id", "audio_path"]].rename(columns={"audio_path": "path"}),
            array,
            workdir / "fbank" / "shard-000.csv",
            target_frames=1000,
        )
        # the exact figure below, checked against a real shard (its .npy header is the only extra)
        print(f"FBANK shard written: {array.stat().st_size / max(len(ok), 1):,.0f} B per clip", flush=True)
        what = "synthetic clips"
    items = disk_budget.measure_manifests(download, frames, what=what) + disk_budget.exact_items()
    table = disk_budget.budget_table(items)
    print(disk_budget.format_table(table))
    return {str(r["what"]): float(r["per_clip_B"]) for r in table.to_dict("records")}


def bench_train(device: str, batch: int, steps: int, workdir: Path | None = None) -> dict[str, float]:
    """Per architecture: the training step's clips/s (eager; on CUDA also ``torch.compile``d), the step-time
    ratio cached / frozen image encoder run every step, and the whole training loop's clips/s reading
    features from a memory-mapped store (on CUDA; on CPU for the synthetic architecture only)."""
    import open_clip
    import yaml

    synthetic = yaml.safe_load((Path(__file__).resolve().parents[2] / "config.yaml").read_text())
    configs = {
        "synthetic": synthetic["presets"]["synthetic"]["vt"]["model"],
        "ViT-B/32": open_clip.get_model_config("ViT-B-32-quickgelu"),
    }
    dev = torch.device(device)
    figures: dict[str, float] = {}
    for name, cfg in configs.items():
        figures.update(_bench_step(name, cfg, dev, batch, steps))
        if dev.type == "cuda" or name == "synthetic":
            figures.update(_bench_loop(name, cfg, dev, batch, steps, workdir))
    return figures


def _bench_step(name: str, cfg: dict, dev: torch.device, batch: int, steps: int) -> dict[str, float]:
    from vipant.models.audio_encoder import AudioEncoder
    from vipant.models.vt import build_clip
    from vipant.train.lars import LARS, lars_param_groups
    from vipant.train.loss import ClipLoss
    from vipant.train.precision import autocast

    clip = build_clip(cfg).to(dev).eval()
    encoder = AudioEncoder(clip.visual).to(dev)
    loss_fn = ClipLoss().to(dev)
    opt = LARS(lars_param_groups([encoder, loss_fn], lr_weights=0.1, lr_biases=0.001, weight_decay=1e-6), lr=0.1)
    fbank = torch.randn(batch, 1000, 128, device=dev)
    cached = torch.randn(batch, cfg["embed_dim"], device=dev)
    images = torch.randn(batch, 3, 224, 224, device=dev)

    def step(model, uncached: bool, cpu_precision: str = "fp32") -> None:
        with autocast(dev, "bf16", cpu_precision):
            if uncached:
                with torch.no_grad():
                    target = clip.encode_image(images).float()
            else:
                target = cached
            loss = loss_fn(model(fbank).float(), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def timed(model, uncached: bool, cpu_precision: str = "fp32") -> float:
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        step(model, uncached, cpu_precision)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t

    figures: dict[str, float] = {}
    step(encoder, False), step(encoder, True)  # warm-up both paths
    samples: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(steps):  # alternate, so drifts in machine load hit both paths alike
        for uncached in (False, True):
            samples[uncached].append(timed(encoder, uncached))
    timings = {k: float(np.median(v)) for k, v in samples.items()}
    figures[f"{name}_clips_per_s"] = batch / timings[False]
    figures[f"{name}_cached_over_uncached"] = timings[False] / timings[True]
    print(
        f"{name:10s} on {dev.type} (batch {batch}): {batch / timings[False]:8.1f} clips/s training step, eager, cached frame"
        f" embeddings; step time cached / with frozen image encoder = {timings[False] / timings[True]:.2f}",
        flush=True,
    )
    if dev.type == "cpu" and name == "synthetic":
        # the workflow's CPU trainings run one thread each, two side by side, under the preset's
        # cpu_precision: which precision is faster depends on the CPU and the torch build, so measure both
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            step(encoder, False, "bf16")
            per: dict[str, list[float]] = {"fp32": [], "bf16": []}
            for _ in range(steps):
                for precision, times in per.items():
                    times.append(timed(encoder, False, precision))
        finally:
            torch.set_num_threads(threads)
        rates = {k: batch / float(np.median(v)) for k, v in per.items()}
        figures.update({f"{name}_1thread_{k}_clips_per_s": v for k, v in rates.items()})
        print(
            f"{name:10s} on cpu (batch {batch}), 1 thread: {rates['fp32']:8.1f} clips/s training step in fp32,"
            f" {rates['bf16']:.1f} under bf16 autocast (cpu_precision: bf16)",
            flush=True,
        )
    if dev.type == "cuda":
        compiled = torch.compile(encoder)
        t = time.perf_counter()
        step(compiled, False), step(compiled, False)
        warm = time.perf_counter() - t
        rate = batch / float(np.median([timed(compiled, False) for _ in range(steps)]))
        figures[f"{name}_compiled_clips_per_s"] = rate
        print(
            f"{name:10s} on {dev.type} (batch {batch}): {rate:8.1f} clips/s training step, torch.compile"
            f" ({warm:.0f} s to compile)",
            flush=True,
        )
    return figures


def _bench_loop(
    name: str, cfg: dict, dev: torch.device, batch: int, steps: int, workdir: Path | None
) -> dict[str, float]:
    """``train()`` itself, as VA pretraining runs it, for 2 epochs of ``steps`` steps; the second epoch's
    clips/s (the first pays for compilation)."""
    from vipant.embed.table import EmbeddingTable, save_table
    from vipant.models.audio_encoder import AudioEncoder
    from vipant.models.vt import build_clip
    from vipant.train.loop import TrainConfig, train
    from vipant.train.pretrain_va import VAPretrainTask

    with tempfile.TemporaryDirectory(prefix="vipant-bench-", dir=workdir) as tmp:
        work = Path(tmp)
        store = _random_store(work / "fbank", batch * steps)
        rng = np.random.default_rng(1)
        save_table(
            work / "frames",
            pd.DataFrame({"clip_id": store.clip_ids}),
            rng.standard_normal((len(store.clip_ids), 4, cfg["embed_dim"])).astype(np.float32),
        )
        task = VAPretrainTask(store, EmbeddingTable.load(work / "frames"), store.clip_ids)
        encoder = AudioEncoder(build_clip(cfg).visual)
        run = TrainConfig(epochs=2, batch_size=batch, warmup_epochs=1, device=str(dev))
        history = train(encoder, task, run, work / "run")
    rate = history[-1]["clips_per_s"]
    how = f"compiled, {run.loader_threads} loader threads" if dev.type == "cuda" else "eager"
    print(
        f"{name:10s} on {dev.type} (batch {batch}): {rate:8.1f} clips/s whole training loop (memory-mapped FBANK,"
        f" SpecAugment, LARS, {how}; epoch 2 of 2, {steps} steps each)",
        flush=True,
    )
    return {f"{name}_loop_clips_per_s": rate}


def run(
    what: str,
    *,
    workdir: Path | None = None,
    clips: int = 64,
    device: str = "cpu",
    batch: int = 16,
    steps: int = 3,
    measure: Path | None = None,
) -> dict[str, float]:
    if what == "disk":
        if workdir is not None:
            workdir.mkdir(parents=True, exist_ok=True)
            return bench_disk(workdir, clips, measure)
        with tempfile.TemporaryDirectory(prefix="vipant-bench-") as tmp:
            return bench_disk(Path(tmp), clips, measure)
    if what == "data":
        if workdir is not None:
            workdir.mkdir(parents=True, exist_ok=True)
            return bench_data(workdir, clips)
        with tempfile.TemporaryDirectory(prefix="vipant-bench-") as tmp:
            return bench_data(Path(tmp), clips)
    if what == "train":
        if workdir is not None:
            workdir.mkdir(parents=True, exist_ok=True)
        return bench_train(device, batch, steps, workdir)
    raise ValueError(f"unknown benchmark {what!r}")
