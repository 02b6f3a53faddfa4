"""Files → embeddings as the workflow would compute them; long audio in windows; failures as results."""

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from vipant.embed.audio import embed_clips
from vipant.features.fbank import compute_fbank, fbank_shard
from vipant.features.store import FbankStats, FbankStore
from vipant.inference.decode import decode_audio
from vipant.inference.embedder import embed_file, embed_files, embed_texts, fbank_windows, top_k, window_starts
from vipant.inference.files import find_audio_files
from vipant.inference.model import load_inference_model

STATS = FbankStats(mean=-6.0, std=4.5)


@pytest.fixture(scope="module")
def model(inference_layout):
    return load_inference_model(inference_layout["at"], device="cpu")


@pytest.mark.parametrize(
    "n, window, expected",
    [
        (500, 1000, [0]),
        (1000, 1000, [0]),
        (1001, 1000, [0, 1]),
        (6998, 1000, [0, 1000, 1999, 2999, 3999, 4998, 5998]),
        (2500, 1000, [0, 750, 1500]),
    ],
)
def test_window_starts_cover_the_clip_with_full_windows(n, window, expected):
    starts = window_starts(n, window)
    assert starts == expected
    assert starts[-1] + window >= n and all(b - a <= window for a, b in zip(starts, starts[1:]))


def test_short_clip_is_zero_padded_before_normalisation():
    wave = torch.randn(1, 8000) * 0.1  # 0.5 s -> 48 frames
    windows = fbank_windows(wave, STATS, 1000)
    feats = compute_fbank(wave).to(torch.float16).float()
    assert windows.shape == (1, 1000, 128)
    torch.testing.assert_close(windows[0, :48], (feats - STATS.mean) / STATS.std, rtol=0, atol=1e-5)
    assert torch.all(windows[0, 48:] == np.float32(-STATS.mean) * np.float32(1 / STATS.std))


def test_long_clip_windows_are_slices_of_its_features():
    wave = torch.randn(1, 16000 * 25) * 0.1  # 25 s -> 2498 frames -> 3 windows
    feats = (compute_fbank(wave).to(torch.float16).float() - STATS.mean) / STATS.std
    windows = fbank_windows(wave, STATS, 1000)
    assert windows.shape == (3, 1000, 128)
    for w, s in zip(windows, window_starts(feats.shape[0], 1000)):
        torch.testing.assert_close(w, feats[s : s + 1000], rtol=0, atol=1e-5)


def test_a_workflow_clip_embeds_as_evaluation_embeds_it(model, tmp_path):
    """The FBANK stage + FbankStore + embed_clips (what `vipant evaluate` runs) give the same vector."""
    rng = np.random.default_rng(0)
    clip = tmp_path / "clip.flac"
    sf.write(clip, (0.2 * rng.standard_normal(16000 * 7)).astype(np.float32), 16000, subtype="PCM_16")
    fbank_shard(
        pd.DataFrame({"clip_id": ["c"], "path": [str(clip)]}),
        tmp_path / "shard-000.npy",
        tmp_path / "index.csv",
        target_frames=1000,
    )
    store = FbankStore(tmp_path / "index.csv", model.stats, length=1000)
    _, reference = embed_clips(model.encoder, store, ["c"])
    ours = embed_file(model, clip)
    assert ours.ok and ours.windows == 1 and abs(ours.duration_s - 7.0) < 1e-9
    np.testing.assert_allclose(ours.vector, reference[0].numpy(), rtol=0, atol=1e-6)


def test_long_file_is_the_mean_of_its_windows(model, audio_zoo):
    result = embed_file(model, audio_zoo["good"]["long"])
    assert result.ok and result.windows == 7 and result.vector.shape == (model.dim,)
    windows = fbank_windows(decode_audio(audio_zoo["good"]["long"]), model.stats, model.frames)
    with torch.no_grad():
        per_window = torch.nn.functional.normalize(model.encoder(windows), dim=-1)
    expected = torch.nn.functional.normalize(per_window.mean(0), dim=0)
    np.testing.assert_allclose(result.vector, expected.numpy(), rtol=0, atol=1e-6)
    assert abs(np.linalg.norm(result.vector) - 1) < 1e-5


def test_embed_files_keeps_order_reports_failures_and_is_independent_of_the_batch(model, audio_zoo, caplog):
    good, bad = audio_zoo["good"], audio_zoo["bad"]
    paths = [good["wav"], bad["missing"], good["mp3"], bad["empty"], good["stereo48k"]]
    results = embed_files(model, paths, progress=False)
    assert [r.path for r in results] == [str(p) for p in paths]
    assert [r.ok for r in results] == [True, False, True, False, True]
    assert results[1].error == "no such file" and "empty file" in results[3].error
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == [f"{bad['missing']}: no such file", f"{bad['empty']}: empty file (0 bytes)"]
    alone = embed_file(model, good["mp3"])
    assert np.array_equal(alone.vector, results[2].vector)  # bit for bit, whatever else was embedded


def test_text_embeddings_are_normalised_and_distinct(model):
    emb = embed_texts(model, ["the sound of rain", "the sound of a dog barking"])
    assert emb.shape == (2, model.dim)
    torch.testing.assert_close(emb.norm(dim=-1), torch.ones(2))
    assert not torch.allclose(emb[0], emb[1])


def test_top_k_orders_by_score_and_keeps_label_order_on_ties():
    labels = ["a", "b", "c", "d"]
    assert top_k(np.array([0.1, 0.5, 0.5, -0.2]), labels, 3) == [("b", 0.5), ("c", 0.5), ("a", pytest.approx(0.1))]
    assert [lab for lab, _ in top_k(np.array([0.1, 0.5, 0.3, -0.2]), labels, 10)] == ["b", "c", "a", "d"]


def test_find_audio_files_recurses_sorted_and_keeps_explicit_paths(audio_zoo):
    d = audio_zoo["dir"]
    found = find_audio_files([d])
    assert str(d / "notes.txt") not in found  # not an audio suffix
    assert str(d / "sub" / "hum.flac") in found and str(d / "sub" / "fake.wav") in found
    names = [
        "bell.ogg",
        "chirp.mp3",
        "corrupt.mp3",
        "empty.wav",
        "long.flac",
        "short.wav",
        "stereo_48k.wav",
        "tone.wav",
        "sub/fake.wav",
        "sub/hum.flac",
    ]
    assert found == [str(d / n) for n in names]  # sorted within each folder, folders depth-first
    assert find_audio_files([d / "notes.txt", d / "missing.flac"]) == [str(d / "notes.txt"), str(d / "missing.flac")]
