import numpy as np
import pytest
import torch
import torchaudio

from vipant.synth.audio import OUT_OF_DOMAIN, EventSound, WavSpec, mix_scene, render_event, render_wav
from vipant.synth.seeding import rng_for
from vipant.synth.sources import SOURCES

SR = 16000


def _features(wave: np.ndarray) -> np.ndarray:
    """Mean (level-normalised) and std of the 128-bin log-mel FBANK the pipeline uses."""
    fb = torchaudio.compliance.kaldi.fbank(
        torch.from_numpy(wave * 0.1)[None],
        htk_compat=True,
        sample_frequency=SR,
        use_energy=False,
        window_type="hanning",
        num_mel_bins=128,
        dither=0.0,
        frame_shift=10,
    )
    mean = fb.mean(0)
    return torch.cat([mean - mean.mean(), fb.std(0)]).numpy()


def _centroid(wave: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(wave))
    f = np.fft.rfftfreq(len(wave), 1 / SR)
    return float((spec * f).sum() / spec.sum())


def test_render_event_is_unit_rms_float32_of_the_right_length():
    for s in SOURCES[:: len(SOURCES) // 8]:
        w = render_event(s, 1.25, 22050, rng_for(0, s.name))
        assert w.dtype == np.float32 and w.shape == (int(1.25 * 22050),)
        assert np.isfinite(w).all()
        assert np.sqrt(np.mean(w.astype(np.float64) ** 2)) == pytest.approx(1.0, rel=0.05)


def test_sources_are_distinguishable_in_log_mel():
    """A second rendering of every source is nearest (in log-mel statistics) to its own first one."""
    a = np.stack([_features(render_event(s, 3.0, SR, rng_for(1, s.name))) for s in SOURCES])
    b = np.stack([_features(render_event(s, 3.0, SR, rng_for(2, s.name))) for s in SOURCES])
    nearest = ((a[:, None] - b[None]) ** 2).sum(-1).argmin(0)
    assert (nearest == np.arange(len(SOURCES))).mean() >= 0.9


def test_spectral_centroids_spread_and_follow_the_recipes():
    centroid = {s.name: _centroid(render_event(s, 2.0, SR, rng_for(3, s.name))) for s in SOURCES}
    assert max(centroid.values()) > 4 * min(centroid.values())
    assert centroid["Cricket"] > centroid["Bird"] > centroid["Dog"] > centroid["Engine"]
    assert centroid["Typing"] > centroid["Walk, footsteps"] > centroid["Drum"]


def test_mix_scene_events_sound_only_inside_their_interval():
    rng = rng_for(4, "mix")
    wave = mix_scene([EventSound("Siren", 1.0, 2.0)], 3.0, SR, 2, rng, noise_colour="brown", noise_db=-40)
    assert wave.shape == (3 * SR, 2) and wave.dtype == np.float32
    rms = lambda x: float(np.sqrt(np.mean(x**2)))  # noqa: E731
    inside, outside = rms(wave[int(1.1 * SR) : int(1.9 * SR)]), rms(wave[: int(0.9 * SR)])
    assert inside > 20 * outside > 0  # background noise is never digital silence
    assert np.abs(wave).max() <= 0.95 + 1e-6


def test_out_of_domain_differs_and_wav_encodes():
    s = SOURCES[0]
    ind = np.stack([_features(render_event(s, 3.0, SR, rng_for(k, "in"))) for k in range(3)])
    ood = np.stack([_features(render_event(s, 3.0, SR, rng_for(k, "ood"), OUT_OF_DOMAIN)) for k in range(3)])
    within = np.linalg.norm(ind[0] - ind[1:], axis=1).mean()
    across = np.linalg.norm(ind[:, None] - ood[None], axis=2).mean()
    assert across > within
    spec = WavSpec(1.0, 44100, 1, (EventSound(s.name, 0.1, 0.9),), "pink", -20.0, seed=1, out_of_domain=True)
    data = render_wav(spec)
    assert data[:4] == b"RIFF" and data == render_wav(spec)
