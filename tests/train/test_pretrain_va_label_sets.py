import pytest
import torch

from vipant.train.pretrain_va import label_set_retrieval

A, B, C = frozenset({"/m/a"}), frozenset({"/m/b"}), frozenset({"/m/a", "/m/b"})


def test_precision_and_recall_count_clips_with_the_same_label_set():
    labels = [A, A, B, C]
    # query 0 ranks 1 (same set) first, query 1 ranks 2 (other set) first, queries 2 and 3 their own clip
    sim = torch.tensor([[0.5, 0.9, 0.1, 0.0], [0.2, 0.1, 0.9, 0.0], [0.0, 0.0, 1.0, 0.5], [0.0, 0.0, 0.5, 1.0]])
    m = label_set_retrieval(sim, labels, ks=(1, 2))
    assert m["val_i2a_labelset_P@1"] == pytest.approx(75.0)
    # top-2 hits: q0 {1,0}=2, q1 {2,0}=1, q2 {2,3}=1, q3 {3,2}=1 -> precision (1 + .5 + .5 + .5)/4
    assert m["val_i2a_labelset_P@2"] == pytest.approx(62.5)
    # recall: relevant counts 2, 2, 1, 1 -> (1 + .5 + 1 + 1)/4
    assert m["val_i2a_labelset_R@2"] == pytest.approx(87.5)
    assert m["val_i2a_labelset_chance_P@1"] == pytest.approx(100 * (2 + 2 + 1 + 1) / 16)
    assert m["val_i2a_labelset_chance_R@2"] == pytest.approx(50.0)


def test_ties_count_against_the_model_and_k_beyond_n_is_skipped():
    labels = [A, B, C]
    m = label_set_retrieval(torch.zeros(3, 3), labels, ks=(1, 5))
    assert m["val_i2a_labelset_P@1"] == 0.0  # a constant similarity must not score
    assert "val_i2a_labelset_P@5" not in m
    with pytest.raises(ValueError, match="does not match"):
        label_set_retrieval(torch.zeros(2, 3), labels)


def test_k_equal_to_the_number_of_clips_is_reported():
    """k = n retrieves every clip: recall 100 %, precision the share of relevant clips. Catches ``k < n``
    dropping the whole-list cut-off that ``k <= n`` keeps."""
    labels = [A, A, B]
    m = label_set_retrieval(torch.eye(3), labels, ks=(3,))
    assert m["val_i2a_labelset_R@3"] == pytest.approx(100.0)
    assert m["val_i2a_labelset_P@3"] == pytest.approx(100 * (2 + 2 + 1) / 9)


def test_recall_at_is_a_percentage_of_queries():
    """Row 0's gold is its top candidate, row 1's is last: R@1 = 50 %, R@2 = 100 %."""
    from vipant.train.pretrain_va import recall_at

    sim = torch.tensor([[0.9, 0.1], [0.8, 0.2]])
    assert recall_at(sim, 1) == pytest.approx(50.0) and recall_at(sim, 2) == pytest.approx(100.0)
