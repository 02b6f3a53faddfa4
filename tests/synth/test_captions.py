from vipant.synth.captions import article, audio_caption, vision_caption, web_caption
from vipant.synth.seeding import rng_for
from vipant.synth.sources import SCENE_BY_LABEL, source


def _mentions(text: str, name: str) -> int:
    """Position of the first phrase of source ``name`` in ``text`` (-1 when absent)."""
    src = source(name)
    hits = [text.lower().find(p.split()[-1] if " " not in p else p.split()[1]) for p in src.clauses + src.gerunds]
    hits = [h for h in hits if h >= 0]
    return min(hits) if hits else -1


def test_audio_caption_describes_events_in_onset_order():
    rng = rng_for(0, "cap")
    for _ in range(20):
        text = audio_caption([("Siren", 5.0, 8.0), ("Dog", 0.5, 2.0)], rng)
        assert text[0].isupper() and not text.endswith(".")
        assert 0 <= _mentions(text, "Dog") < _mentions(text, "Siren"), text
    clotho = audio_caption([("Rain", 0.0, 9.0)], rng, style="clotho", scene=SCENE_BY_LABEL["beach"])
    assert clotho.endswith(".") and "rain" in clotho.lower()


def test_overlapping_events_use_simultaneous_connectives():
    rng = rng_for(1, "cap")
    texts = {audio_caption([("Dog", 0.0, 5.0), ("Rain", 1.0, 9.0)], rng) for _ in range(30)}
    assert any(" while " in t or " in the background" in t or " at the same time" in t or " as " in t for t in texts)
    assert not any(" then " in t or "followed by" in t for t in texts)


def test_vision_and_web_captions():
    rng = rng_for(2, "cap")
    objects = [("Dog", (0, 0, 50, 50)), ("Engine", (200, 0, 250, 50))]
    for _ in range(10):
        text = vision_caption(objects, SCENE_BY_LABEL["park"], rng)
        assert text.endswith(".") and "dog" in text and "car" in text and source("Dog").colour in text
    webs = [web_caption(objects, SCENE_BY_LABEL["park"], rng) for _ in range(40)]
    assert any("barking" in w or "barks" in w for w in webs) and any("dog" in w for w in webs)
    assert article("apple") == "an" and article("dog") == "a"
