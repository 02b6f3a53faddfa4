import random

import pytest

from vipant.curation.free_captions import TrigramCaptionModel, generate_trigram

COCO = ["a red car parked on the street", "a dog sitting on the grass", "a red bus driving on the street",
        "a dog running on the beach", "a man riding a bike on the street"]


def test_trigram_only_follows_seen_continuations():
    model = TrigramCaptionModel(COCO)
    words = model.sample(random.Random(0)).split()
    assert words and words[0] in {c.split()[0] for c in COCO}
    for a, b, c in zip(["<s>", "<s>"] + words, ["<s>"] + words, words):
        assert model.next[(a, b)][c] > 0


def test_generated_captions_are_new_distinct_and_seeded():
    out = generate_trigram(COCO, 5, seed=3)
    assert out == generate_trigram(COCO, 5, seed=3)
    assert len(set(out)) == len(out) and not set(out) & set(COCO)


def test_no_captions_is_an_error():
    with pytest.raises(ValueError):
        TrigramCaptionModel([])
