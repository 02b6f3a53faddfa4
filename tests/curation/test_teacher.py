"""Teacher-driven curation (follow-up B): DU, DS, ADS pair lists, thresholds, the subset teacher's pairs."""

import numpy as np
import pandas as pd
import pytest
import torch

from vipant.curation import teacher
from vipant.curation.teacher import (
    augmented_domain_specific,
    domain_specific,
    domain_unspecific,
    improvement_set_kind,
    in_the_wild,
    resolve_threshold,
    subset_pairs,
)

TEXTS = ["a dog barks", "rain falls", "an engine idles", "a bell rings"]
# caption pool embeddings: one axis per caption
POOL = torch.eye(4)


def _teacher_pairs():
    return pd.DataFrame({"clip_id": ["t0", "t1", "t2", "t3"], "text_row": [0, 1, 2, 3], "text": TEXTS})


def test_threshold_spec_is_a_cosine_or_a_quantile():
    cos = np.linspace(0, 1, 101)
    assert resolve_threshold(0.75, cos) == 0.75
    assert resolve_threshold({"quantile": 0.9}, cos) == pytest.approx(0.9)
    for bad in ({"q": 0.5}, {"quantile": 1.5}, "0.7", True):
        with pytest.raises(ValueError):
            resolve_threshold(bad, cos)


def test_threshold_quantile_bounds_and_refusals():
    """q = 0 and q = 1 are the extreme cosines; q = 2 is refused; one cosine is enough, none is refused; each
    refusal says why. Catches open bounds, a widened range and a refusal of a single cosine."""
    cos = np.array([0.1, 0.5, 0.9])
    assert resolve_threshold({"quantile": 0.0}, cos) == pytest.approx(0.1)
    assert resolve_threshold({"quantile": 1.0}, cos) == pytest.approx(0.9)
    assert resolve_threshold({"quantile": 0.5}, np.array([0.3])) == pytest.approx(0.3)
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\], got 2.0"):
        resolve_threshold({"quantile": 2.0}, cos)
    with pytest.raises(ValueError, match="^no cosines to take a threshold quantile of$"):
        resolve_threshold({"quantile": 0.5}, np.zeros(0))
    with pytest.raises(ValueError, match=r"threshold spec \{'q': 0.5\}: expected a number"):
        resolve_threshold({"q": 0.5}, cos)
    with pytest.raises(ValueError, match=r"threshold spec '0.7': expected a number"):
        resolve_threshold("0.7", cos)


def test_du_keeps_every_clip_caption_pair_above_the_threshold():
    # clip a is the dog and a bit of rain, clip b is the engine, clip c matches nothing well
    audio = torch.tensor([[0.9, 0.4, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.3, 0.3, 0.3, 0.3]])
    out = domain_unspecific(audio, ["a", "b", "c"], _teacher_pairs(), POOL, TEXTS, 0.6)
    got = sorted(zip(out.pairs["clip_id"], out.pairs["text_row"]))
    assert got == [("a", 0), ("b", 2)]
    a_dog = out.pairs[out.pairs["clip_id"] == "a"]["score"].item()
    assert a_dog == pytest.approx(0.9 / np.hypot(0.9, 0.4), rel=1e-5)  # cosine, audio normalised inside
    assert list(out.pairs.columns) == ["clip_id", "text_row", "text", "score"]
    assert out.pairs.loc[out.pairs["clip_id"] == "b", "text"].item() == "an engine idles"
    assert out.threshold == 0.6 and out.candidates == 12
    assert out.summary() == {"pairs": 2, "clips": 2, "distinct_texts": 2, "threshold": 0.6, "candidates": 12}


def test_du_uses_only_the_teachers_training_captions():
    audio = torch.tensor([[0.0, 0.0, 0.0, 1.0]])  # a bell, but the teacher never saw the bell caption
    few = _teacher_pairs().iloc[:3]
    with pytest.raises(ValueError, match="no \\(clip, caption\\) pair reaches the threshold 0.5000"):
        domain_unspecific(audio, ["x"], few, POOL, TEXTS, 0.5)


def test_quantile_threshold_keeps_the_top_share_of_cosines():
    g = torch.Generator().manual_seed(0)
    audio = torch.randn(50, 4, generator=g)
    out = domain_unspecific(audio, [f"c{i}" for i in range(50)], _teacher_pairs(), POOL, TEXTS, {"quantile": 0.9})
    assert 15 <= len(out.pairs) <= 25  # 10 % of 200 cosines
    assert (out.pairs["score"] >= out.threshold - 1e-6).all()


def test_quantile_of_a_huge_candidate_set_comes_from_a_seeded_row_sample(monkeypatch):
    monkeypatch.setattr(teacher, "QUANTILE_SAMPLE", 40)  # 10 of 100 clips x 4 captions
    audio = torch.randn(100, 4, generator=torch.Generator().manual_seed(1))
    clips = [f"c{i}" for i in range(100)]
    a = domain_unspecific(audio, clips, _teacher_pairs(), POOL, TEXTS, {"quantile": 0.5}, seed=3)
    b = domain_unspecific(audio, clips, _teacher_pairs(), POOL, TEXTS, {"quantile": 0.5}, seed=3)
    assert a.threshold == b.threshold
    assert 100 <= len(a.pairs) <= 300  # a median estimated from 40 of the 400 cosines


def test_quantile_sample_is_whole_distinct_rows_in_order_read_in_chunks(monkeypatch):
    """The cosines a quantile is taken from: every row when they fit in QUANTILE_SAMPLE, else that many
    cosines' worth of distinct whole rows (at least one), in row order, however CHUNK splits them. Catches a
    sample with repeated rows, a row budget divided by the embedding width or by a floor of 2 captions, and
    chunks that overlap or skip the first rows."""
    monkeypatch.setattr(teacher, "CHUNK", 3)
    g = torch.Generator().manual_seed(0)
    audio, text = torch.randn(100, 4, generator=g), torch.randn(5, 4, generator=g)
    full = (audio @ text.T).numpy()
    monkeypatch.setattr(teacher, "QUANTILE_SAMPLE", 10_000)
    assert np.allclose(teacher._sample_cosines(audio, text, 0), full.flatten(), atol=1e-6)
    monkeypatch.setattr(teacher, "QUANTILE_SAMPLE", 250)  # 50 of the 100 rows
    got = teacher._sample_cosines(audio, text, 0).reshape(-1, 5)
    rows = [int(np.flatnonzero(np.isclose(full, r, atol=1e-6).all(axis=1))[0]) for r in got]
    assert len(rows) == 50 and rows == sorted(set(rows))
    monkeypatch.setattr(teacher, "QUANTILE_SAMPLE", 3)  # less than one row's cosines: one row
    assert len(teacher._sample_cosines(audio, text, 0)) == 5
    monkeypatch.setattr(teacher, "QUANTILE_SAMPLE", 40)  # one caption: 40 rows of one cosine
    assert len(teacher._sample_cosines(audio, text[:1], 0)) == 40


def test_ds_keeps_teacher_pairs_whose_caption_is_close_to_a_class_prompt():
    # prompts: "this is a sound of dog" ~ caption 0, "... of engine" ~ caption 2 (plus a little of 3)
    labels = torch.tensor([[0.95, 0.1, 0.0, 0.0], [0.0, 0.0, 0.8, 0.6]])
    out = domain_specific(_teacher_pairs(), POOL, labels, ["dog", "engine"], 0.7, task="esc50")
    assert out.pairs["clip_id"].tolist() == ["t0", "t2"]
    assert out.pairs["label"].tolist() == ["dog", "engine"]
    assert out.pairs["score"].tolist() == pytest.approx([0.95 / np.hypot(0.95, 0.1), 0.8])
    assert out.candidates == 4
    with pytest.raises(ValueError, match="DS_us8k: no teacher caption reaches"):
        domain_specific(_teacher_pairs(), POOL, labels, ["dog", "engine"], 0.999, task="us8k")


def test_ads_matches_only_ds_captions_to_in_the_wild_audio():
    ds = pd.DataFrame({"clip_id": ["t0"], "text_row": [0], "text": [TEXTS[0]], "score": [0.9]})
    audio = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.8, 0.0, 0.6, 0.0]])
    out = augmented_domain_specific(audio, ["w0", "w1", "w2"], ds, POOL, TEXTS, 0.7, task="esc50")
    assert out.pairs["clip_id"].tolist() == ["w0", "w2"]  # the engine clip is not matched to the engine caption
    assert set(out.pairs["text_row"]) == {0}


def test_ds_records_its_threshold_renumbers_rows_and_takes_a_quantile_of_the_best_prompt_cosines():
    """Catches a DS list that keeps the teacher list's row labels, a Curated without the applied τ, and a quantile
    spec that never sees the captions' best-prompt cosines."""
    labels = torch.tensor([[0.95, 0.1, 0.0, 0.0], [0.0, 0.0, 0.8, 0.6]])
    out = domain_specific(_teacher_pairs(), POOL, labels, ["dog", "engine"], 0.7, task="esc50")
    assert out.threshold == 0.7
    assert list(out.pairs.columns) == ["clip_id", "text_row", "text", "score", "label"]
    assert out.pairs.index.tolist() == [0, 1]
    # best-prompt cosines of captions 0..3: 0.995, 0, 0.8, 0.6; their median is 0.7
    q = domain_specific(_teacher_pairs(), POOL, labels, ["dog", "engine"], {"quantile": 0.5}, task="esc50")
    assert q.threshold == pytest.approx(0.7, abs=1e-6)
    assert q.pairs["clip_id"].tolist() == ["t0", "t2"]


def test_ds_refuses_prompts_that_do_not_match_the_class_names():
    """One prompt per class name, at least one: a single class is fine. Catches a check that needs both faults
    at once, one that reads the embedding width, and one that refuses a single class."""
    labels = torch.tensor([[0.95, 0.1, 0.0, 0.0], [0.0, 0.0, 0.8, 0.6]])
    with pytest.raises(ValueError, match="DS_esc50: 2 label prompts for 1 class names"):
        domain_specific(_teacher_pairs(), POOL, labels, ["dog"], 0.7, task="esc50")
    with pytest.raises(ValueError, match="0 label prompts for 0 class names"):
        domain_specific(_teacher_pairs(), POOL, torch.zeros(0, 4), [], 0.7, task="esc50")
    one = domain_specific(_teacher_pairs(), POOL, labels[:1], ["dog"], 0.7, task="esc50")
    assert one.pairs["clip_id"].tolist() == ["t0"]


def test_ads_names_itself_and_samples_its_quantile_with_the_given_seed(monkeypatch):
    ds = pd.DataFrame({"clip_id": ["t0", "t2"], "text_row": [0, 2], "text": [TEXTS[0], TEXTS[2]], "score": [0.9, 0.8]})
    with pytest.raises(ValueError, match="ADS_esc50: no"):
        augmented_domain_specific(torch.tensor([[0.0, 1.0, 0.0, 0.0]]), ["w0"], ds, POOL, TEXTS, 0.5, task="esc50")
    monkeypatch.setattr(teacher, "QUANTILE_SAMPLE", 20)  # 10 of the 100 clips x 2 captions
    audio = torch.randn(100, 4, generator=torch.Generator().manual_seed(1))
    out = augmented_domain_specific(
        audio, [f"w{i}" for i in range(100)], ds, POOL, TEXTS, {"quantile": 0.5}, task="esc50", seed=3
    )
    a = torch.nn.functional.normalize(audio, dim=-1)
    expected = np.quantile(teacher._sample_cosines(a, POOL[[0, 2]], 3), 0.5)
    assert out.threshold == pytest.approx(float(expected), abs=1e-6)


def test_matching_reads_every_chunk_of_a_non_square_problem_and_its_refusals_count_rows(monkeypatch):
    """5 clips of width 4 against 2 captions, in chunks of 2 clips: the last chunk's clip is matched too, and
    every refusal names rows, not the embedding width. Catches loops and messages that read ``shape[1]``."""
    monkeypatch.setattr(teacher, "CHUNK", 2)
    audio = torch.tensor([[0.0, 1.0, 0, 0]] * 4 + [[1.0, 0, 0, 0]])  # only the last clip is the dog
    clips = [f"w{i}" for i in range(5)]
    captions, rows = POOL[[0, 2]], [0, 2]
    out = teacher.match_audio_to_captions(audio, clips, captions, rows, TEXTS, 0.9, name="DU")
    assert out.pairs["clip_id"].tolist() == ["w4"] and out.candidates == 10
    with pytest.raises(
        ValueError,
        match=r"DU: no \(clip, caption\) pair reaches the threshold 1.5000 \(highest "
        r"teacher cosine 1.0000 over 5 clips x 2 captions\)",
    ):
        teacher.match_audio_to_captions(audio, clips, captions, rows, TEXTS, 1.5, name="DU")
    with pytest.raises(ValueError, match="DU: 5 audio rows for 4 clips, 2 caption rows for 1 text rows"):
        teacher.match_audio_to_captions(audio, clips[:4], captions, rows[:1], TEXTS, 0.9, name="DU")
    with pytest.raises(ValueError, match=r"DU: nothing to match \(0 clips, 2 captions\)"):
        teacher.match_audio_to_captions(audio[:0], [], captions, rows, TEXTS, 0.9, name="DU")
    with pytest.raises(ValueError, match=r"DU: nothing to match \(5 clips, 0 captions\)"):
        teacher.match_audio_to_captions(audio, clips, captions[:0], [], TEXTS, 0.9, name="DU")


def test_du_names_itself_and_samples_its_quantile_with_the_given_seed(monkeypatch):
    with pytest.raises(ValueError, match="DU: no"):
        domain_unspecific(torch.tensor([[0.0, 0.0, 0.0, 1.0]]), ["w0"], _teacher_pairs().iloc[:2], POOL, TEXTS, 0.5)
    monkeypatch.setattr(teacher, "QUANTILE_SAMPLE", 40)  # 10 of the 100 clips x 4 captions
    audio = torch.randn(100, 4, generator=torch.Generator().manual_seed(1))
    out = domain_unspecific(
        audio, [f"w{i}" for i in range(100)], _teacher_pairs(), POOL, TEXTS, {"quantile": 0.5}, seed=3
    )
    expected = np.quantile(teacher._sample_cosines(torch.nn.functional.normalize(audio, dim=-1), POOL, 3), 0.5)
    assert out.threshold == pytest.approx(float(expected), abs=1e-6)


def test_subset_is_seeded_and_keeps_at_least_two_pairs():
    pairs = pd.DataFrame({"clip_id": [f"c{i}" for i in range(40)], "text_row": range(40)})
    a, b = subset_pairs(pairs, 0.1, seed=0), subset_pairs(pairs, 0.1, seed=0)
    assert len(a) == 4 and a.equals(b)
    assert not a.equals(subset_pairs(pairs, 0.1, seed=1))
    assert set(a["clip_id"]) <= set(pairs["clip_id"])
    assert len(subset_pairs(pairs.iloc[:5], 0.1)) == 2
    with pytest.raises(ValueError, match="fraction"):
        subset_pairs(pairs, 0.0)


def test_subset_bounds_draws_distinct_pairs_and_renumbers_rows():
    """fraction 1 keeps every pair, above 1 is refused; two pairs are the smallest list to subset, one is
    refused; a draw never repeats a pair; the subset's rows are numbered 0..n-1. Catches an open upper bound,
    a minimum of 3 pairs, a draw with replacement and the original row labels left on the subset."""
    pairs = pd.DataFrame({"clip_id": [f"c{i}" for i in range(10)], "text_row": range(10)})
    assert subset_pairs(pairs, 1.0).equals(pairs)
    with pytest.raises(ValueError, match="fraction"):
        subset_pairs(pairs, 1.5)
    assert len(subset_pairs(pairs.iloc[:2], 0.5)) == 2
    with pytest.raises(ValueError, match="subset of 1 pairs"):
        subset_pairs(pairs.iloc[:1], 0.5)
    for seed in range(5):
        sub = subset_pairs(pairs, 0.9, seed=seed)
        assert len(sub) == 9 and sub["clip_id"].is_unique
        assert sub.index.tolist() == list(range(9)) and "index" not in sub.columns


def test_in_the_wild_leaves_out_the_teachers_clips_once_each():
    assert in_the_wild(["a", "b", "a", "c", "d"], ["b", "d"]) == ["a", "c"]


def test_improvement_set_names_give_their_kind_and_task():
    assert improvement_set_kind("DU") == ("DU", None)
    assert improvement_set_kind("DS_esc50") == ("DS", "esc50")
    assert improvement_set_kind("ADS_us8k") == ("ADS", "us8k")
    for bad in ("DU_esc50", "DS", "ADS_", "XS_esc50", "DS_ESC50"):
        with pytest.raises(ValueError, match="unknown improvement set"):
            improvement_set_kind(bad)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="audio rows"):
        teacher.match_audio_to_captions(torch.ones(2, 4), ["a"], POOL, [0, 1, 2, 3], TEXTS, 0.5, name="DU")


def test_du_and_ads_keep_a_pair_exactly_at_the_threshold_and_drop_it_just_below():
    """The "cosine >= τ" rule at its boundary (catches ``>`` for ``>=`` or a threshold shifted by any
    amount): τ set to a pair's own cosine keeps it; the next float32 above drops it and nothing else."""
    audio = torch.tensor([[0.9, 0.4, 0.0, 0.0], [0.0, 0.3, 0.8, 0.1], [0.2, 0.1, 0.1, 0.9]])
    clips = ["a", "b", "c"]
    every = domain_unspecific(audio, clips, _teacher_pairs(), POOL, TEXTS, -1.0).pairs
    ds = _teacher_pairs().iloc[[2, 3]].assign(score=1.0)
    for curate in (
        lambda tau: domain_unspecific(audio, clips, _teacher_pairs(), POOL, TEXTS, tau),
        lambda tau: augmented_domain_specific(audio, clips, ds, POOL, TEXTS, tau, task="esc50"),
    ):
        target = every[every["text_row"] == 2]["score"].max()  # clip b with the engine caption: 0.8 / |b|
        kept = curate(float(target)).pairs
        assert ("b", 2) in set(zip(kept["clip_id"], kept["text_row"]))
        above = float(np.nextafter(np.float32(target), np.float32(2.0)))
        dropped = set(zip(kept["clip_id"], kept["text_row"])) - set(
            zip(*curate(above).pairs[["clip_id", "text_row"]].T.values)
        )
        assert dropped == {("b", 2)}


def test_ds_keeps_a_caption_exactly_at_the_threshold_and_drops_it_just_below():
    """DS's "caption-prompt cosine >= τ" at its boundary, both sides (catches ``>`` or a shifted τ)."""
    labels = torch.tensor([[0.95, 0.1, 0.0, 0.0], [0.0, 0.0, 0.8, 0.6]])
    every = domain_specific(_teacher_pairs(), POOL, labels, ["dog", "engine"], -1.0, task="esc50").pairs
    target = float(every.loc[every["clip_id"] == "t2", "score"].item())  # 0.8 in float32
    assert target == pytest.approx(0.8)
    assert domain_specific(_teacher_pairs(), POOL, labels, ["dog", "engine"], target, task="esc50").pairs[
        "clip_id"
    ].tolist() == ["t0", "t2"]
    above = float(np.nextafter(np.float32(target), np.float32(2.0)))
    assert domain_specific(_teacher_pairs(), POOL, labels, ["dog", "engine"], above, task="esc50").pairs[
        "clip_id"
    ].tolist() == ["t0"]
