"""Disk budget per clip and for the paper's ~2.08 M AudioSet clips.

The FLAC, video cut and JPEG sizes are *measured*: the mean size over the files a work dir's download and
frames manifests list (their paths, whatever the layout). FBANK and frame-embedding sizes follow exactly
from the array shapes. :func:`budget_table` scales both to ``n_clips`` and adds what the two-character
prefix folders (:mod:`vipant.layout`) hold. ``vipant bench disk`` prints it (docs/cluster.md).

Sizes are apparent bytes (``st_size``); "on disk" rounds each file up to 4 KiB blocks, what most file
systems allocate, which matters for the ~15 kB JPEGs.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

#: AudioSet clips of the paper preset (balanced + unbalanced train + eval segments).
PAPER_CLIPS = 2_080_000
#: Allocation unit assumed for "on disk" sizes.
BLOCK_BYTES = 4096
#: Folders of the prefix scheme: two base64url characters.
PREFIXES = 64**2


@dataclass(frozen=True)
class Item:
    """One kind of per-clip data."""

    name: str
    bytes_per_clip: float  # apparent size, mean over the measured clips (or exact)
    disk_per_clip: float  # each file rounded up to BLOCK_BYTES
    files_per_clip: int  # files of this kind per clip (0: part of a shard-level array)
    basis: str  # how the figure was obtained
    kept: bool  # still on disk once frames exist with keep_video: false


def _on_disk(size: int) -> int:
    return math.ceil(size / BLOCK_BYTES) * BLOCK_BYTES


def measure_files(groups: Iterable[Iterable[str | os.PathLike[str]]]) -> tuple[int, int, int]:
    """``(clips, apparent bytes, on-disk bytes)`` over groups of files (one group per clip); a clip with a
    missing file is left out, so a dropped video cut does not count as a 0-byte one."""
    clips = apparent = disk = 0
    for group in groups:
        sizes = []
        for path in group:
            try:
                sizes.append(os.stat(path).st_size)
            except OSError:
                sizes = None
                break
        if not sizes:
            continue
        clips += 1
        apparent += sum(sizes)
        disk += sum(_on_disk(s) for s in sizes)
    return clips, apparent, disk


def _measured(name: str, groups: list[list[str]], files: int, kept: bool, what: str) -> Item | None:
    clips, apparent, disk = measure_files(groups)
    if not clips:
        return None
    return Item(name, apparent / clips, disk / clips, files, f"measured: mean of {clips} {what}", kept)


def measure_manifests(download: pd.DataFrame, frames: pd.DataFrame, *, what: str = "clips") -> list[Item]:
    """FLAC, video cut and JPEG sizes per clip from a download manifest and a frames manifest (ok rows).
    ``what`` names the clips in the basis column (e.g. "synthetic clips")."""
    ok = download[download["status"].astype(str) == "ok"]
    items = [
        _measured("FLAC, 16 kHz mono, 10 s", [[p] for p in ok["audio_path"] if p], 1, True, what),
        _measured("video cut, 10 s H.264 (no audio)", [[p] for p in ok["video_path"] if p], 1, False, what),
    ]
    fok = frames[frames["status"].astype(str) == "ok"]
    groups = [[p for p in str(v).split("|") if p] for v in fok["frame_paths"]]
    n = max((len(g) for g in groups), default=4)
    items.append(_measured(f"{n} JPEGs, short side 224, q 90", groups, n, True, what))
    return [i for i in items if i is not None]


def exact_items(*, frames: int = 1000, mels: int = 128, n_frames: int = 4, embed_dim: int = 512) -> list[Item]:
    """FBANK (float16 ``frames x mels``) and cached frame embeddings (float16 ``n_frames x embed_dim``,
    ViT-B/32: 512): rows of shard-level arrays, so no file of their own per clip."""
    fbank = frames * mels * 2
    emb = n_frames * embed_dim * 2
    return [
        Item(f"FBANK, float16 {frames} x {mels}", fbank, fbank, 0, "exact (shape)", True),
        Item(f"frame embeddings, float16 {n_frames} x {embed_dim}", emb, emb, 0, "exact (shape)", True),
    ]


def budget_table(items: Iterable[Item], n_clips: int = PAPER_CLIPS) -> pd.DataFrame:
    """Per item: bytes per clip, totals for ``n_clips`` (decimal GB) and files per prefix folder; then rows
    for the peak (everything) and the steady state (video cuts deleted)."""
    rows = []
    for it in items:
        rows.append(
            {
                "what": it.name,
                "per_clip_B": round(it.bytes_per_clip),
                "on_disk_B": round(it.disk_per_clip),
                "total_GB": it.bytes_per_clip * n_clips / 1e9,
                "on_disk_GB": it.disk_per_clip * n_clips / 1e9,
                "files": it.files_per_clip * n_clips,
                "files_per_folder": round(it.files_per_clip * n_clips / PREFIXES) if it.files_per_clip else None,
                "kept": "yes" if it.kept else "no (keep_video: false)",
                "basis": it.basis,
            }
        )
    frame = pd.DataFrame(rows)
    for label, mask in (
        ("peak: all of the above", [True] * len(frame)),
        ("after frames, keep_video: false", (frame["kept"] == "yes").tolist()),
    ):
        part = frame[mask]
        rows.append(
            {
                "what": label,
                "per_clip_B": int(part["per_clip_B"].sum()),
                "on_disk_B": int(part["on_disk_B"].sum()),
                "total_GB": part["total_GB"].sum(),
                "on_disk_GB": part["on_disk_GB"].sum(),
                "files": int(part["files"].sum()),
                "files_per_folder": None,
                "kept": "",
                "basis": "sum",
            }
        )
    return pd.DataFrame(rows)


def format_table(table: pd.DataFrame, n_clips: int = PAPER_CLIPS) -> str:
    """The table as Markdown (what docs/cluster.md shows)."""
    head = (
        f"| what | per clip (B) | on disk, 4 KiB blocks (B) | x {n_clips:,} clips (GB) | on disk (GB) "
        f"| files | files per prefix folder | kept | basis |"
    )
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in table.to_dict("records"):
        per_folder = (
            "" if r["files_per_folder"] is None or pd.isna(r["files_per_folder"]) else f"{int(r['files_per_folder']):,}"
        )
        files = f"{int(r['files']):,}" if r["files"] else "in shard arrays"
        lines.append(
            f"| {r['what']} | {r['per_clip_B']:,} | {r['on_disk_B']:,} | {r['total_GB']:,.1f} "
            f"| {r['on_disk_GB']:,.1f} | {files} | {per_folder} | {r['kept']} | {r['basis']} |"
        )
    return "\n".join(lines)


def read_work_dir(work_dir: str | os.PathLike[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All download and frames manifests of a work dir (``download/shard-*.csv``, ``frames/shard-*.csv``)."""
    from vipant.acquire.manifest import read_manifests
    from vipant.features.frames import read_frames_manifest

    work_dir = Path(work_dir)
    download = read_manifests(sorted((work_dir / "download").glob("shard-*.csv")))
    frame_paths = sorted((work_dir / "frames").glob("shard-*.csv"))
    frames = (
        pd.concat([read_frames_manifest(p) for p in frame_paths], ignore_index=True)
        if frame_paths
        else pd.DataFrame(columns=["clip_id", "status", "frame_paths"])
    )
    return download, frames
