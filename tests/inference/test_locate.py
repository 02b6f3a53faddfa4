"""Finding the checkpoint, the VT model and the FBANK stats: explicit options, the checkpoint's own
record, then the workflow layout — and errors that say what to pass."""

import json
import os
import shutil

import pytest

from vipant.checkpoint import load_checkpoint
from vipant.inference.locate import (
    LocateError,
    default_checkpoint,
    parse_vt_option,
    resolve_stats,
    resolve_vt,
    workflow_dir,
)


def test_default_checkpoint_is_the_newest_at_model_of_the_preset(inference_layout, tmp_path):
    root = tmp_path / "run"
    shutil.copytree(inference_layout["root"], root)
    older = root / "data/synthetic/models/at/AC/model.pt"
    older.parent.mkdir(parents=True)
    shutil.copy(root / "data/synthetic/models/at/GC/model.pt", older)
    os.utime(older, (1, 1))
    assert default_checkpoint(root / "config.yaml") == root / "data/synthetic/models/at/GC/model.pt"
    os.utime(older, None)  # now AC is the newest
    assert default_checkpoint(root / "config.yaml") == older


def test_default_checkpoint_errors_say_what_to_pass(tmp_path):
    with pytest.raises(LocateError, match="--checkpoint"):
        default_checkpoint(tmp_path / "config.yaml")
    (tmp_path / "config.yaml").write_text("preset: paper\npresets:\n  paper: {work_dir: data/paper}\n")
    with pytest.raises(LocateError, match=r"no AT model under .*data/paper/models/at/\*/model.pt.*--checkpoint"):
        default_checkpoint(tmp_path / "config.yaml")
    (tmp_path / "config.yaml").write_text("preset: nope\npresets: {}\n")
    with pytest.raises(LocateError, match="cannot read preset"):
        default_checkpoint(tmp_path / "config.yaml")


def test_workflow_dir_from_the_checkpoint_path(inference_layout, tmp_path):
    assert workflow_dir(inference_layout["at"]) == inference_layout["work"].resolve()
    assert workflow_dir(inference_layout["legacy"]) == inference_layout["work"].resolve()
    assert workflow_dir(tmp_path / "my_model.pt") is None


def test_vt_from_record_layout_and_override(inference_layout, tmp_path):
    at, legacy = inference_layout["at"], inference_layout["legacy"]
    found = resolve_vt(at, load_checkpoint(at))
    assert found.source == "recorded in the checkpoint"
    assert os.path.samefile(found.value["checkpoint"], inference_layout["vt"])  # relative record resolved
    found = resolve_vt(legacy, load_checkpoint(legacy))
    assert found.source.startswith("workflow layout") and os.path.samefile(
        found.value["checkpoint"], inference_layout["vt"]
    )
    assert resolve_vt(legacy, {}, str(inference_layout["vt"])).value == {"checkpoint": str(inference_layout["vt"])}
    spec = '{"name": "ViT-B-32-quickgelu", "pretrained": "openai"}'
    assert resolve_vt(legacy, {}, spec).value == json.loads(spec)
    # a recorded open_clip spec is used as it is
    assert resolve_vt(at, {"vt": json.loads(spec)}).value == json.loads(spec)


def test_vt_errors(inference_layout, tmp_path):
    lone = tmp_path / "model.pt"
    shutil.copy(inference_layout["legacy"], lone)
    with pytest.raises(LocateError, match="not inside a workflow folder.*pass --vt"):
        resolve_vt(lone, {})
    with pytest.raises(LocateError, match="no such file"):
        parse_vt_option(str(tmp_path / "vt.pt"))
    with pytest.raises(LocateError, match="not valid JSON"):
        parse_vt_option("{name: x")
    with pytest.raises(LocateError, match="needs 'name'"):
        parse_vt_option('{"pretrained": "openai"}')


def test_stats_from_record_layout_and_override(inference_layout, tmp_path):
    at, legacy = inference_layout["at"], inference_layout["legacy"]
    recorded = resolve_stats(at, load_checkpoint(at))
    assert recorded.source == "recorded in the checkpoint" and recorded.value.mean == -6.0 and recorded.value.std == 4.5
    layout = resolve_stats(legacy, load_checkpoint(legacy))
    assert layout.source.startswith("workflow layout") and layout.value.std == 4.5
    other = tmp_path / "stats.json"
    other.write_text(json.dumps({"mean": 1.0, "std": 2.0}))
    assert resolve_stats(at, load_checkpoint(at), str(other)).value.mean == 1.0


def test_stats_errors(inference_layout, tmp_path):
    bad = tmp_path / "stats.json"
    bad.write_text(json.dumps({"mean": 1.0}))
    with pytest.raises(LocateError, match="not an FBANK stats file"):
        resolve_stats(inference_layout["at"], {}, str(bad))
    bad.write_text(json.dumps({"mean": 1.0, "std": 0.0}))
    with pytest.raises(LocateError, match="std must be positive"):
        resolve_stats(inference_layout["at"], {}, str(bad))
    with pytest.raises(LocateError, match="no such FBANK stats file"):
        resolve_stats(inference_layout["at"], {}, str(tmp_path / "none.json"))
    lone = tmp_path / "model.pt"
    with pytest.raises(LocateError, match="pass --stats"):
        resolve_stats(lone, {})
