import numpy as np
import pandas as pd
import pytest

from vipant.embed.table import EmbeddingTable, save_table
from vipant.evaluate.pivotability import (
    aligned_triplets,
    chance_pivotability,
    pivotability_metrics,
    pivotability_per_clip,
    top_captions,
)


@pytest.fixture
def triplets():
    """3 clips, 5 gold captions each; every caption points at exactly one image, every image at exactly 5.

    clip 0's captions all sit at image 0; clip 1's: 3 at image 1, 2 at image 2; clip 2's: 3 at image 2,
    2 at image 1. Audio ranks images 0,1,2 (clip 0), 2,1,0 (clip 1) and 0,2,1 (clip 2).
    """
    rng = np.random.default_rng(0)
    e = np.eye(8)
    images = e[:3]
    caption_clip = np.repeat([0, 1, 2], 5)
    aligned_to = np.array([0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 1, 1])
    captions = e[aligned_to] + 0.01 * np.abs(rng.standard_normal((15, 8))) * (np.arange(8) >= 3)
    audio = np.stack([e[0] + 0.5 * e[1] + 0.25 * e[2], e[2] + 0.5 * e[1], e[0] + 0.5 * e[2] + 0.25 * e[1]])
    return audio, images, captions, caption_clip


def test_each_image_retrieves_the_captions_that_point_at_it(triplets):
    _, images, captions, _ = triplets
    top = top_captions(images, captions, 5)
    assert [sorted(row) for row in top.tolist()] == [[0, 1, 2, 3, 4], [5, 6, 7, 13, 14], [8, 9, 10, 11, 12]]


def test_pivotability_per_clip_matches_the_hand_computed_answer(triplets):
    per_clip = pivotability_per_clip(*triplets, ks=[1, 2, 3])
    expected = np.array([[1.0, 1.0, 1.0], [0.4, 1.0, 1.0], [0.0, 0.6, 1.0]])
    assert np.allclose(per_clip, expected)


def test_excluding_the_own_frame_removes_it_from_the_candidates(triplets):
    per_clip = pivotability_per_clip(*triplets, ks=[1, 2], exclude_own_image=True)
    assert np.allclose(per_clip, [[0.0, 0.0], [0.4, 0.4], [0.0, 0.4]])


def test_chance_is_k_over_n_when_each_gold_caption_has_one_image(triplets):
    _, images, captions, caption_clip = triplets
    assert np.allclose(chance_pivotability(images, captions, caption_clip, [1, 2, 3]), [1 / 3, 2 / 3, 1.0])
    # without the own frame, 2 candidates; clip 0's captions are reachable only through its own frame
    expected_k1 = np.mean([0.0, (2 * 0.5 + 3 * 0.0) / 5 + 0.0, 0.0 + (2 * 0.5) / 5])
    got = chance_pivotability(images, captions, caption_clip, [1], exclude_own_image=True)
    assert got[0] == pytest.approx(expected_k1)


def test_metrics_report_the_curve_the_pivotable_share_and_chance(triplets):
    audio, images, captions, caption_clip = triplets
    metrics, chance = pivotability_metrics(audio, images, captions, caption_clip, ks=[1, 2, 3])
    assert metrics["pivotability@1"] == pytest.approx(1.4 / 3)
    assert metrics["pivotability@2"] == pytest.approx(2.6 / 3)
    assert metrics["pivotability@3"] == pytest.approx(1.0)
    assert metrics["pivotability_other_images@2"] == pytest.approx(0.8 / 3)
    assert "pivotability_other_images@3" not in metrics  # only 2 other images exist
    assert chance["pivotability@2"] == pytest.approx(2 / 3)
    assert metrics["n_clips"] == 3 and metrics["n_captions"] == 15
    assert "pivotable_share@5" not in metrics  # k = 5 not asked for (and impossible with 3 images)


def test_a_caption_found_through_several_images_counts_once():
    rng = np.random.default_rng(1)
    n, d = 12, 6
    audio, images = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    captions = rng.standard_normal((5 * n, d))
    owner = np.repeat(np.arange(n), 5)
    per_clip = pivotability_per_clip(audio, images, captions, owner, ks=list(range(1, n + 1)))
    assert (per_clip <= 1.0).all() and (np.diff(per_clip, axis=1) >= 0).all()
    # with every image retrieved, a gold caption is found iff some image has it among its top 5
    reachable = np.zeros(5 * n, dtype=bool)
    reachable[top_captions(images, captions, 5).ravel()] = True
    assert np.allclose(per_clip[:, -1], [reachable[owner == i].mean() for i in range(n)])


def test_pivotable_share_counts_clips_with_at_least_three_of_five_captions():
    rng = np.random.default_rng(2)
    n, d = 8, 5
    images = rng.standard_normal((n, d))
    owner = np.repeat(np.arange(n), 5)
    captions = np.repeat(images, 5, axis=0) + 0.01 * rng.standard_normal((5 * n, d))  # each image finds its own 5
    metrics, _ = pivotability_metrics(images, images, captions, owner, ks=[1, 5])
    assert metrics["pivotability@1"] == pytest.approx(1.0)
    assert metrics["pivotable_share@5"] == pytest.approx(1.0)


def test_bad_inputs_are_errors(triplets):
    audio, images, captions, caption_clip = triplets
    with pytest.raises(ValueError, match="row-aligned"):
        pivotability_per_clip(audio[:2], images, captions, caption_clip, ks=[1])
    with pytest.raises(ValueError, match="exceeds the 3 candidate images"):
        pivotability_per_clip(audio, images, captions, caption_clip, ks=[4])
    with pytest.raises(ValueError, match="no gold caption"):
        pivotability_per_clip(audio, images, captions[:10], caption_clip[:10], ks=[1])


def test_pivotable_means_three_of_five_captions_found_and_two_is_not_enough():
    """Appendix F's rule at its boundary on both sides (catches a changed PIVOTABLE_AT, or ``>`` for
    ``>=``): with one caption per image (``n_captions=1``), clip 0 reaches 3 of its 5 gold captions through
    its 5 nearest images (pivotable), clip 1 reaches 2 (not). Images are orthonormal; each image's top
    caption is the one lying on it, every other caption is orthogonal to all images."""
    n, dim = 10, 60
    e = np.eye(dim)
    images = e[:n]
    host = {0: 0, 1: 0, 2: 0, 5: 1, 6: 1, 3: 2, 4: 3, 7: 4, 8: 5, 9: 6}  # image -> the clip whose caption lies on it
    owner = np.repeat(np.arange(n), 5)
    captions = np.zeros((5 * n, dim))
    free = iter(range(n, dim))
    used = {c: 0 for c in range(n)}
    for image, clip in sorted(host.items()):
        captions[5 * clip + used[clip]] = e[image]
        used[clip] += 1
    for clip in range(n):
        for slot in range(used[clip], 5):
            captions[5 * clip + slot] = e[next(free)]
    audio = np.zeros((n, dim))  # clips 2..9: zero audio, every image tied (index order)
    audio[0] = 5 * e[0] + 4 * e[1] + 3 * e[2] + 2 * e[3] + e[4]  # nearest images 0..4: hosts of 3 of its captions
    audio[1] = 5 * e[5] + 4 * e[6] + 3 * e[7] + 2 * e[8] + e[9]  # nearest images 5..9: hosts of 2 of its captions
    per_clip = pivotability_per_clip(audio, images, captions, owner, ks=[5], n_captions=1)[:, 0]
    assert per_clip.tolist() == pytest.approx([0.6, 0.4, 0.2, 0.2, 0, 0, 0, 0, 0, 0])
    metrics, _ = pivotability_metrics(audio, images, captions, owner, ks=[5], n_captions=1)
    assert metrics["pivotable_share@5"] == pytest.approx(0.1)  # clip 0 only


def _table(tmp_path, name, keys, array):
    save_table(tmp_path / name, pd.DataFrame(keys), np.asarray(array, dtype=np.float32))
    return EmbeddingTable.load(tmp_path / name)


def test_triplets_keep_clips_with_audio_frames_and_captions_row_aligned(tmp_path):
    rng = np.random.default_rng(0)
    frames = _table(tmp_path, "frames", {"clip_id": ["c", "a", "b"]}, rng.standard_normal((3, 4, 6)))
    audio = _table(tmp_path, "audio", {"clip_id": ["a", "c"]}, rng.standard_normal((2, 6)))  # b has no audio
    captions = _table(
        tmp_path, "caps", {"clip_id": ["a", "a", "b", "c", "c"], "text": list("vwxyz")}, rng.standard_normal((5, 6))
    )
    ids, sound, image, rows, owner = aligned_triplets(audio, frames, captions, eval_frame=1)
    assert ids == ["a", "c"]
    assert np.allclose(sound.numpy(), audio.tensor().numpy())
    assert np.allclose(image.numpy(), frames.tensor([1, 0])[:, 1].numpy())  # each clip's 2nd frame
    assert rows.tolist() == [0, 1, 3, 4] and owner.tolist() == [0, 0, 1, 1]
    ids, sound, image, _, _ = aligned_triplets("frames", frames, captions, eval_frame=1)  # OracleAV-CLIP
    assert ids == ["a", "b", "c"] and np.allclose(sound.numpy(), image.numpy())
