import random

import pytest

from vipant.curation.free_captions import TrigramCaptionModel, generate_trigram

COCO = [
    "a red car parked on the street",
    "a dog sitting on the grass",
    "a red bus driving on the street",
    "a dog running on the beach",
    "a man riding a bike on the street",
]


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


class _FakeLM:
    """A stand-in causal LM: the 'caption' after a prompt is a word drawn (by the batch seed) from a
    vocabulary, plus a second line that must be ignored; counts its calls and can fail on a given call."""

    def __init__(self, fail_on_call: int | None = None):
        self.calls, self.fail_on_call, self.batches = 0, fail_on_call, []

    def __call__(self, prompts, batch_seed):
        import random

        self.calls += 1
        if self.calls == self.fail_on_call:
            raise RuntimeError("killed")
        self.batches.append(prompts)
        rng = random.Random(batch_seed)
        return [f"a {rng.choice(['red', 'blue', 'green'])} {rng.randrange(400)} thing\nnext line" for _ in prompts]


COCO = [f"a photo of object {i}" for i in range(40)]


def test_lm_captions_come_in_batches_of_primed_prompts_and_keep_first_lines(tmp_path):
    """Catches one prompt per call (the unbatched loop), prompts without the COCO shots, second lines kept
    and duplicates kept."""
    from vipant.curation.free_captions import generate_chunked

    lm = _FakeLM()
    out = generate_chunked(lm, COCO, 50, chunk_dir=tmp_path / "c", seed=3, shots=4, batch_size=8, chunk_size=20)
    assert len(out) == len(set(out)) == 50 and all("\n" not in c and c.startswith("a ") for c in out)
    assert {len(b) for b in lm.batches} == {8}
    assert all(
        p.endswith("\n") and len(p.strip().split("\n")) == 4 and set(p.strip().split("\n")) <= set(COCO)
        for b in lm.batches
        for p in b
    )
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [
        "chunk-00000.txt",
        "chunk-00001.txt",
        "chunk-00002.txt",
    ]


def test_a_killed_generation_resumes_from_its_chunks_to_the_same_captions(tmp_path):
    """A run killed after its first chunk, rerun, must not regenerate that chunk and must end with exactly
    the captions of an uninterrupted run. Catches chunks not written as they finish, a rerun that starts
    over, and prompts or sampling seeds that depend on how much was generated before the kill."""
    from vipant.curation.free_captions import generate_chunked

    kwargs = dict(seed=1, shots=3, batch_size=4, chunk_size=10)
    whole_lm = _FakeLM()
    whole = generate_chunked(whole_lm, COCO, 30, chunk_dir=tmp_path / "whole", **kwargs)
    first = _FakeLM()
    generate_chunked(first, COCO, 10, chunk_dir=tmp_path / "probe", **kwargs)  # calls one chunk takes
    killed = _FakeLM(fail_on_call=first.calls + 1)
    with pytest.raises(RuntimeError, match="killed"):
        generate_chunked(killed, COCO, 30, chunk_dir=tmp_path / "resumed", **kwargs)
    assert [p.name for p in (tmp_path / "resumed").iterdir()] == ["chunk-00000.txt"]
    again = _FakeLM()
    resumed = generate_chunked(again, COCO, 30, chunk_dir=tmp_path / "resumed", **kwargs)
    assert resumed == whole
    # the rerun makes exactly the calls of the chunks after the first, and none of the first chunk's
    assert again.calls == whole_lm.calls - first.calls and first.batches[0] not in again.batches
