"""Any common audio file becomes the 16 kHz mono waveform the workflow trains on; bad files get reasons."""

import numpy as np
import pytest
import soundfile as sf
import torch

from vipant.features.fbank import load_waveform
from vipant.inference.decode import AudioInputError, decode_audio
from vipant.media.ffmpeg import run_ffmpeg


@pytest.mark.parametrize(
    "name, seconds",
    [("wav", 3.0), ("flac", 6.0), ("mp3", 5.0), ("ogg", 5.0), ("stereo48k", 4.0), ("short", 0.5), ("long", 70.0)],
)
def test_formats_rates_and_lengths_decode_to_16k_mono(audio_zoo, name, seconds):
    wave = decode_audio(audio_zoo["good"][name])
    assert wave.dtype == torch.float32 and wave.shape[0] == 1
    # mp3 encoders add up to ~50 ms of priming/padding; resampling keeps the duration
    assert abs(wave.shape[1] / 16000 - seconds) < 0.06
    assert 0.05 < float(wave.abs().max()) <= 1.0


def test_16k_mono_flac_gives_the_fbank_stages_samples(tmp_path):
    """A downloaded clip (16 kHz mono 16-bit FLAC) decodes to exactly what the FBANK stage reads."""
    rng = np.random.default_rng(0)
    path = tmp_path / "clip.flac"
    sf.write(path, (0.2 * rng.standard_normal(16000)).astype(np.float32), 16000, subtype="PCM_16")
    assert torch.equal(decode_audio(path), load_waveform(path))


def test_stereo_is_downmixed_by_averaging(tmp_path):
    t = np.arange(48000) / 48000
    tone = 0.4 * np.sin(2 * np.pi * 500 * t)
    opposite, same = tmp_path / "opposite.wav", tmp_path / "same.wav"
    sf.write(opposite, np.stack([tone, -tone], 1), 48000, subtype="PCM_16")
    sf.write(same, np.stack([tone, tone], 1), 48000, subtype="PCM_16")
    assert float(decode_audio(opposite).abs().max()) < 1e-3  # L + R cancel: a mean, not the first channel
    assert abs(float(decode_audio(same).abs().max()) - 0.4) < 0.02


@pytest.mark.parametrize(
    "name, reason",
    [
        ("corrupt", "not a readable audio file"),
        ("empty", "empty file"),
        ("text", "not a readable audio file"),
        ("text_as_wav", "not a readable audio file"),
        ("missing", "no such file"),
    ],
)
def test_bad_files_raise_with_a_reason_naming_the_file(audio_zoo, name, reason):
    path = audio_zoo["bad"][name]
    with pytest.raises(AudioInputError) as err:
        decode_audio(path)
    assert err.value.path == str(path) and reason in err.value.reason
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_directory_too_short_and_video_without_audio(tmp_path):
    with pytest.raises(AudioInputError, match="is a directory"):
        decode_audio(tmp_path)
    tiny = tmp_path / "click.wav"
    sf.write(tiny, np.full(160, 0.5, np.float32), 16000)  # 10 ms
    with pytest.raises(AudioInputError, match="too short"):
        decode_audio(tiny)
    video = tmp_path / "silent_film.mkv"
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=red:s=64x64:d=0.5", "-c:v", "mpeg4", str(video)])
    with pytest.raises(AudioInputError, match="no audio stream"):
        decode_audio(video)
