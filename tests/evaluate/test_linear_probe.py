import numpy as np
import pytest

from vipant.evaluate.linear_probe import (
    ProbeConfig,
    classification_probe,
    cross_validated_accuracy,
    fit_linear_head,
    fold_split,
    head_scores,
    multilabel_probe,
)
from vipant.evaluate.metrics import expected_random_ap

FAST = ProbeConfig(epochs=30, batch_size=100, lr=0.03, weight_decay=0.0, seed=0)


def clustered(n_classes=5, per_class_per_fold=4, n_folds=5, dim=16, spread=0.1, seed=0):
    """Well-separated Gaussian clusters, every class present in every fold."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_classes, dim)) * 3
    labels = np.repeat(np.arange(n_classes), per_class_per_fold * n_folds)
    folds = np.tile(np.repeat(np.arange(1, n_folds + 1), per_class_per_fold), n_classes)
    x = centres[labels] + spread * rng.standard_normal((len(labels), dim))
    ids = [f"clip{i:03d}" for i in range(len(labels))]
    return x.astype(np.float32), labels, folds, ids


def test_separable_classes_reach_full_accuracy_on_every_fold():
    x, y, folds, ids = clustered()
    metrics, chance = classification_probe(x, y, folds, ids, 5, FAST)
    assert metrics["acc"] == pytest.approx(100.0)
    assert metrics["acc_std"] == pytest.approx(0.0)
    assert metrics["n_folds"] == 5 and {f"acc_fold{f}" for f in range(1, 6)} <= set(metrics)
    assert chance == {"acc": 20.0}


def test_random_labels_stay_near_chance_so_no_test_clip_is_trained_on():
    # With more dimensions than clips the head memorises whatever it is trained on (100 % on its own
    # training data), so labels drawn independently of the features are predicted above chance only if
    # test clips leaked into training.
    rng = np.random.default_rng(1)
    x = rng.standard_normal((200, 256)).astype(np.float32)
    y = rng.integers(0, 4, 200)
    folds = np.repeat(np.arange(1, 11), 20)
    cfg = ProbeConfig(epochs=40, batch_size=200, lr=0.1, weight_decay=0.0)
    memorised = fit_linear_head(x, y, 4, multilabel=False, cfg=cfg)
    assert (head_scores(memorised, x).argmax(axis=1) == y).mean() == 1.0
    res = cross_validated_accuracy(x, y, folds, [f"c{i}" for i in range(200)], 4, cfg)
    assert res["acc"] < 40.0  # chance is 25 %
    assert res["n_folds"] == 10


def test_fold_split_masks_are_disjoint_and_cover_every_clip():
    ids = [f"c{i}" for i in range(10)]
    folds = np.array([1, 2, 3, 1, 2, 3, 1, 2, 3, 1])
    for fold in (1, 2, 3):
        train, test = fold_split(ids, folds, fold)
        assert not (train & test).any() and (train | test).all()
        assert (folds[test] == fold).all() and (folds[train] != fold).all()


def test_a_clip_listed_in_two_folds_is_an_error():
    ids = ["a", "b", "c", "a"]
    with pytest.raises(ValueError, match="'a' is listed in fold 1 and in another fold"):
        fold_split(ids, np.array([1, 2, 2, 2]), 1)


def test_a_fold_without_training_clips_is_an_error():
    with pytest.raises(ValueError, match="empty training or test part"):
        fold_split(["a", "b"], np.array([1, 1]), 1)


def test_standardisation_uses_the_training_part_only():
    x, y, _, _ = clustered(n_classes=3, per_class_per_fold=2, n_folds=2)
    head = fit_linear_head(x, y, 3, multilabel=False, cfg=FAST)
    assert np.allclose(head.mean.numpy(), x.mean(axis=0), atol=1e-5)


def test_multilabel_probe_on_separable_tags_has_full_map_and_random_ranking_chance():
    rng = np.random.default_rng(2)
    n_tags, dim = 6, 24
    directions = rng.standard_normal((n_tags, dim)) * 2

    def sample(n):
        tags = (rng.random((n, n_tags)) < 0.3).astype(np.int8)
        tags[tags.sum(axis=1) == 0, 0] = 1
        return (tags @ directions + 0.05 * rng.standard_normal((n, dim))).astype(np.float32), tags

    x_train, t_train = sample(120)
    x_eval, t_eval = sample(60)
    metrics, chance = multilabel_probe(
        x_train, t_train, x_eval, t_eval, ProbeConfig(epochs=150, batch_size=120, lr=0.05, weight_decay=0.0)
    )
    assert metrics["mAP"] > 99.0
    assert metrics["n_classes"] == n_tags and metrics["n_skipped_classes"] == 0
    expected = [expected_random_ap(len(t_eval), int(k)) for k in t_eval.sum(axis=0)]
    assert chance["mAP"] == pytest.approx(100 * np.mean(expected))
    assert chance["mAP"] > 100 * t_eval.mean(axis=0).mean()  # above the positive rate on 60 clips


def test_multilabel_probe_skips_classes_without_eval_positives():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 8)).astype(np.float32)
    t = np.zeros((40, 3), dtype=np.int8)
    t[:20, 0] = 1
    t[20:, 1] = 1  # class 2 never occurs
    metrics, _ = multilabel_probe(x, t, x, t, FAST)
    assert metrics["n_classes"] == 2 and metrics["n_skipped_classes"] == 1


def test_mismatched_inputs_are_errors():
    with pytest.raises(ValueError, match="class indices"):
        fit_linear_head(np.zeros((3, 2)), np.array([0, 1, 5]), 3, multilabel=False, cfg=FAST)
    with pytest.raises(ValueError, match="multi-label targets"):
        fit_linear_head(np.zeros((3, 2)), np.zeros((3, 4)), 3, multilabel=True, cfg=FAST)
    with pytest.raises(ValueError, match="unknown probe settings"):
        ProbeConfig.from_dict({"epochs": 1, "lr_weights": 1.0})
