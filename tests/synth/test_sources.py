from vipant.datasets.audioset import MID_RE
from vipant.synth.render import shape_mask
from vipant.synth.sources import (
    COLOURS,
    ESC10,
    SCENES,
    SHAPES,
    SOURCES,
    US8K_CLASSES,
    esc50_sources,
    source,
)


def test_catalogue_is_large_and_unique():
    assert len(SOURCES) >= 28
    assert len({s.name for s in SOURCES}) == len(SOURCES)
    assert len({s.mid for s in SOURCES}) == len(SOURCES)
    assert len({(s.shape, s.colour) for s in SOURCES}) == len(SOURCES)
    assert len({(s.shape, s.texture) for s in SOURCES}) == len(SOURCES)  # the textured world in grey
    # the flat world's shapes are those it always had: 6 sources to a shape, in catalogue order
    assert [s.shape for s in SOURCES] == [SHAPES[i % len(SHAPES)] for i in range(len(SOURCES))]
    assert all(MID_RE.fullmatch(s.mid) for s in SOURCES)
    assert {s.family for s in SOURCES} == {"harmonic", "bell", "noise", "clicks", "chirp", "fm"}
    for s in SOURCES:
        assert s.shape in SHAPES and s.colour in COLOURS
        assert s.clauses and s.gerunds and s.poses and s.noun
        assert s.esc50 == s.esc50.lower() and " " not in s.esc50
    assert any("," in s.name for s in SOURCES)  # display names that need CSV quoting


def test_scenes_and_class_lists():
    assert len(SCENES) >= 6 and len({s.label for s in SCENES}) == len(SCENES)
    for scene in SCENES:
        assert all(source(name) for name, _ in scene.sources)
    assert [c for c, _ in US8K_CLASSES][:3] == ["air_conditioner", "car_horn", "children_playing"]
    assert len(US8K_CLASSES) == 10
    esc = esc50_sources(50)
    assert len(esc) == min(50, len(SOURCES))
    assert ESC10 <= {s.esc50 for s in esc}


def test_every_shape_draws():
    areas = {shape: shape_mask(shape, 60).mean() for shape in SHAPES}
    assert all(0.3 < a < 0.95 for a in areas.values()), areas
