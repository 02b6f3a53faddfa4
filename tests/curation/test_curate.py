import numpy as np
import pandas as pd

from vipant.curation.curate import gold_captions, gold_labels, random_captions, retrieval_curation
from vipant.embed.table import EmbeddingTable, save_table


def _table(tmp_path, name, keys, array):
    save_table(tmp_path / name, keys, np.asarray(array, dtype=np.float32))
    return EmbeddingTable.load(tmp_path / name)


def test_retrieval_pairs_each_clip_with_the_caption_nearest_its_middle_frame(tmp_path):
    eye = np.eye(4)
    # 3 clips x 4 frames; only the 2nd frame (index 1) decides
    frames = np.stack([np.stack([eye[3], eye[i], eye[3], eye[3]]) for i in range(3)])
    frames_t = _table(tmp_path, "frames", pd.DataFrame({"clip_id": ["c0", "c1", "c2"]}), frames)
    prompted = _table(
        tmp_path,
        "prompted",
        pd.DataFrame({"text": ["the sound of b", "the sound of a", "the sound of c"]}),
        [eye[1], eye[0], eye[2]],
    )
    pairs = retrieval_curation(frames_t, ["c2", "c0", "missing", "c1"], prompted, ["b", "a", "c"], chunk=2)
    assert pairs["clip_id"].tolist() == ["c2", "c0", "c1"]  # clips without frames are dropped, order kept
    assert pairs["text"].tolist() == ["c", "a", "b"]
    assert pairs["text_row"].tolist() == [2, 1, 0]
    assert np.allclose(pairs["score"], 1.0, atol=1e-3)


def test_random_captions_are_seeded_and_in_range():
    texts = [f"t{i}" for i in range(10)]
    a = random_captions(["x", "y", "z"], 10, texts, seed=1)
    b = random_captions(["x", "y", "z"], 10, texts, seed=1)
    assert a.equals(b) and a["text_row"].between(0, 9).all()
    assert (a["text"] == [texts[r] for r in a["text_row"]]).all()


def test_gold_captions_and_labels():
    train = pd.DataFrame({"clip_id": ["a", "a", "b"], "caption": ["dog barks", "a dog", "rain"]})
    pool = ["rain", "dog barks", "a dog"]
    gc = gold_captions(train, pool)
    assert gc["text_row"].tolist() == [1, 2, 0]
    gl = gold_labels(
        ["a", "b"], {"a": ["/m/dog", "/m/x"], "b": ["/m/rain"]}, {"/m/dog": 0, "/m/rain": 1}, ["Dog", "Rain"]
    )
    assert list(zip(gl["clip_id"], gl["text"])) == [("a", "Dog"), ("b", "Rain")]


def test_every_pair_list_has_the_columns_fine_tuning_reads():
    """Fine-tuning and the tables read ``clip_id, text_row, text, score`` from every curation; GL skips a clip
    without labels. Catches a renamed or missing column (a KeyError only when the AT job runs)."""
    columns = ["clip_id", "text_row", "text", "score"]
    train = pd.DataFrame({"clip_id": ["a", "b"], "caption": ["rain", "dog"]})
    gc = gold_captions(train, ["dog", "rain"])
    assert list(gc.columns) == columns
    assert gc["clip_id"].tolist() == ["a", "b"] and gc["text"].tolist() == ["rain", "dog"]
    assert gc["score"].isna().all()
    gl = gold_labels(
        ["a", "unlabelled", "b"], {"a": ["/m/dog"], "b": ["/m/rain"]}, {"/m/dog": 0, "/m/rain": 1}, ["Dog", "Rain"]
    )
    assert list(gl.columns) == columns
    assert gl["clip_id"].tolist() == ["a", "b"] and gl["text_row"].tolist() == [0, 1]
    assert list(random_captions(["a"], 2, ["x", "y"]).columns) == columns


def test_random_captions_are_varied_and_spread_over_the_pool():
    """RC is a lower bound only if its captions are random: catches every clip getting the same caption
    (one draw broadcast, or a reseeded generator per clip) and draws from a corner of the pool."""
    texts = [f"t{i}" for i in range(40)]
    clips = [f"c{i}" for i in range(400)]
    pairs = random_captions(clips, len(texts), texts, seed=0)
    counts = pairs["text_row"].value_counts()
    assert len(counts) == 40  # 400 uniform draws miss a given row with probability (39/40)^400 ~ 4e-5
    assert counts.max() <= 25  # 10 expected per row
    assert pairs["clip_id"].tolist() == clips
    other = random_captions(clips, len(texts), texts, seed=1)
    assert (other["text_row"] != pairs["text_row"]).mean() > 0.9
