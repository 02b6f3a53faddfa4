"""Procedural audio: render one source event, mix events over background noise, encode wav bytes.

Each recipe family of :mod:`vipant.synth.sources` has one renderer here. A :class:`Domain` sets how
much an event may deviate from its recipe: the in-domain one (AudioSet-like clips, ESC-50, US8K,
TUT17) jitters pitch and tempo slightly; the out-of-domain one (Clotho) shifts pitch well away from
it, stretches tempo, adds reverb and louder background noise. Everything is numpy and depends only
on the generator passed in.
"""

from __future__ import annotations

import functools
import io
import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import soundfile as sf

from vipant.synth.sources import FM, Bell, Chirp, Clicks, Harmonic, Noise, Source, source

log = logging.getLogger(__name__)

EVENT_RMS = 0.1  # -20 dBFS: the level of an event before its random gain
_TOP_HZ = 7800.0  # partials above this are skipped (the pipeline keeps 16 kHz audio)


@dataclass(frozen=True)
class Domain:
    """How far rendered events stray from their recipes, and the room they sound in."""

    name: str  # "in" or "out"
    pitch_ranges: tuple[tuple[float, float], ...]  # pitch factor drawn uniformly from one of these ranges
    tempo_range: tuple[float, float]  # factor on pulse / strike / click rates
    reverb_range: tuple[float, float]  # RT60 of the room (s); (0, 0) = dry
    reverb_mix: float  # share of reverberant sound
    noise_boost_db: float  # added to the scene's background noise level


IN_DOMAIN = Domain("in", ((0.96, 1.04),), (0.9, 1.1), (0.0, 0.0), 0.0, 0.0)
OUT_OF_DOMAIN = Domain("out", ((0.78, 0.88), (1.14, 1.28)), (0.7, 1.35), (0.5, 1.2), 0.45, 8.0)


@dataclass(frozen=True)
class EventSound:
    """One event to mix: a source sounding from ``onset`` to ``offset`` (seconds into the waveform)."""

    source: str  # source name
    onset: float  # start (s)
    offset: float  # end (s)


# ------------------------------------------------------------------------------------- helpers


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)) + 1e-12))


def _unit(x: np.ndarray) -> np.ndarray:
    return x / _rms(x)


@functools.lru_cache(maxsize=4096)
def _fast_len(n: int) -> int:
    """Smallest 2^a * 3^b * 5^c >= n (pocketfft is slow on lengths with large prime factors)."""
    best = 1 << max(int(n - 1).bit_length(), 0)
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def _fftconvolve(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Linear convolution of ``x`` with kernel ``k`` (single precision), truncated to ``len(x)``."""
    size = _fast_len(len(x) + len(k) - 1)
    y = np.fft.irfft(np.fft.rfft(x.astype(np.float32), size) * np.fft.rfft(k.astype(np.float32), size), size)
    return y[: len(x)]


def _noise_spectrum(n: int, sr: int, rng: np.random.Generator) -> tuple[int, np.ndarray, np.ndarray]:
    """(FFT size >= n with small factors, random white spectrum of that size, bin frequencies)."""
    size = _fast_len(max(n, 16))
    bins = size // 2 + 1
    spec = np.empty(bins, dtype=np.complex64)  # single precision: plenty for noise, twice as fast
    spec.real = rng.standard_normal(bins, dtype=np.float32)
    spec.imag = rng.standard_normal(bins, dtype=np.float32)
    return size, spec, np.fft.rfftfreq(size, 1.0 / sr).astype(np.float32)


def bandpass_noise(n: int, sr: int, centre: float, octaves: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise with a Gaussian pass band in log frequency (``octaves`` = 2 standard deviations)."""
    size, spec, f = _noise_spectrum(n, sr, rng)
    f[0] = 1e-3
    centre = min(centre, 0.4 * sr)
    gain = np.exp(-0.5 * (np.log2(f / centre) / max(octaves / 2, 0.05)) ** 2)
    return _unit(np.fft.irfft(spec * gain, size)[:n])


def coloured_noise(n: int, sr: int, colour: str, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS white, pink (1/f) or brown (1/f^2) noise."""
    alpha = {"white": 0.0, "pink": 1.0, "brown": 2.0}[colour]
    size, spec, f = _noise_spectrum(n, sr, rng)
    return _unit(np.fft.irfft(spec * np.maximum(f, np.float32(20.0)) ** np.float32(-alpha / 2), size)[:n])


def _pulses(
    t: np.ndarray, rate: float, duty: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pulse index, position 0..1 inside the sounding part, on-mask) of a pulse train starting near t=0."""
    x = t * rate + rng.uniform(0.0, 0.15)
    idx = np.floor(x).astype(np.int64)
    pos = (x - idx) / duty
    return idx, np.clip(pos, 0.0, 1.0), pos < 1.0


def _smooth_random(n: int, sr: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Slowly varying random curve in [0, 1] with about ``rate`` wiggles per second."""
    knots = max(int(n / sr * rate * 2) + 2, 2)
    values = rng.uniform(0.0, 1.0, knots)
    return np.interp(np.linspace(0, knots - 1, n), np.arange(knots), values)


def _damped(sr: int, freq: float, decay: float) -> np.ndarray:
    kt = np.arange(max(int(5 * decay * sr), 8)) / sr
    return np.exp(-kt / decay) * np.sin(2 * np.pi * min(freq, 0.45 * sr) * kt)


# ------------------------------------------------------------------------------------ families


_TABLE_SIZE = 4096


def _wavetable(n_partials: int, rolloff: float, rng: np.random.Generator) -> np.ndarray:
    """One period of a tone with ``n_partials`` harmonics at random phases (looked up, not summed, per sample)."""
    x = np.arange(_TABLE_SIZE) / _TABLE_SIZE
    table = np.zeros(_TABLE_SIZE)
    for k in range(1, n_partials + 1):
        table += rolloff ** (k - 1) * np.sin(2 * np.pi * k * x + rng.uniform(0, 2 * np.pi))
    return table


def _harmonic(r: Harmonic, n: int, sr: int, rng: np.random.Generator, pitch: float, tempo: float) -> np.ndarray:
    t = np.arange(n) / sr
    semis = np.zeros(n)
    if r.vibrato_depth:
        semis += r.vibrato_depth * np.sin(2 * np.pi * r.vibrato_rate * t + rng.uniform(0, 2 * np.pi))
    env = np.ones(n)
    if r.pulse_rate > 0:
        idx, pos, on = _pulses(t, r.pulse_rate * tempo, r.duty, rng)
        env = np.where(on, np.sin(np.pi * pos) ** 0.6, 0.0)
        semis += r.glide * pos
        if len(r.notes) > 1:
            semis += rng.choice(np.asarray(r.notes, dtype=float), size=int(idx.max()) + 1)[idx]
    elif r.glide:
        semis += r.glide * t / max(t[-1], 1e-3)
    freq = r.f0 * pitch * 2.0 ** (semis / 12)
    cycles = np.cumsum(freq) / sr
    top = min(_TOP_HZ, 0.45 * sr)
    out = np.zeros(n)
    for c in r.chord:
        shift = 2.0 ** (c / 12)
        n_partials = max(1, min(r.n_harmonics, int(top / (float(freq.max()) * shift))))
        table = _wavetable(n_partials, r.rolloff, rng)
        out += table[((cycles * shift) % 1.0 * _TABLE_SIZE).astype(np.int64) % _TABLE_SIZE]
    out = _unit(out)
    if r.noise:
        rasp = bandpass_noise(n, sr, r.f0 * pitch * 3, 2.5, rng)
        out = (1 - r.noise) * out + r.noise * rasp
    return out * env


def _bell(r: Bell, n: int, sr: int, rng: np.random.Generator, pitch: float, tempo: float) -> np.ndarray:
    rate = r.strike_rate * tempo
    dur = n / sr
    strikes = np.arange(rng.uniform(0.0, 0.05), dur, 1.0 / rate)
    strikes = strikes + rng.uniform(-0.04, 0.04, len(strikes)) / rate
    strikes = np.clip(strikes, 0.0, None)
    top = min(_TOP_HZ, 0.45 * sr)
    out = np.zeros(n)
    first_note = int(rng.integers(len(r.notes)))
    for j, t0 in enumerate(strikes):
        note = r.notes[(first_note + j) % len(r.notes)] if r.cycle_notes else r.notes[int(rng.integers(len(r.notes)))]
        f = r.f0 * pitch * 2.0 ** (note / 12)
        nxt = strikes[j + 1] if j + 1 < len(strikes) else dur
        end = min(nxt + 0.3 * r.decay, t0 + 4 * r.decay, dur)
        i0, i1 = int(t0 * sr), int(end * sr)
        if i1 - i0 < 8:
            continue
        kt = np.arange(i1 - i0) / sr
        seg = np.zeros(i1 - i0)
        for i, ratio in enumerate(r.ratios):
            if f * ratio > top:
                continue
            tau = r.decay / (1 + 0.5 * i)
            seg += r.brightness**i * np.exp(-kt / tau) * np.sin(2 * np.pi * f * ratio * kt + rng.uniform(0, 2 * np.pi))
        seg *= 1 - np.exp(-kt / 0.002)
        fade = min(len(seg), int(0.01 * sr))
        seg[-fade:] *= np.linspace(1, 0, fade)
        out[i0:i1] += seg * rng.uniform(0.7, 1.0)
    return out


def _noise(r: Noise, n: int, sr: int, rng: np.random.Generator, pitch: float, tempo: float) -> np.ndarray:
    t = np.arange(n) / sr
    out = bandpass_noise(n, sr, r.centre * pitch, r.bandwidth, rng)
    if r.am_depth:
        if r.am_random:
            m = _smooth_random(n, sr, r.am_rate * tempo, rng)
        else:
            m = 0.5 + 0.5 * np.sin(2 * np.pi * r.am_rate * tempo * t + rng.uniform(0, 2 * np.pi))
        out = out * (1 - r.am_depth * m)
    if r.burst_rate:
        _, pos, on = _pulses(t, r.burst_rate * tempo, r.burst_duty, rng)
        out = out * np.where(on, np.sin(np.pi * pos) ** 0.5, 0.0)
    if r.crackle_rate:
        count = rng.poisson(r.crackle_rate * tempo * n / sr)
        exc = np.zeros(n)
        np.add.at(exc, rng.integers(0, n, count), rng.uniform(0.3, 1.0, count) * rng.choice([-1.0, 1.0], count))
        crackle = _fftconvolve(exc, _damped(sr, r.crackle_freq * pitch, 0.003))
        out = _unit(out) + 0.8 * _unit(crackle) if count else out
    if r.tone:
        hum = np.sin(2 * np.pi * r.tone * pitch * t) + 0.4 * np.sin(4 * np.pi * r.tone * pitch * t)
        out = _unit(out) + 0.5 * _unit(hum)
    return out


def _clicks(r: Clicks, n: int, sr: int, rng: np.random.Generator, pitch: float, tempo: float) -> np.ndarray:
    period = 1.0 / (r.rate * tempo)
    dur = n / sr
    times = np.arange(rng.uniform(0.0, min(period, 0.2)), dur, period)
    times = times + r.jitter * period * rng.uniform(-0.5, 0.5, len(times))
    if r.group > 1:
        times = np.concatenate([times + g * r.group_gap for g in range(r.group)])
    times = times[(times >= 0) & (times < dur)]
    exc = np.zeros(n)
    np.add.at(exc, (times * sr).astype(np.int64), rng.uniform(0.6, 1.0, len(times)))
    decay = r.decay_ms / 1000.0
    res = _unit(_damped(sr, r.resonance * pitch, decay))
    kt = np.arange(len(res)) / sr
    burst = _unit(bandpass_noise(len(res), sr, r.resonance * pitch, 3.0, rng) * np.exp(-kt / (decay * 0.5)))
    kernel = (1 - r.noise) * res + r.noise * burst
    return _fftconvolve(exc, kernel)


def _chirp(r: Chirp, n: int, sr: int, rng: np.random.Generator, pitch: float, tempo: float) -> np.ndarray:
    period = 1.0 / (r.rate * tempo)
    dur = n / sr
    out = np.zeros(n)
    starts = np.arange(rng.uniform(0.0, period / 2), dur, period)
    starts = starts + r.jitter * period * rng.uniform(-0.5, 0.5, len(starts))
    m = int(r.chirp_seconds * sr)
    kt = np.arange(m) / sr
    top = min(_TOP_HZ, 0.45 * sr)
    for t0 in starts:
        i0 = int(t0 * sr)
        if i0 < 0 or i0 + m > n:
            continue
        f1, f2 = r.f_start * pitch * rng.uniform(0.95, 1.05), r.f_end * pitch * rng.uniform(0.95, 1.05)
        f = f1 * (f2 / f1) ** (kt / r.chirp_seconds)
        phase = 2 * np.pi * np.cumsum(f) / sr
        seg = np.zeros(m)
        for k in range(1, r.harmonics + 1):
            if k * max(f1, f2) <= top:
                seg += 0.5 ** (k - 1) * np.sin(k * phase)
        out[i0 : i0 + m] += seg * np.sin(np.pi * kt / r.chirp_seconds) * rng.uniform(0.6, 1.0)
    return out


def _fm(r: FM, n: int, sr: int, rng: np.random.Generator, pitch: float, tempo: float) -> np.ndarray:
    t = np.arange(n) / sr
    fc = min(r.carrier * pitch, 0.45 * sr)
    out = np.sin(2 * np.pi * fc * t + r.index * np.sin(2 * np.pi * r.mod_freq * t))
    if r.pulse_rate:
        _, pos, on = _pulses(t, r.pulse_rate * tempo, r.duty, rng)
        out = out * np.where(on, np.sin(np.pi * pos) ** 0.3, 0.0)
    if r.tremolo_rate:
        out = out * (0.5 + 0.5 * np.sin(2 * np.pi * r.tremolo_rate * t))
    return out


_RENDERERS = {"harmonic": _harmonic, "bell": _bell, "noise": _noise, "clicks": _clicks, "chirp": _chirp, "fm": _fm}


# ---------------------------------------------------------------------------------- public API


def render_event(
    src: Source | str, duration: float, sample_rate: int, rng: np.random.Generator, domain: Domain = IN_DOMAIN
) -> np.ndarray:
    """One event of ``src`` lasting ``duration`` seconds: unit-RMS float32 mono, 5 ms fade in, 20 ms out."""
    if isinstance(src, str):
        src = source(src)
    n = max(int(round(duration * sample_rate)), 1)
    lo, hi = domain.pitch_ranges[int(rng.integers(len(domain.pitch_ranges)))]
    pitch = rng.uniform(lo, hi)
    tempo = rng.uniform(*domain.tempo_range)
    wave = _RENDERERS[src.family](src.recipe, n, sample_rate, rng, pitch, tempo)
    if _rms(wave) < 1e-6:  # a pulse train that happened to fall silent in a very short event
        wave = bandpass_noise(n, sample_rate, 1000.0, 2.0, rng) * 1e-3
    wave = _unit(wave)
    fade_in, fade_out = min(n, int(0.005 * sample_rate)), min(n, int(0.02 * sample_rate))
    wave[:fade_in] *= np.linspace(0, 1, fade_in)
    wave[n - fade_out :] *= np.linspace(1, 0, fade_out)
    return wave.astype(np.float32)


def add_reverb(x: np.ndarray, sample_rate: int, rt60: float, mix: float, rng: np.random.Generator) -> np.ndarray:
    """Mix ``x`` (mono) with itself through an exponentially decaying noise impulse response."""
    if rt60 <= 0 or mix <= 0:
        return x
    kt = np.arange(int(rt60 * sample_rate)) / sample_rate
    ir = rng.standard_normal(len(kt)) * np.exp(-6.9 * kt / rt60)
    wet = _fftconvolve(x, ir)
    scale = _rms(x) / _rms(wet) if _rms(wet) > 0 else 0.0
    return (1 - mix) * x + mix * wet * scale


def mix_scene(
    events: Sequence[EventSound],
    duration: float,
    sample_rate: int,
    channels: int,
    rng: np.random.Generator,
    *,
    noise_colour: str = "pink",
    noise_db: float = -24.0,
    domain: Domain = IN_DOMAIN,
    gain_db_range: tuple[float, float] = (-6.0, 0.0),
) -> np.ndarray:
    """Mix ``events`` over background noise: float32 ``(samples, channels)``, peak at most 0.95.

    Each event sounds only inside its [onset, offset) (cut at the waveform's end), at -20 dBFS plus a
    random gain from ``gain_db_range``, panned at random when stereo. The background noise of colour
    ``noise_colour`` sits ``noise_db`` (+ the domain's boost) below -20 dBFS, independent per channel.
    """
    n = int(round(duration * sample_rate))
    dry = np.zeros((n, channels))
    for ev in events:
        i0 = max(int(round(ev.onset * sample_rate)), 0)
        i1 = min(int(round(ev.offset * sample_rate)), n)
        if i1 - i0 < 2:
            continue
        wave = render_event(ev.source, (i1 - i0) / sample_rate, sample_rate, rng, domain)[: i1 - i0]
        gain = EVENT_RMS * 10 ** (rng.uniform(*gain_db_range) / 20)
        if channels == 1:
            pans = np.array([1.0])
        else:
            angle = (rng.uniform(-0.6, 0.6) + 1) * np.pi / 4
            pans = np.array([np.cos(angle), np.sin(angle)]) * np.sqrt(2)
        dry[i0:i1] += wave[:, None] * gain * pans[None, :]
    if domain.reverb_range[1] > 0:
        rt60 = rng.uniform(*domain.reverb_range)
        for c in range(channels):
            dry[:, c] = add_reverb(dry[:, c], sample_rate, rt60, domain.reverb_mix, rng)
    level = EVENT_RMS * 10 ** ((noise_db + domain.noise_boost_db) / 20)
    for c in range(channels):
        dry[:, c] += level * coloured_noise(n, sample_rate, noise_colour, rng)
    peak = float(np.abs(dry).max()) if n else 0.0
    if peak > 0.95:
        dry *= 0.95 / peak
    return dry.astype(np.float32)


def wav_bytes(wave: np.ndarray, sample_rate: int, subtype: str = "PCM_16") -> bytes:
    """Encode ``wave`` (``(samples,)`` or ``(samples, channels)``, float in [-1, 1]) as a WAV file."""
    buf = io.BytesIO()
    sf.write(buf, np.clip(wave, -1.0, 1.0), sample_rate, subtype=subtype, format="WAV")
    return buf.getvalue()


@dataclass(frozen=True)
class WavSpec:
    """Everything needed to render one wav file (a picklable media task)."""

    duration: float  # length (s)
    sample_rate: int  # sample rate (Hz)
    channels: int  # 1 or 2
    events: tuple[EventSound, ...]  # events to mix
    noise_colour: str  # background noise colour
    noise_db: float  # background level relative to the events (dB)
    seed: int  # seed of the renderer
    out_of_domain: bool = False  # Clotho-like synthesis (OUT_OF_DOMAIN) instead of IN_DOMAIN
    subtype: str = "PCM_16"  # soundfile subtype of the samples
    gain_db_range: tuple[float, float] = (-6.0, 0.0)  # random gain of each event (dB)


def render_wav(spec: WavSpec) -> bytes:
    """Render and encode one wav file."""
    rng = np.random.default_rng(spec.seed)
    wave = mix_scene(
        spec.events,
        spec.duration,
        spec.sample_rate,
        spec.channels,
        rng,
        noise_colour=spec.noise_colour,
        noise_db=spec.noise_db,
        domain=OUT_OF_DOMAIN if spec.out_of_domain else IN_DOMAIN,
        gain_db_range=spec.gain_db_range,
    )
    return wav_bytes(wave if spec.channels > 1 else wave[:, 0], spec.sample_rate, spec.subtype)
