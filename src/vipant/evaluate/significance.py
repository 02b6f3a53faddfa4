"""How far above chance a score is: a permutation test over the pairing of clips and their annotations.

A chance level (:mod:`vipant.evaluate.metrics`: ``chance_*``) is what a random ranking scores on average.
On small test sets (the synthetic preset's 46 AudioCaps clips, 80 US8K clips) a model beats it by a few
clips through luck alone, so a score "above chance" needs a measure of how far. This one shuffles which
clip's audio embedding goes with which clip's annotations (its captions, class, labels or frame) and
recomputes the metric: that keeps everything about the model's embeddings (their spread, hubs, a collapse
onto one direction) and breaks only the pairing that the metric is meant to measure.

The p-value is one-sided with the usual add-one correction, ``(1 + #{null >= observed}) / (1 + n)``, so it
is never 0 and its floor is ``1 / (1 + n)``. Only scores where higher is better get one (R@k, mAP, accuracy);
ranks, counts and spreads do not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import numpy as np

SCORE_KEY = re.compile(r"^(?:[a-z]2[a-z]_)?(?:R@\d+|mAP@\d+)$|^(?:acc|mAP)_(?:prompt|noprompt)(?:_pooled)?$")


def is_score(key: str) -> bool:
    """Whether ``key`` names a higher-is-better score that gets a p-value (``t2a_R@1``, ``acc_prompt``, ...)."""
    return SCORE_KEY.match(key) is not None


def permutation_p_values(
    score: Callable[[np.ndarray], Mapping[str, float]],
    n_rows: int,
    observed: Mapping[str, float],
    *,
    n_permutations: int,
    seed: int = 0,
) -> dict[str, float]:
    """One-sided permutation p-value of every score in ``observed``.

    ``score(order)`` must return the metrics computed with the audio side's rows taken in ``order`` (a
    permutation of ``range(n_rows)``) and everything else as it was; ``score(np.arange(n_rows))`` is the
    observed value. The permutations are drawn from ``seed``, so a re-run gives the same p-values.
    """
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be at least 1, got {n_permutations}")
    keys = [k for k in observed if is_score(k)]
    rng = np.random.default_rng(seed)
    at_least = dict.fromkeys(keys, 0)
    for _ in range(n_permutations):
        null = score(rng.permutation(n_rows))
        for k in keys:
            if null[k] >= observed[k] - 1e-9:  # the same arithmetic on the same values: ties are exact
                at_least[k] += 1
    return {k: (1 + at_least[k]) / (1 + n_permutations) for k in keys}
