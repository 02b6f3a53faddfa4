import numpy as np
import pandas as pd
import soundfile as sf
import torch
import torchaudio

from vipant.features.fbank import compute_fbank, fbank_shard, fit_length, load_waveform


def _tone(seconds: float, sr: int, channels: int = 1, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    wave = 0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * np.random.default_rng(0).standard_normal(t.size)
    return np.stack([wave * (c + 1) for c in range(channels)], axis=1).astype(np.float32)


def test_compute_fbank_equals_torchaudio_reference_call():
    wave = torch.from_numpy(_tone(10, 16000)[:, 0])[None, :]
    reference = torchaudio.compliance.kaldi.fbank(
        wave - wave.mean(), htk_compat=True, sample_frequency=16000, use_energy=False,
        window_type="hanning", num_mel_bins=128, dither=0.0, frame_shift=10,
    )
    ours = compute_fbank(wave)
    assert ours.shape == (998, 128)
    assert torch.equal(ours, reference)


def test_first_channel_only_and_resampled(tmp_path):
    path = tmp_path / "stereo48k.wav"
    sf.write(path, _tone(2, 48000, channels=2), 48000)
    wave = load_waveform(path)
    assert wave.shape == (1, 32000)
    # the second channel is twice the first; taking channel 0 keeps the first's amplitude
    assert abs(float(wave.abs().max()) - 0.3) < 0.05


def test_fit_length_pads_with_zeros_and_truncates():
    x = torch.ones(998, 128)
    padded, valid = fit_length(x, 1000)
    assert padded.shape == (1000, 128) and valid == 998 and padded[998:].abs().sum() == 0
    cut, valid = fit_length(x, 500)
    assert cut.shape == (500, 128) and valid == 500


def test_fbank_shard_records_failures_and_keeps_going(tmp_path):
    good = tmp_path / "good.flac"
    sf.write(good, _tone(10, 16000), 16000)
    short = tmp_path / "short.wav"
    sf.write(short, _tone(4, 22050), 22050)
    corrupt = tmp_path / "corrupt.flac"
    corrupt.write_bytes(b"fLaC" + b"\x00garbage" * 10)
    items = pd.DataFrame({"clip_id": ["a", "b", "c", "d"],
                          "path": [str(good), str(corrupt), str(short), str(tmp_path / "missing.wav")]})
    index = fbank_shard(items, tmp_path / "shard-0.npy", tmp_path / "shard-0.csv", target_frames=1000)
    assert list(index["status"]) == ["ok", "failed", "ok", "failed"]
    assert list(index["reason"][index["status"] == "failed"]) == ["decode_error", "decode_error"]
    array = np.load(tmp_path / "shard-0.npy", mmap_mode="r")
    assert array.dtype == np.float16 and array.shape == (4, 1000, 128)
    assert index.loc[0, "n_frames"] == 998 and index.loc[2, "n_frames"] == 398
    expected = compute_fbank(load_waveform(good))
    assert np.allclose(array[0, :998].astype(np.float32), expected.numpy(), atol=0.02)
    assert not list(tmp_path.glob(".*tmp*")), "temporary files left behind"
