"""The user CLI's model (``vipant classify/search/embed``) reads a checkpoint through its recorded readout."""

import torch
import torch.nn.functional as F

from vipant.inference.embedder import embed_waveform, fbank_windows
from vipant.inference.model import describe, load_inference_model
from vipant.models.audio_encoder import AudioEncoder, save_audio_model, segment_mean
from vipant.models.vt import load_vt


def test_a_multiframe_checkpoint_embeds_files_through_its_segment_mean(inference_layout, tmp_path):
    """Defect caught: inference building its own encoder path (the CLS token) instead of the readout the
    checkpoint records, so a Multiframe model's file vectors come from an output its loss never trained."""
    vt, _, cfg = load_vt({"checkpoint": str(inference_layout["vt"])})
    torch.manual_seed(3)
    encoder = AudioEncoder(vt.visual, init="random", frames=1000, readout="segment_mean", segments=4)
    path = tmp_path / "multiframe.pt"
    save_audio_model(
        path,
        encoder,
        cfg,
        init="random",
        match="multiframe",
        **describe({"checkpoint": str(inference_layout["vt"])}, inference_layout["stats"]),
    )
    model = load_inference_model(path, device="cpu")
    assert model.encoder.readout == model.provenance["readout"] == "segment_mean"
    assert model.encoder.segments == model.provenance["segments"] == 4
    wave = 0.1 * torch.randn(1, 16000 * 4, generator=torch.Generator().manual_seed(0))
    vector, n_windows = embed_waveform(model, wave)
    assert n_windows == 1
    with torch.no_grad():
        windows = fbank_windows(wave, model.stats, model.frames)
        expected = F.normalize(segment_mean(model.encoder.forward_segments(windows, 4)), dim=-1)[0]
        tokens, _ = model.encoder.encode_tokens(windows)
        cls = F.normalize(model.encoder.ln_post(tokens[:, 0]) @ model.encoder.proj, dim=-1)[0]
    assert torch.allclose(vector, expected, atol=1e-5)
    assert float(vector @ cls) < 0.9
