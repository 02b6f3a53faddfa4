"""Hand-computed cases for the retrieval and classification metrics."""

import numpy as np
import pytest
import torch

from vipant.evaluate.metrics import (
    audio_text_chance,
    audio_text_retrieval,
    average_precision_per_class,
    chance_accuracy,
    chance_map,
    chance_retrieval,
    expected_random_ap,
    mean_average_precision,
    modality_retrieval,
    precision_recall_same_labels,
    retrieval_metrics,
    zero_shot_accuracy,
)


def test_perfect_ranking():
    m = retrieval_metrics(np.eye(4), np.arange(4))
    assert m["R@1"] == m["R@5"] == m["R@10"] == 100.0
    assert m["medR"] == 1.0 and m["meanR"] == 1.0
    assert m["mAP@10"] == 100.0
    assert m["n_queries"] == 4


def test_reversed_ranking_puts_gold_last():
    sim = np.tile(np.arange(10.0), (3, 1))  # candidate 9 scores highest, gold candidate 0 lowest
    m = retrieval_metrics(sim, [{0}, {0}, {0}])
    assert (m["R@1"], m["R@5"], m["R@10"]) == (0.0, 0.0, 100.0)
    assert m["medR"] == 10.0
    assert m["mAP@10"] == pytest.approx(10.0)  # precision 1/10 at rank 10, one gold


def test_five_captions_only_third_top_ranked():
    # Clip 0 owns captions 0-4, clip 1 owns 5-9. Only caption 2 of clip 0 points at clip 0's audio;
    # clip 0's other captions point away; clip 1's captions lie between.
    audio = np.array([[1.0, 0.0], [0.0, 1.0]])
    text = np.array([[-1.0, 0.0]] * 2 + [[1.0, 0.0]] + [[-1.0, 0.0]] * 2 + [[0.6, 0.8]] * 5)
    owner = np.array([0] * 5 + [1] * 5)
    m = audio_text_retrieval(audio, text, owner)
    # A->T clip 0: caption 2 (cos 1), clip 1's five (0.6), its own four (-1): gold at ranks 1, 7, 8, 9, 10.
    ap0 = (1 + 2 / 7 + 3 / 8 + 4 / 9 + 5 / 10) / 5
    assert m["a2t_R@1"] == 100.0 and m["a2t_medR"] == 1.0
    assert m["a2t_mAP@10"] == pytest.approx(100 * (ap0 + 1.0) / 2)
    assert m["a2t_n_queries"] == 2
    # T->A: clip 0's captions 0, 1, 3, 4 rank their clip 2nd (cos -1 vs 0); all others rank it 1st.
    assert m["t2a_R@1"] == pytest.approx(60.0)
    assert m["t2a_R@5"] == 100.0
    assert m["t2a_medR"] == 1.0 and m["t2a_meanR"] == pytest.approx(1.4)
    assert m["t2a_n_queries"] == 10


def test_embeddings_are_normalised_and_torch_accepted():
    audio = torch.tensor([[10.0, 0.0], [0.0, 0.1]])
    text = torch.tensor([[0.2, 0.0], [0.0, 5.0]])
    m = audio_text_retrieval(audio, text, torch.tensor([0, 1]))
    assert m["a2t_R@1"] == m["t2a_R@1"] == 100.0


def test_constant_similarity_is_not_perfect():
    m = retrieval_metrics(np.zeros((4, 4)), np.arange(4))
    assert m["R@1"] == 0.0
    assert m["medR"] == 4.0  # all three other candidates counted ahead
    # Two gold per query, six candidates: the four non-gold tied candidates go first -> rank 5.
    m2 = retrieval_metrics(np.ones((2, 6)), [{0, 1}, {2, 3}])
    assert m2["medR"] == 5.0 and m2["R@1"] == 0.0 and m2["R@5"] == 100.0
    assert m2["mAP@10"] == pytest.approx(100 * (1 / 5 + 2 / 6) / 2)


def test_partial_tie_counts_the_tied_candidate_ahead():
    m = retrieval_metrics(np.array([[1.0, 1.0, 0.0]]), [{1}])
    assert m["medR"] == 2.0
    m = retrieval_metrics(np.array([[1.0, 1.0, 0.0]]), [{0}])
    assert m["medR"] == 2.0


def test_map_at_10_by_hand():
    sim = -np.arange(12.0)[None, :]  # candidate i at rank i + 1
    m = retrieval_metrics(sim, [{1, 4, 11}])
    # Gold at ranks 2, 5 (and 12, beyond the cut-off): (1/2 + 2/5) / min(3, 10).
    assert m["mAP@10"] == pytest.approx(100 * (0.5 + 0.4) / 3)
    assert m["R@1"] == 0.0 and m["R@5"] == 100.0 and m["medR"] == 2.0
    # Eleven gold in the top 11: normalised by min(11, 10) -> perfect.
    assert retrieval_metrics(sim, [set(range(11))])["mAP@10"] == pytest.approx(100.0)


def test_gold_forms_agree_and_bad_input_raises():
    sim = np.random.default_rng(0).normal(size=(3, 5))
    mask = np.zeros((3, 5), dtype=bool)
    mask[[0, 1, 2], [4, 0, 2]] = True
    assert (
        retrieval_metrics(sim, mask)
        == retrieval_metrics(sim, np.array([4, 0, 2]))
        == retrieval_metrics(sim, [{4}, {0}, {2}])
    )
    with pytest.raises(ValueError, match="no gold"):
        retrieval_metrics(sim, [{1}, set(), {2}])
    with pytest.raises(ValueError, match="out of range"):
        retrieval_metrics(sim, [{5}, {0}, {1}])
    with pytest.raises(ValueError, match="NaN"):
        retrieval_metrics(np.full((3, 5), np.nan), np.array([0, 0, 0]))


def test_chance_retrieval():
    assert chance_retrieval(10, 1, 1) == pytest.approx(10.0)
    assert chance_retrieval(10, 5, 1) == pytest.approx(50.0)
    assert chance_retrieval(4, 2, 2) == pytest.approx(100 * (1 - 1 / 6))  # 1 - C(2,2)/C(4,2)
    assert chance_retrieval(10, 3, 8) == 100.0
    c = audio_text_chance(np.array([0] * 5 + [1] * 5), n_clips=2, ks=(1,))
    assert c == {"a2t_R@1": pytest.approx(50.0), "t2a_R@1": pytest.approx(50.0)}


def test_zero_shot_accuracy_three_classes():
    classes = np.eye(3)
    audio = np.array([[1.0, 0.1, 0.0], [0.0, 1.0, 0.0], [0.2, 0.0, 1.0], [1.0, 0.0, 0.0]])
    assert zero_shot_accuracy(audio, classes, [0, 1, 2, 1]) == pytest.approx(75.0)
    # A tie between the true class and another is not a correct prediction.
    assert zero_shot_accuracy(np.array([[1.0, 1.0, 0.0]]), classes, [0]) == 0.0
    assert chance_accuracy(4) == 25.0


def test_average_precision_by_hand():
    ap = average_precision_per_class(np.array([[0.9], [0.8], [0.7], [0.6]]), np.array([[1], [0], [1], [0]]))
    assert ap[0] == pytest.approx((1 + 2 / 3) / 2)


def test_map_matches_sklearn_with_ties_and_skips_empty_classes():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    scores = np.round(rng.normal(size=(60, 6)), 1)  # rounding creates ties
    targets = (rng.random((60, 6)) < 0.3).astype(int)
    targets[:, 3] = 0
    ap = average_precision_per_class(scores, targets)
    for c in range(6):
        if c == 3:
            assert np.isnan(ap[c])
        else:
            assert ap[c] == pytest.approx(sklearn_metrics.average_precision_score(targets[:, c], scores[:, c]))
    m = mean_average_precision(scores, targets)
    assert m["n_classes"] == 5 and m["n_skipped_classes"] == 1
    assert m["mAP"] == pytest.approx(100 * np.mean([ap[c] for c in range(6) if c != 3]))
    # 4 clips; class 0 has 2 positives, class 1 has 1: E[AP] = H4/4 + 1/3 (1 - H4/4) and H4/4
    h4 = (1 + 1 / 2 + 1 / 3 + 1 / 4) / 4
    assert chance_map(np.array([[1, 0], [0, 0], [0, 0], [1, 1]])) == pytest.approx(100 * (h4 + (1 - h4) / 3 + h4) / 2)


def test_expected_random_ap_by_enumeration_and_simulation():
    # n = 3, k = 2: positives at ranks {1,2} AP 1, {1,3} (1 + 2/3)/2, {2,3} (1/2 + 2/3)/2
    assert expected_random_ap(3, 2) == pytest.approx((1 + 5 / 6 + 7 / 12) / 3)
    assert expected_random_ap(3, 1) == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
    assert expected_random_ap(5, 5) == pytest.approx(1.0) and expected_random_ap(1, 1) == 1.0
    # one positive among 75 clips (the demo's AudioSet eval): far above the positive rate of 1.3 %
    assert expected_random_ap(75, 1) == pytest.approx(0.0652, abs=1e-3)
    rng = np.random.default_rng(0)
    targets = np.zeros((40, 3), dtype=np.int8)
    targets[:1, 0], targets[:4, 1], targets[:20, 2] = 1, 1, 1
    simulated = np.mean([mean_average_precision(rng.random((40, 3)), targets)["mAP"] for _ in range(3000)])
    assert chance_map(targets) == pytest.approx(simulated, abs=0.5)
    with pytest.raises(ValueError):
        expected_random_ap(3, 0)


def test_modality_retrieval_keys_and_values():
    a = np.eye(3)
    b = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])  # items 1 and 2 swapped
    m = modality_retrieval(a, b)
    assert m["a2i_R@1"] == pytest.approx(100 / 3) and m["i2a_R@1"] == pytest.approx(100 / 3)
    assert m["a2i_R@5"] == 100.0 and "i2a_R@5" in m and "a2i_R@10" not in m


def test_precision_recall_same_labels():
    queries = [{"a"}, {"b"}]
    cands = [["a"], ["b", "a"], ["a"], ["b"]]  # candidate 1's set {a, b} matches neither query
    sim = np.array([[0.9, 0.8, 0.1, 0.5], [0.0, 0.0, 0.0, 1.0]])
    m = precision_recall_same_labels(queries, cands, sim, k=[1, 2])
    # Query 0: ranking 0, 1, 3, 2; relevant 0 and 2. Query 1: 3 first; relevant only 3.
    assert m["precision@1"] == 100.0 and m["recall@1"] == pytest.approx(100 * (0.5 + 1.0) / 2)
    assert m["precision@2"] == pytest.approx(50.0) and m["recall@2"] == pytest.approx(75.0)
    assert m["n_queries"] == 2 and m["n_no_relevant"] == 0
    assert precision_recall_same_labels([{"a", "b"}], [["b", "a"], ["a"]], np.zeros((1, 2)), 1)["precision@1"] == 0.0


def test_precision_recall_leaves_queries_without_a_relevant_candidate_out_of_recall():
    """Query 1's label set matches no candidate: it counts in precision (0 found) and in ``n_no_relevant``, never
    in recall. Catches recall averaged over every query (0/0 = NaN) and a count of such queries that stays 0."""
    sim = np.array([[1.0, 0.0], [1.0, 0.0]])
    m = precision_recall_same_labels([{"a"}, {"z"}], [["a"], ["b"]], sim, k=1)
    assert m["precision@1"] == pytest.approx(50.0)
    assert m["recall@1"] == pytest.approx(100.0)
    assert m["n_no_relevant"] == 1


def test_precision_recall_refusals_say_what_is_wrong():
    with pytest.raises(ValueError, match="1 queries x 2 candidates"):
        precision_recall_same_labels([{"a"}], [["a"], ["b"]], np.zeros((2, 2)), 1)
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        precision_recall_same_labels([{"a"}], [["a"]], np.zeros((1, 1)), [1, 0])


def test_chance_retrieval_needs_a_caption_for_every_clip_and_accepts_one_each():
    """One caption per clip is the common case (T→A with one gold); a last clip without captions is found
    although ``bincount`` alone would not count it. The refusal counts the clips without captions."""
    one_each = audio_text_chance(np.array([1, 0, 2]), n_clips=3, ks=(1,))
    assert one_each["a2t_R@1"] == pytest.approx(100 / 3) and one_each["t2a_R@1"] == pytest.approx(100 / 3)
    with pytest.raises(ValueError, match="^1 clips have no caption$"):
        audio_text_chance(np.array([0, 0, 1]), n_clips=3)


def test_audio_text_retrieval_passes_its_ks_on_and_checks_caption_owners():
    """The requested cut-offs reach both directions; an owner index of -1 or of n_clips is refused (either alone
    is enough), and the refusals say what is wrong."""
    audio, text = np.eye(3), np.eye(3)
    m = audio_text_retrieval(audio, text, np.array([0, 1, 2]), ks=(2,))
    assert {"a2t_R@2", "t2a_R@2"} <= set(m) and "a2t_R@1" not in m and "t2a_R@1" not in m
    for bad in ([0, 1, 3], [-1, 1, 2]):
        with pytest.raises(ValueError, match=r"^caption_clip index out of range 0\.\.2$"):
            audio_text_retrieval(audio, text, np.array(bad))
    with pytest.raises(ValueError, match=r"^caption_clip has shape \(2,\), expected \(3,\)$"):
        audio_text_retrieval(audio, text, np.array([0, 1]))


def test_paired_retrieval_refuses_unequal_counts():
    with pytest.raises(ValueError, match=r"^paired retrieval needs equal counts, got \(3, 2\)$"):
        modality_retrieval(np.eye(3), np.eye(3)[:2])
    m = modality_retrieval(np.eye(3), np.eye(3), ks=(2,))  # both directions take the requested cut-offs
    assert {"a2i_R@2", "i2a_R@2"} <= set(m) and "a2i_R@1" not in m and "i2a_R@1" not in m
