"""`vipant export` / :mod:`vipant.export`: a checkpoint as model.safetensors + config.json + model card."""

import json

import numpy as np
import pytest
import torch

from vipant.api import load_model
from vipant.checkpoint import load_checkpoint, save_checkpoint
from vipant.cli import main
from vipant.export import CONFIG, WEIGHTS, ExportError, export_model, load_exported
from vipant.tables import write_metrics


@pytest.fixture(scope="module")
def exported(inference_layout, tmp_path_factory):
    out = tmp_path_factory.mktemp("exported") / "at_GC"
    metrics = out.parent / "esc50_zs" / "metrics.json"
    write_metrics(metrics, "at_GC", "esc50_zs", {"top1": 42.5}, {"top1": 2.0}, 40)
    history = out.parent / "history.json"
    history.write_text(json.dumps({"history": [{"epoch": 1, "loss": 3.25}]}))
    assert main(
        [
            "export",
            str(inference_layout["at"]),
            str(out),
            "--metrics",
            str(metrics),
            "--history",
            str(history),
            "--recipe-json",
            '{"epochs": 1, "lr": 5e-05}',
            "--preset",
            "synthetic",
        ]
    ) in (0, None)
    return out


def test_round_trip_is_bit_identical_on_cpu(inference_layout, exported, audio_zoo):
    """Every weight and every embedding of the exported folder equals the checkpoint's bit for bit.
    Catches: weights cast (e.g. to float16) or re-initialised on load, a text tower not restored (a fresh
    random CLIP), FBANK stats rounded in config.json."""
    a = load_model(inference_layout["at"], device="cpu")
    b = load_model(exported, device="cpu")
    for x, y in ((a.inference.encoder, b.inference.encoder), (a.inference.text_model, b.inference.text_model)):
        sx, sy = x.state_dict(), y.state_dict()
        assert sx.keys() == sy.keys()
        assert all(torch.equal(sx[k], sy[k]) for k in sx)
    assert (b.inference.stats.mean, b.inference.stats.std) == (-6.0, 4.5)
    files = [str(audio_zoo["good"][k]) for k in ("wav", "mp3", "long")]
    assert np.array_equal(a.embed_audio(files), b.embed_audio(files))
    texts = ["a dog barks", "rain on a roof"]
    assert np.array_equal(a.embed_text(texts), b.embed_text(texts))


def test_config_carries_what_inference_needs(exported):
    """Catches: a config without the stats, input length, readout default or prompt the model needs."""
    config = json.loads((exported / CONFIG).read_text())
    assert config["fbank"]["mean"] == -6.0 and config["fbank"]["std"] == 4.5 and config["fbank"]["num_mel_bins"] == 128
    assert config["fbank"]["frame_shift_ms"] == 10 and config["fbank"]["sample_rate"] == 16000
    assert config["input_length"] == {"frames": 1000, "seconds": 10.0}
    assert (config["readout"], config["segments"]) == ("cls", None)
    assert config["prompt"] == "the sound of "
    assert config["vt"]["text_weights"] == WEIGHTS and config["vt"]["spec"] is None
    assert config["architecture"]["vt_config"]["embed_dim"] == 64 and config["architecture"]["frames"] == 1000


def test_readout_is_recorded_and_restored(inference_layout, tmp_path):
    """A checkpoint with a segment-mean readout exports and loads it (set on the encoder).
    Catches: the readout dropped on export, or not set on the loaded encoder."""
    state = load_checkpoint(inference_layout["at"])
    ckpt = tmp_path / "model.pt"
    save_checkpoint(ckpt, {**state, "readout": "segment_mean", "segments": 4})
    export_model(ckpt, tmp_path / "seg", vt=str(inference_layout["vt"]))
    config = json.loads((tmp_path / "seg" / CONFIG).read_text())
    assert (config["readout"], config["segments"]) == ("segment_mean", 4)
    model, _ = load_exported(tmp_path / "seg")
    assert (model.encoder.readout, model.encoder.segments) == ("segment_mean", 4)


def test_model_card_has_data_recipe_scores_and_licence(exported):
    """Catches: scores typed in rather than read from metrics.json, a card without recipe or data caveat."""
    card = (exported / "README.md").read_text()
    assert "| esc50_zs | top1 | 42.50 | 2.00 | 40 |" in card
    assert '"lr": 5e-05' in card and "fine-tuned on:" in card and "workflow preset: synthetic" in card
    assert "last epoch epoch=1, loss=3.25" in card
    assert "no third-party recordings" in card


def _copy(src, dst):
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def test_tampered_truncated_or_missing_files_are_clear_errors(exported, tmp_path):
    """Catches: a modified or truncated weights file loaded anyway, a bad config read silently."""
    d = _copy(exported, tmp_path / "flip")
    data = bytearray((d / WEIGHTS).read_bytes())
    data[-5] ^= 0x01  # one bit of one weight
    (d / WEIGHTS).write_bytes(bytes(data))
    with pytest.raises(ExportError, match=r"model.safetensors: SHA-256 differs.*modified or truncated"):
        load_model(d)
    d = _copy(exported, tmp_path / "trunc")
    (d / WEIGHTS).write_bytes((d / WEIGHTS).read_bytes()[:1000])
    with pytest.raises(ExportError, match="SHA-256 differs"):
        load_model(d)
    d = _copy(exported, tmp_path / "badjson")
    (d / CONFIG).write_text("{not json")
    with pytest.raises(ExportError, match="config.json: not valid JSON"):
        load_model(d)
    d = _copy(exported, tmp_path / "arch")
    config = json.loads((d / CONFIG).read_text())
    config["architecture"]["vt_config"]["vision_cfg"]["width"] = 32  # weights no longer fit
    (d / CONFIG).write_text(json.dumps(config))
    with pytest.raises(ExportError, match="audio encoder weights do not fit the architecture"):
        load_model(d)
    d = _copy(exported, tmp_path / "noconf")
    (d / CONFIG).unlink()
    with pytest.raises(ExportError, match="config.json: missing"):
        load_model(d)
