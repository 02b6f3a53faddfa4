"""tools/probe_sources.py: the linear source probe behind the repetition probe and probe_init's feature probe."""

import importlib.util
from pathlib import Path

import numpy as np

_spec = importlib.util.spec_from_file_location(
    "probe_sources", Path(__file__).resolve().parents[2] / "tools" / "probe_sources.py"
)
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)


def _planted(n: int, sources: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Features that carry each clip's one source (plus noise), and its multi-hot labels."""
    src = rng.integers(sources, size=n)
    y = np.eye(sources, dtype=np.int64)[src]
    x = 3.0 * np.eye(sources)[src] + rng.normal(size=(n, sources)) + rng.normal(size=(n, 1))
    return x, y


def test_features_that_carry_the_source_score_near_the_top_and_misaligned_rows_score_chance():
    """Catches features read out of step with their labels (a misaligned pair) and a top-1 or chance level
    taken over the wrong axis."""
    rng = np.random.default_rng(0)
    x_train, y_train = _planted(400, 8, rng)
    x_test, y_test = _planted(200, 8, rng)
    aligned = probe.source_probe(x_train, y_train, x_test, y_test)
    shuffled = probe.source_probe(x_train[rng.permutation(len(x_train))], y_train, x_test, y_test)
    assert aligned["chance_top1"] == 100 / 8 and abs(aligned["chance_mAP"] - 100 / 8) < 4
    assert aligned["top1_precision"] > 80 and aligned["mAP"] > 80
    assert shuffled["top1_precision"] < 30 and shuffled["mAP"] < 30


def test_labels_are_the_sources_sounding_in_each_clip_segment():
    """Catches a clip id read with its segment suffix (``<ytid>_<start>``) instead of its video's truth."""
    truth = {"abc_x": {"labels": ["/m/1", "/m/3"]}, "def": {"labels": ["/m/2"]}}
    y = probe.labels(truth, ["abc_x_30", "def_0"], ["/m/1", "/m/2", "/m/3"])
    assert y.tolist() == [[1, 0, 1], [0, 1, 0]]


def test_cross_validated_probe_finds_planted_sources_and_never_scores_a_clip_it_was_fitted_on():
    """Catches a fold scored by classifiers fitted on it (leakage): 300-d pure noise for 200 clips is
    separable in-sample, so a leaky probe scores it far above chance, an honest one near chance."""
    rng = np.random.default_rng(1)
    x, y = _planted(300, 8, rng)
    assert probe.cross_validated_probe(x, y)["mAP"] > 80
    noise = probe.cross_validated_probe(rng.normal(size=(200, 300)), y[:200])
    assert noise["mAP"] < 25 and noise["top1_precision"] < 25
