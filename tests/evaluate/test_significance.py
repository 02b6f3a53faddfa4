import numpy as np
import pytest

from vipant.evaluate.metrics import audio_text_retrieval
from vipant.evaluate.significance import is_score, permutation_p_values


@pytest.mark.parametrize(
    "key",
    ["t2a_R@1", "a2t_R@10", "a2t_mAP@10", "a2i_R@5", "acc_prompt", "acc_noprompt_pooled", "mAP_prompt", "mAP_noprompt"],
)
def test_higher_is_better_scores_get_a_p_value(key):
    assert is_score(key)


@pytest.mark.parametrize(
    "key",
    ["t2a_medR", "a2t_meanR", "t2a_n_queries", "acc_prompt_std", "acc_prompt_fold3", "n_classes", "n_skipped_classes"],
)
def test_ranks_counts_and_spreads_do_not(key):
    assert not is_score(key)


def _captions(n_clips=12, per_clip=5, dim=32, seed=0):
    rng = np.random.default_rng(seed)
    audio = rng.standard_normal((n_clips, dim))
    owner = np.repeat(np.arange(n_clips), per_clip)
    text = audio[owner] + 0.1 * rng.standard_normal((len(owner), dim))
    return audio, text, owner


def test_a_model_that_finds_every_clip_gets_the_floor():
    audio, text, owner = _captions()
    observed = audio_text_retrieval(audio, text, owner)
    assert observed["t2a_R@1"] == 100.0
    p = permutation_p_values(
        lambda order: audio_text_retrieval(audio[order], text, owner), len(audio), observed, n_permutations=199
    )
    # no shuffle of 12 clips other than the identity finds every clip; the identity is 1 in 12! draws
    assert p["t2a_R@1"] == pytest.approx(1 / 200)
    assert p["a2t_R@1"] == pytest.approx(1 / 200)
    assert set(p) == {k for k in observed if is_score(k)}


def test_embeddings_that_ignore_the_pairing_are_never_significant():
    _, text, owner = _captions()
    audio = np.ones((12, 32))  # every clip the same: every shuffle scores exactly the same
    observed = audio_text_retrieval(audio, text, owner)
    p = permutation_p_values(
        lambda order: audio_text_retrieval(audio[order], text, owner), 12, observed, n_permutations=50
    )
    assert all(v == 1.0 for v in p.values())


def test_p_value_is_the_share_of_shuffles_scoring_at_least_as_well():
    # hit only when clip 0 keeps its own row: a shuffle does so with probability 1/3
    score = lambda order: {"acc_prompt": 100.0 if order[0] == 0 else 0.0}  # noqa: E731
    p = permutation_p_values(score, 3, {"acc_prompt": 100.0}, n_permutations=3000, seed=1)
    assert p["acc_prompt"] == pytest.approx(1 / 3, abs=0.03)
    # seeded: the same draws give the same p-value
    assert permutation_p_values(score, 3, {"acc_prompt": 100.0}, n_permutations=3000, seed=1) == p
    # a score of 0 is matched or beaten by every shuffle
    assert permutation_p_values(score, 3, {"acc_prompt": 0.0}, n_permutations=10)["acc_prompt"] == 1.0


def test_at_least_one_permutation():
    with pytest.raises(ValueError, match="at least 1"):
        permutation_p_values(lambda order: {}, 3, {"acc_prompt": 1.0}, n_permutations=0)
