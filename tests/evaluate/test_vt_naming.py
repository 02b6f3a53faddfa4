"""The VT naming probe: rendered single-object images and the naming / colour / shape rates."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from vipant.evaluate import vt_naming
from vipant.synth.sources import COLOURS, SOURCES


def test_probe_images_show_each_source_alone_in_its_colour():
    images, labels = vt_naming.probe_images(128, per_source=2, seed=3)
    assert images.shape == (2 * len(SOURCES), 3, 128, 128) and images.dtype == np.uint8
    assert Counter(labels.tolist()) == {i: 2 for i in range(len(SOURCES))}
    for img, y in zip(images, labels):
        rgb = np.array(COLOURS[SOURCES[y].colour])
        close = (
            np.abs(img.transpose(1, 2, 0).astype(int) - rgb).max(axis=2) <= 20
        )  # JPEG (chroma subsampling) tolerance
        assert close.sum() >= 20, f"{SOURCES[y].name}: its colour is not drawn"
    again, _ = vt_naming.probe_images(128, per_source=2, seed=3)
    assert np.array_equal(images, again)
    assert not np.array_equal(images, vt_naming.probe_images(128, per_source=2, seed=4)[0])


def _one_hot(keys: list[str]) -> np.ndarray:
    index = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    out = np.zeros((len(keys), len(index)))
    out[np.arange(len(keys)), [index[k] for k in keys]] = 1
    return out


def test_prompts_are_zero_shot_evaluations():
    assert vt_naming.prompts()[0] == f"the sound of {SOURCES[0].name}"
    assert len(vt_naming.prompts()) == len(SOURCES)


def test_a_perfect_namer_scores_100_everywhere():
    labels = np.arange(len(SOURCES)).repeat(2)
    text = np.eye(len(SOURCES))
    m = vt_naming.naming_metrics(text[labels] * 3.0, text, labels)  # unnormalised on purpose
    assert m["naming_top1"] == m["naming_same_colour"] == m["naming_same_shape"] == m["naming_same_texture"] == 100.0


def test_a_shape_only_namer_gets_the_shape_not_the_source():
    labels = np.arange(len(SOURCES))
    shape = _one_hot([s.shape for s in SOURCES])  # images and prompts seen through shape alone
    m = vt_naming.naming_metrics(shape[labels], shape, labels)
    assert m["naming_same_shape"] == 100.0
    # every source ties with the others of its shape, and a tie counts as wrong, as in zero-shot evaluation
    assert m["naming_top1"] == 0.0
    assert m["naming_same_colour"] < 100.0


def test_a_texture_only_namer_finds_the_texture_but_not_the_source():
    """Two sources share each texture: in grey, texture alone cannot name the source, only its pair."""
    labels = np.arange(len(SOURCES))
    texture = _one_hot([s.texture.name for s in SOURCES])
    m = vt_naming.naming_metrics(texture[labels], texture, labels)
    assert m["naming_same_texture"] == 100.0
    assert m["naming_top1"] == 0.0 and m["naming_same_shape"] < 100.0
    assert m["chance_naming_same_texture"] == pytest.approx(100 * 2 / len(SOURCES))


def test_a_colour_only_namer_names_every_source():
    """Each source has its own colour (synth.sources): colour alone is enough to name it."""
    labels = np.arange(len(SOURCES))
    colour = _one_hot([s.colour for s in SOURCES])
    m = vt_naming.naming_metrics(colour[labels], colour, labels)
    assert m["naming_top1"] == m["naming_same_colour"] == 100.0


def test_chance_levels_follow_the_catalogue():
    labels = np.zeros(1, dtype=int)
    m = vt_naming.naming_metrics(np.ones((1, 4)), np.random.default_rng(0).normal(size=(len(SOURCES), 4)), labels)
    n = len(SOURCES)
    assert m["chance_naming_top1"] == pytest.approx(100 / n)
    assert m["chance_naming_same_colour"] == pytest.approx(
        100 * sum(c * c for c in Counter(s.colour for s in SOURCES).values()) / n**2
    )
    assert m["chance_naming_same_shape"] == pytest.approx(
        100 * sum(c * c for c in Counter(s.shape for s in SOURCES).values()) / n**2
    )


def test_wrong_shapes_are_refused():
    with pytest.raises(ValueError, match="source prompts"):
        vt_naming.naming_metrics(np.ones((2, 4)), np.ones((3, 4)), np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match="labels"):
        vt_naming.naming_metrics(np.ones((2, 4)), np.ones((len(SOURCES), 4)), np.zeros(3, dtype=int))


def test_greyscale_sets_every_channel_to_the_rgb_mean():
    images, _ = vt_naming.probe_images(64, per_source=1)
    grey = vt_naming.greyscale(images)
    assert grey.shape == images.shape and grey.dtype == np.uint8
    assert np.array_equal(grey[:, 0], grey[:, 1]) and np.array_equal(grey[:, 1], grey[:, 2])
    expected = np.rint(images.astype(np.float32).mean(axis=1))
    assert np.array_equal(grey[:, 0], expected.astype(np.uint8))
    with pytest.raises(ValueError, match="N, 3, H, W"):
        vt_naming.greyscale(images[:, :1])
