"""The textured world (``WorldConfig.textures``) reaches every renderer, and the VT's naming probe follows it.

A flag that one path forgot (the AudioSet videos, COCO, the VT corpus, or the naming probe drawing flat
objects for a VT trained on textured ones) would make the textured world a mix of two looks.
"""

import json
from dataclasses import replace

import numpy as np

from vipant.evaluate import vt_naming
from vipant.synth import audioset, coco, vt_corpus
from vipant.synth.config import WorldConfig
from vipant.synth.render import TEXTURE_FLOOR
from vipant.synth.sources import SOURCES
from vipant.train.pretrain_vt import corpus_textured


def test_every_renderer_of_a_textured_world_is_textured_and_a_flat_one_is_not(tmp_path):
    for textures in (False, True):
        cfg = replace(WorldConfig.tiny(), textures=textures)
        assert {c.textured for c in audioset.plan(cfg)} == {textures}
        assert {p.image.textured for p in vt_corpus.plan(cfg)} == {textures}
        assert {i.image.textured for i in coco.plan(cfg)} == {textures}
        meta = vt_corpus.metadata(vt_corpus.plan(cfg))
        (tmp_path / "style.json").write_text(meta["vt_corpus/style.json"])
        assert json.loads(meta["vt_corpus/style.json"]) == {"textured": textures}
        assert corpus_textured(tmp_path) is textures


def test_pattern_words_name_each_objects_own_pattern_beside_its_colour_and_change_nothing_else():
    """Catches a pattern named for the wrong object, and an option that shifts the world's random draws."""
    base = replace(WorldConfig.tiny(), textures=True)
    worded = replace(base, pattern_words=True)
    plain, named = vt_corpus.plan(base), vt_corpus.plan(worded)
    assert [p.image for p in plain] == [p.image for p in named]  # same images: the option only adds words
    with_colour = 0
    for p, q in zip(plain, named):
        for o in p.image.objects:
            src = next(s for s in SOURCES if s.name == o.source)
            coloured = f"{src.colour} {src.noun}"
            with_colour += coloured in p.title
            if coloured in p.title:
                assert f"{coloured} with {src.texture.phrase}" in q.title, (p.title, q.title)
        if all(s.colour not in p.title for s in SOURCES):
            assert p.title == q.title
    assert with_colour > 5
    coco_plain, coco_named = coco.plan(base), coco.plan(worded)
    assert [i.image for i in coco_plain] == [i.image for i in coco_named]
    assert any(" with fine " in c or " with broad " in c for i in coco_named for _, c in i.captions)


def test_pattern_phrases_tell_every_texture_apart():
    from vipant.synth.sources import TEXTURES

    assert len({t.phrase for t in TEXTURES}) == len(TEXTURES)


def test_pattern_words_need_the_textured_world():
    import pytest

    from vipant.synth.config import WorldConfigError

    with pytest.raises(WorldConfigError, match="pattern_words needs textures"):
        replace(WorldConfig.tiny(), pattern_words=True)


def test_a_corpus_without_a_style_file_is_flat(tmp_path):
    assert corpus_textured(tmp_path) is False


def _dark_share(images: np.ndarray, labels: np.ndarray) -> float:
    """Share of pixels within 20 of their object's dark shade (the texture's dark parts)."""
    shares = []
    for img, y in zip(images, labels):
        dark = TEXTURE_FLOOR * np.array(SOURCES[y].rgb, dtype=float)
        shares.append((np.abs(img.transpose(1, 2, 0).astype(float) - dark).max(axis=2) <= 20).mean())
    return float(np.mean(shares))


def test_naming_probe_draws_the_textured_look_only_when_asked():
    flat, labels = vt_naming.probe_images(128, per_source=1, seed=3)
    textured, labels_t = vt_naming.probe_images(128, per_source=1, seed=3, textured=True)
    assert np.array_equal(labels, labels_t)
    assert _dark_share(textured, labels) > 3 * _dark_share(flat, labels)
