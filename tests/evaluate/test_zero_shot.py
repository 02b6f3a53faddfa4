"""Prompts and the k-fold zero-shot protocol on toy embeddings."""

import numpy as np
import pytest

from vipant.evaluate.zero_shot import (
    PROMPT,
    class_prompts,
    classification_task_metrics,
    fold_accuracies,
    multilabel_task_metrics,
)


def test_class_prompts():
    assert PROMPT == "the sound of "
    assert class_prompts(["dog barking", "church_bells"], prompt=True) == [
        "the sound of dog barking",
        "the sound of church bells",
    ]
    assert class_prompts(["dog barking", "church_bells", " air_conditioner "], prompt=False) == [
        "dog barking",
        "church bells",
        "air conditioner",
    ]
    with pytest.raises(ValueError):
        class_prompts(["_"], prompt=True)


def _toy():
    classes = np.eye(2)
    # Clips 0, 2, 3 point at their class; clips 1 and 4 point at the other one.
    audio = np.array([[1.0, 0.0], [1.0, 0.2], [0.1, 1.0], [0.0, 1.0], [0.0, 1.0]])
    labels = np.array([0, 1, 1, 1, 0])
    folds = np.array([1, 1, 2, 2, 2])
    return audio, classes, labels, folds


def test_fold_accuracies_by_hand():
    audio, classes, labels, folds = _toy()
    r = fold_accuracies(audio, classes, labels, folds)
    assert r["fold1"] == pytest.approx(50.0) and r["fold2"] == pytest.approx(200 / 3)
    assert r["mean"] == pytest.approx((50 + 200 / 3) / 2)
    assert r["std"] == pytest.approx(abs(50 - 200 / 3) / np.sqrt(2))  # sample std of two folds
    assert r["pooled"] == pytest.approx(60.0)
    assert r["n"] == 5 and r["n_folds"] == 2


def test_classification_task_metrics_keys():
    audio, classes, labels, folds = _toy()
    metrics, chance = classification_task_metrics(audio, classes, classes[::-1], labels, folds)
    assert metrics["acc_prompt"] == pytest.approx((50 + 200 / 3) / 2)
    assert metrics["acc_noprompt"] == pytest.approx((50 + 100 / 3) / 2)  # swapped classes: the complement
    assert {"acc_prompt_fold1", "acc_prompt_fold2", "acc_prompt_std", "acc_prompt_pooled", "acc_noprompt_fold2"} <= set(
        metrics
    )
    # the fold accuracies 50 and 66.7: their sample std and the pooled accuracy over the 5 clips
    assert metrics["acc_prompt_std"] == pytest.approx(np.std([50, 200 / 3], ddof=1))
    assert metrics["acc_prompt_fold1"] == pytest.approx(50.0) and metrics["acc_prompt_pooled"] == pytest.approx(60.0)
    assert chance == {"acc": 50.0}
    pooled, _ = classification_task_metrics(audio, classes, classes, labels)
    assert pooled == {"acc_prompt": pytest.approx(60.0), "acc_noprompt": pytest.approx(60.0)}


def test_multilabel_task_metrics():
    classes = np.eye(2)
    audio = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    targets = np.array([[1, 0], [0, 1], [0, 1]])
    metrics, chance = multilabel_task_metrics(audio, classes, classes, targets)
    assert metrics["mAP_prompt"] == pytest.approx(100.0) and metrics["n_classes"] == 2
    # random rankings of 3 clips: one positive E[AP] = H3/3, two positives H3/3 + (1 - H3/3)/2
    h3 = (1 + 1 / 2 + 1 / 3) / 3
    assert chance["mAP"] == pytest.approx(100 * (h3 + h3 + (1 - h3) / 2) / 2)


def test_multilabel_task_metrics_count_the_classes_without_positives():
    """A class no clip carries is left out of the mAP and reported as skipped (AudioSet's eval set lacks some)."""
    classes = np.eye(3)
    audio = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    metrics, _ = multilabel_task_metrics(audio, classes, classes, np.array([[1, 0, 0], [0, 1, 0]]))
    assert metrics["n_classes"] == 2 and metrics["n_skipped_classes"] == 1


def test_prompt_and_no_prompt_embeddings_must_name_the_same_classes():
    with pytest.raises(ValueError, match="^prompt and no-prompt class embeddings differ in number of classes$"):
        classification_task_metrics(np.eye(2), np.eye(2), np.eye(3)[:, :2], np.array([0, 1]))


def test_one_fold_has_a_std_of_zero_and_fold_shapes_must_match():
    audio, classes, labels, _ = _toy()
    res = fold_accuracies(audio, classes, labels, np.zeros(len(labels), dtype=np.int64))
    assert res["std"] == 0.0 and res["n_folds"] == 1
    with pytest.raises(ValueError, match=r"^folds have shape \(2,\), expected \(5,\)$"):
        fold_accuracies(audio, classes, labels, np.zeros(2))
