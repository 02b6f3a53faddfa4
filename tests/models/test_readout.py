"""The encoder's readout (CLS or a Multiframe model's segment mean), its pre-projection features, and the
checkpoint that records it."""

import pytest
import torch
import torch.nn.functional as F

from vipant.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from vipant.models.audio_encoder import AudioEncoder, load_audio_model, save_audio_model, segment_mean, training_readout
from vipant.models.vt import build_clip

CFG = {
    "embed_dim": 16,
    "quick_gelu": True,
    "vision_cfg": {"image_size": 224, "layers": 1, "width": 32, "patch_size": 32, "head_width": 16},
    "text_cfg": {"context_length": 8, "vocab_size": 49408, "width": 16, "heads": 2, "layers": 1},
}
FRAMES = 200  # a 11 x 5 token grid: 4 segments of 3, 3, 2, 3 time rows


@pytest.fixture(scope="module")
def visual():
    torch.manual_seed(0)
    return build_clip(CFG).visual


@pytest.fixture(scope="module")
def fbank():
    return torch.randn(3, FRAMES, 128, generator=torch.Generator().manual_seed(1))


def _cls_path(enc: AudioEncoder, x: torch.Tensor) -> torch.Tensor:
    """The CLS token → ln_post → proj, computed here from the transformer output."""
    tokens, _ = enc.encode_tokens(x)
    return enc.ln_post(tokens[:, 0]) @ enc.proj


@torch.no_grad()
def test_a_cls_model_reads_the_cls_token(visual, fbank):
    """Defect caught: the default readout changed, so vip-AnT / Nearest Match models (trained through the
    CLS token) would be read through an untrained segment mean."""
    enc = AudioEncoder(visual, frames=FRAMES).eval()
    assert enc.readout == "cls" and enc.segments is None
    assert torch.allclose(enc(fbank), _cls_path(enc, fbank), atol=1e-6)
    assert torch.allclose(enc.features(fbank) @ enc.proj, enc(fbank), atol=1e-6)


@torch.no_grad()
def test_a_segment_mean_model_reads_the_mean_of_its_segment_embeddings(visual, fbank):
    """Defect caught: a Multiframe model's clip embedding taken from the CLS output (cosine 0.1-0.2 to the
    trained readout at initialisation), or a mean over the wrong axis (time steps instead of segments)."""
    enc = AudioEncoder(visual, frames=FRAMES, readout="segment_mean", segments=4).eval()
    seg = enc.forward_segments(fbank, 4)
    assert seg.shape == (3, 4, 16)
    emb = enc(fbank)
    assert torch.allclose(emb, seg.mean(dim=1), atol=1e-5)
    assert torch.allclose(segment_mean(seg), seg.mean(dim=1))
    assert F.cosine_similarity(emb, _cls_path(enc, fbank), dim=-1).max() < 0.9
    # an explicit segments argument still gives the per-segment embeddings Multiframe training uses
    assert torch.equal(enc(fbank, 4), seg)


def test_the_mean_ranks_targets_as_the_flattened_multiframe_cosine():
    """The docstring's claim: for one clip, the flattened L x D cosine against L copies of t ranks targets t
    as the inner product of the segment mean with t / ||t|| does. Defect caught: a readout that normalises
    each segment before averaging (a different ranking)."""
    g = torch.Generator().manual_seed(2)
    a = torch.randn(4, 8, generator=g) * torch.tensor([0.2, 1.0, 3.0, 0.5])[:, None]  # uneven segment norms
    t = torch.randn(50, 8, generator=g)
    flat = F.normalize(a.flatten(), dim=0) @ F.normalize(t.repeat(1, 4), dim=-1).T
    ours = segment_mean(a[None])[0] @ F.normalize(t, dim=-1).T
    assert torch.equal(flat.argsort(descending=True), ours.argsort(descending=True))
    per_segment = F.normalize(a, dim=-1).mean(dim=0) @ F.normalize(t, dim=-1).T
    assert not torch.equal(flat.argsort(descending=True), per_segment.argsort(descending=True))


@torch.no_grad()
@pytest.mark.parametrize("readout, segments", [("cls", None), ("segment_mean", 4)])
def test_features_come_before_the_projection(visual, fbank, readout, segments):
    """Defect caught: the linear probe reading the projected embedding (a projection that VA training bends
    towards the VT's space): changing ``proj`` must leave the features as they are."""
    enc = AudioEncoder(visual, frames=FRAMES, readout=readout, segments=segments).eval()
    feats, emb = enc.features(fbank), enc(fbank)
    assert feats.shape == (3, 32)
    assert torch.allclose(feats @ enc.proj, emb, atol=1e-5)
    enc.proj.add_(torch.randn_like(enc.proj))
    assert torch.equal(enc.features(fbank), feats)
    assert not torch.allclose(enc(fbank), emb, atol=1e-3)


def test_training_readout_follows_the_loss():
    assert training_readout(4) == ("segment_mean", 4)
    assert training_readout(None) == ("cls", None)


@pytest.mark.parametrize("readout, segments", [("mean", None), ("cls", 4), ("segment_mean", None), ("segment_mean", 0)])
def test_inconsistent_readouts_are_refused(visual, readout, segments):
    with pytest.raises(ValueError, match="readout"):
        AudioEncoder(visual, frames=FRAMES, readout=readout, segments=segments)


@torch.no_grad()
def test_the_readout_survives_save_and_load(visual, fbank, tmp_path):
    """Defect caught: the checkpoint drops the readout, so a loaded Multiframe model is read through CLS."""
    enc = AudioEncoder(visual, frames=FRAMES, readout="segment_mean", segments=4).eval()
    save_audio_model(tmp_path / "model.pt", enc, CFG, init="clip", match="multiframe")
    state = load_checkpoint(tmp_path / "model.pt")
    assert (state["readout"], state["segments"]) == ("segment_mean", 4)
    loaded, _ = load_audio_model(tmp_path / "model.pt")
    assert (loaded.readout, loaded.segments) == ("segment_mean", 4)
    assert torch.allclose(loaded(fbank), enc(fbank), atol=1e-6)
    with pytest.raises(ValueError, match="readout"):
        save_audio_model(tmp_path / "other.pt", enc, CFG, readout="cls")  # the encoder's own, not the caller's


def _legacy(tmp_path, enc, **extra):
    """A checkpoint as written before readouts were recorded."""
    state = {"encoder": enc.state_dict(), "vt_config": CFG, "frames": FRAMES, "mel_bins": 128, **extra}
    save_checkpoint(tmp_path / "legacy.pt", state)
    return tmp_path / "legacy.pt"


def test_old_checkpoints_load_as_cls_and_old_multiframe_ones_are_refused(visual, tmp_path):
    """An old random / nearest model was trained through CLS; an old Multiframe model's readout cannot be
    recovered, so it is refused naming the file rather than read through a guess."""
    enc = AudioEncoder(visual, frames=FRAMES)
    loaded, _ = load_audio_model(_legacy(tmp_path, enc, match="nearest@5"))
    assert (loaded.readout, loaded.segments) == ("cls", None)
    with pytest.raises(CheckpointError, match=r"legacy\.pt.*Multiframe"):
        load_audio_model(_legacy(tmp_path, enc, match="multiframe"))
    with pytest.raises(CheckpointError, match=r"legacy\.pt.*readout"):
        load_audio_model(_legacy(tmp_path, enc, readout="segment_mean", segments=None))


def test_a_model_of_another_input_width_reloads_and_non_encoder_files_are_refused(visual, tmp_path):
    """The recorded mel_bins rebuild the patch grid (64 bins: 2 frequency columns, not 5); a file that lacks
    the encoder or the VT config is refused, naming its first 6 keys; the legacy-Multiframe refusal ends by
    saying how to fix it."""
    enc = AudioEncoder(visual, frames=FRAMES, mel_bins=64)
    save_audio_model(tmp_path / "narrow.pt", enc, CFG)
    loaded, _ = load_audio_model(tmp_path / "narrow.pt")
    assert loaded.mel_bins == 64 and loaded.grid == enc.grid
    keys = {"encoder": {}, **{k: 0 for k in "abcdef"}}  # 7 keys, no vt_config
    save_checkpoint(tmp_path / "other.pt", keys)
    with pytest.raises(
        CheckpointError,
        match=r"not an audio-encoder checkpoint \(keys \['a', 'b', 'c', 'd', 'e', "
        r"'encoder'\]\)$",
    ):
        load_audio_model(tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match=r"retrain it \(vipant pretrain-va / finetune-at\)$"):
        load_audio_model(_legacy(tmp_path, AudioEncoder(visual, frames=FRAMES), match="multiframe"))
    save_checkpoint(tmp_path / "empty.pt", {"encoder": {}, "vt_config": CFG, "frames": FRAMES, "mel_bins": 128})
    with pytest.raises(CheckpointError, match=r"empty\.pt: weights do not fit the recorded architecture \("):
        load_audio_model(tmp_path / "empty.pt")
    on_meta, _ = load_audio_model(tmp_path / "narrow.pt", device="meta")  # the device argument is honoured
    assert {p.device.type for p in on_meta.parameters()} == {"meta"}
