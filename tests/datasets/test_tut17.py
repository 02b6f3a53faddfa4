"""TUT Acoustic Scenes 2017 development layout: ``meta.txt`` and ``evaluation_setup/``."""

from __future__ import annotations

from pathlib import Path

import pytest

from vipant.datasets.common import DatasetFormatError
from vipant.datasets.tut17 import list_audio, read_fold, read_meta

META = (
    "audio/b020_90_100.wav\tbeach\tb020\n"
    "audio/a001_0_10.wav\tresidential_area\ta001\n"
    "audio/b086_150_160.wav\tbus\tb086\n"
)


def layout(tmp_path: Path, meta: str = META) -> Path:
    root = tmp_path / "TUT-acoustic-scenes-2017-development"
    (root / "evaluation_setup").mkdir(parents=True)
    (root / "meta.txt").write_text(meta)
    setup = root / "evaluation_setup"
    (setup / "fold1_train.txt").write_text("audio/b020_90_100.wav\tbeach\naudio/b086_150_160.wav\tbus\n")
    (setup / "fold1_evaluate.txt").write_text("audio/a001_0_10.wav\tresidential_area\n")
    (setup / "fold1_test.txt").write_text("audio/a001_0_10.wav\n")
    return root


def test_meta_and_folds(tmp_path: Path) -> None:
    root = layout(tmp_path)
    meta = read_meta(root / "meta.txt")
    assert list(meta.columns) == ["file", "scene", "recording_id", "clip_id", "line"]
    assert meta["scene"].tolist() == ["beach", "residential_area", "bus"]
    assert meta["clip_id"].tolist() == ["b020_90_100", "a001_0_10", "b086_150_160"]
    train = read_fold(root / "evaluation_setup", 1, "train", meta=meta)
    assert list(train.columns) == ["file", "scene", "clip_id", "line"] and len(train) == 2
    evaluate = read_fold(root / "evaluation_setup", 1, "evaluate", meta=meta)
    assert evaluate["scene"].tolist() == ["residential_area"]
    test = read_fold(root / "evaluation_setup", 1, "test")
    assert list(test.columns) == ["file", "clip_id", "line"] and test["file"].tolist() == ["audio/a001_0_10.wav"]


def test_crlf_and_trailing_tab_are_tolerated(tmp_path: Path) -> None:
    root = layout(tmp_path, META.replace("\n", "\t\r\n"))
    assert read_meta(root / "meta.txt")["recording_id"].tolist() == ["b020", "a001", "b086"]


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("../evil.wav\tbeach\tb999\n", "escapes its folder"),
        ("audio/x.wav\tbeach\n", "expected 3 tab-separated fields"),
        ("audio/x.wav\t\tb999\n", "empty scene"),
        ("audio/b020_90_100.wav\tbeach\tb020\n", "duplicate file 'audio/b020_90_100.wav' (first on line 1)"),
    ],
)
def test_malformed_meta_row(tmp_path: Path, row: str, needle: str) -> None:
    root = layout(tmp_path, META + row)
    with pytest.raises(DatasetFormatError) as info:
        read_meta(root / "meta.txt")
    assert str(info.value).startswith(f"{root / 'meta.txt'}:4: ") and needle in info.value.problem
    skipped = read_meta(root / "meta.txt", on_error="skip").attrs["skipped"]
    assert [s.line for s in skipped] == [4]


def test_first_line_with_wrong_columns_is_fatal(tmp_path: Path) -> None:
    root = layout(tmp_path, "file\tscene\n" + META)
    with pytest.raises(DatasetFormatError, match=r"meta.txt:1: expected 3 tab-separated columns"):
        read_meta(root / "meta.txt", on_error="skip")


def test_fold_checks(tmp_path: Path) -> None:
    root = layout(tmp_path)
    meta = read_meta(root / "meta.txt")
    setup = root / "evaluation_setup"
    (setup / "fold2_train.txt").write_text("audio/b020_90_100.wav\tbeach\naudio/b086_150_160.wav\tbeach\n")
    with pytest.raises(DatasetFormatError, match=r"fold2_train.txt:2: scene 'beach' disagrees with meta.txt \('bus'\)"):
        read_fold(setup, 2, "train", meta=meta)
    (setup / "fold3_test.txt").write_text("audio/zzz.wav\n")
    with pytest.raises(DatasetFormatError, match=r"fold3_test.txt:1: .*not in meta.txt"):
        read_fold(setup, 3, "test", meta=meta)
    with pytest.raises(FileNotFoundError, match="fold4_evaluate.txt"):
        read_fold(setup, 4, "evaluate")
    with pytest.raises(ValueError, match="1..4"):
        read_fold(setup, 5, "train")
    with pytest.raises(ValueError, match="part"):
        read_fold(setup, 1, "validate")  # type: ignore[arg-type]


def test_list_audio(tmp_path: Path) -> None:
    root = layout(tmp_path)
    meta = read_meta(root / "meta.txt")
    (root / "audio").mkdir()
    (root / "audio" / "b020_90_100.wav").write_bytes(b"")
    with pytest.raises(DatasetFormatError, match=r"meta.txt:2: .*a001_0_10.wav"):
        list_audio(meta, root)
    files = list_audio(meta, root, on_error="skip")
    assert files["path"].tolist() == [str(root / "audio" / "b020_90_100.wav")]
