"""Disk budget arithmetic and measurement from manifests."""

from __future__ import annotations

import pandas as pd
import pytest

from vipant.disk_budget import PAPER_CLIPS, budget_table, exact_items, format_table, measure_manifests


def test_exact_sizes_follow_the_array_shapes():
    """FBANK float16 1000 x 128 is 256,000 B per clip and 532.5 GB over 2.08 M clips; ViT-B/32 frame
    embeddings 4 x 512 float16 are 4,096 B. Catches a wrong dtype width or a transposed count."""
    fbank, emb = exact_items()
    assert (fbank.bytes_per_clip, emb.bytes_per_clip) == (256_000, 4_096)
    table = budget_table([fbank, emb]).set_index("what")
    assert table.loc[fbank.name, "total_GB"] == pytest.approx(256_000 * PAPER_CLIPS / 1e9) == pytest.approx(532.48)
    assert pd.isna(table.loc[fbank.name, "files_per_folder"])  # rows of shard arrays, no files of their own


def test_measured_sizes_come_from_the_manifests_files(tmp_path):
    """Means over the clips whose files exist: a dropped video cut is not a 0-byte cut, a failed clip is not
    measured, and JPEG groups are per clip. On-disk sizes round every file up to 4 KiB. Catches dividing by
    all rows, counting missing files as 0 B, and rounding the sum instead of each file."""

    def write(name, size):
        path = tmp_path / name
        path.write_bytes(b"x" * size)
        return str(path)

    download = pd.DataFrame(
        [
            {"clip_id": "a", "status": "ok", "audio_path": write("a.flac", 1000), "video_path": write("a.mp4", 5000)},
            {
                "clip_id": "b",
                "status": "ok",
                "audio_path": write("b.flac", 3000),
                "video_path": str(tmp_path / "gone.mp4"),
            },
            {"clip_id": "c", "status": "failed", "audio_path": "", "video_path": ""},
        ]
    )
    frames = pd.DataFrame(
        [{"clip_id": "a", "status": "ok", "frame_paths": "|".join(write(f"a_{i}.jpg", 100) for i in range(4))}]
    )
    flac, video, jpg = measure_manifests(download, frames)
    assert (flac.bytes_per_clip, flac.disk_per_clip) == (2000, 4096)
    assert (video.bytes_per_clip, video.disk_per_clip, video.kept) == (5000, 8192, False)
    assert (jpg.bytes_per_clip, jpg.disk_per_clip, jpg.files_per_clip) == (400, 4 * 4096, 4)
    assert "mean of 2 clips" in flac.basis and "mean of 1 clips" in video.basis

    table = budget_table([flac, video, jpg], n_clips=4096).set_index("what")
    assert table.loc[jpg.name, "files_per_folder"] == 4  # 4 JPEGs x 4096 clips over 4096 prefix folders
    assert table.loc["peak: all of the above", "per_clip_B"] == 7400
    assert table.loc["after frames, keep_video: false", "per_clip_B"] == 2400  # no video cut
    assert "| after frames, keep_video: false | 2,400 |" in format_table(table.reset_index(), n_clips=4096)
