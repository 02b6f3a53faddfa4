"""The VT weights resolved once into a local file, and jobs loading that file without the Hub."""

import json

import open_clip
import pytest
import torch

from vipant.models.vt import VTLoadError, load_vt, resolve_vt_weights

TINY = {
    "embed_dim": 16,
    "quick_gelu": True,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
    "text_cfg": {"context_length": 8, "vocab_size": 49408, "width": 16, "heads": 2, "layers": 1},
}
NAME = "vipant-test-tiny-clip"


@pytest.fixture
def fake_weights(tmp_path, monkeypatch):
    """A registered tiny open_clip model, a weights file of it, and a Hub that fails every call (an offline
    compute node): any download attempt raises."""
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / f"{NAME}.json").write_text(json.dumps(TINY))
    open_clip.add_model_config(tmp_path / "cfg")
    torch.manual_seed(3)
    model = open_clip.create_model(NAME)
    path = tmp_path / "hub-cache" / "weights.pt"
    path.parent.mkdir()
    torch.save(model.state_dict(), path)

    def offline(*args, **kwargs):
        raise OSError("offline: the Hub is not reachable")

    monkeypatch.setattr(open_clip.pretrained, "download_pretrained_from_hf", offline)
    monkeypatch.setattr(open_clip.pretrained, "download_pretrained_from_url", offline)
    return model.state_dict(), path


def test_a_tag_is_resolved_from_the_hub_cache_into_the_local_file(fake_weights, tmp_path, monkeypatch):
    """``openai`` resolves through open_clip's download (here: the cache returns the fake file) into ``out``;
    loading ``out`` gives those weights with the Hub unreachable. Catches a job spec that still names the
    tag (the load would call the offline Hub and fail) and a copy of the wrong file."""
    state, cached = fake_weights
    monkeypatch.setattr(
        open_clip.pretrained,
        "get_pretrained_cfg",
        lambda name, tag: {"hf_hub": "x/y/"} if (name, tag) == (NAME, "openai") else {},
    )
    monkeypatch.setattr(open_clip.pretrained, "download_pretrained", lambda cfg, **kw: str(cached))
    out = resolve_vt_weights(NAME, "openai", tmp_path / "models" / "vt" / "clip_weights.pt")
    model, _, _ = load_vt({"name": NAME, "pretrained": str(out), "source": "openai"})
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key
    with pytest.raises(VTLoadError, match="openai"):  # what every job did before: ask the (offline) Hub
        load_vt({"name": NAME, "pretrained": "openai"})


def test_a_configured_path_is_copied_and_a_bad_one_named(fake_weights, tmp_path):
    """A weights path from config is copied as is; a missing path or an unknown tag is an error naming it,
    and a file that is not the model's weights stops the resolution (not 500 jobs later)."""
    state, source = fake_weights
    out = resolve_vt_weights(NAME, str(source), tmp_path / "w.pt")
    assert out.read_bytes() == source.read_bytes()
    with pytest.raises(VTLoadError, match="does not exist"):
        resolve_vt_weights(NAME, str(tmp_path / "nope" / "w.pt"), tmp_path / "x.pt")
    with pytest.raises(VTLoadError, match="no pretrained tag 'laion'"):
        resolve_vt_weights(NAME, "laion", tmp_path / "x.pt")
    broken = tmp_path / "broken.pt"
    torch.save({"visual.proj": torch.zeros(3)}, broken)
    with pytest.raises(VTLoadError, match="not loadable"):
        resolve_vt_weights(NAME, str(broken), tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()
