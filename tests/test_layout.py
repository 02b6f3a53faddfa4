"""Two-character prefix folders for per-clip files."""

from __future__ import annotations

from pathlib import Path

import pytest

from vipant.layout import clip_file, prefix_dir


def test_clip_files_go_into_the_folder_of_their_first_two_characters(tmp_path):
    assert clip_file(tmp_path, "dQw4w9WgXcQ_30000", "dQw4w9WgXcQ_30000.flac") == (
        tmp_path / "dQ" / "dQw4w9WgXcQ_30000.flac"
    )
    assert prefix_dir("x", "a") == Path("x") / "a"  # shorter ids: the whole id
    # case matters: YouTube ids differing only in case are different videos
    assert prefix_dir(tmp_path, "Ab_1") != prefix_dir(tmp_path, "ab_1")


@pytest.mark.parametrize("bad", ["", ".hidden", "../x", "a/b"])
def test_ids_that_would_leave_the_folder_are_refused(tmp_path, bad):
    """Catches a prefix such as '..' or '.' that would put a clip's file outside its folder."""
    with pytest.raises(ValueError):
        prefix_dir(tmp_path, bad)
