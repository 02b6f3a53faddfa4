import numpy as np
import pytest

from vipant.synth.render import (
    TEXTURE_FLOOR,
    DrawnObject,
    ImageSpec,
    appearance,
    background,
    draw_objects,
    frames_bytes,
    place_boxes,
    render_frame,
    render_image,
    shape_mask,
    texture_pattern,
)
from vipant.synth.seeding import rng_for
from vipant.synth.sources import SCENES, SOURCES, TEXTURES, Texture, source


def _shades(rgb) -> np.ndarray:
    """The two colours an object of colour ``rgb`` is drawn in (its texture's dark and light parts)."""
    rgb = np.asarray(rgb, dtype=float)
    return np.stack([TEXTURE_FLOOR * rgb, rgb])


def _near_shades(pixels: np.ndarray, rgb, tol: float) -> np.ndarray:
    """Per pixel: whether it is within ``tol`` of one of ``rgb``'s two shades."""
    d = np.abs(pixels[:, None, :].astype(float) - _shades(rgb)[None]).max(axis=2)
    return d.min(axis=1) < tol


def test_background_is_scene_gradient_with_mild_noise():
    bg = background(320, 240, SCENES[0], rng_for(0, "bg"))
    assert bg.shape == (240, 320, 3) and bg.dtype == np.uint8
    top, bottom = bg[:10].reshape(-1, 3).mean(0), bg[-10:].reshape(-1, 3).mean(0)
    assert np.abs(top - np.array(SCENES[0].top)).max() < 30
    assert np.abs(bottom - np.array(SCENES[0].bottom)).max() < 30
    assert 0 < bg[100:110, 100:110].std() < 12


def _row_swing(bg: np.ndarray) -> float:
    rows = bg.astype(float).mean(axis=2)[100:140]
    return float(np.percentile(np.abs(rows - rows.mean(axis=1, keepdims=True)), 95))


def test_textured_background_has_a_faint_grating_and_the_flat_one_is_unchanged():
    flat = background(320, 240, SCENES[0], rng_for(0, "bg"))
    textured = background(320, 240, SCENES[0], rng_for(0, "bg"), textured=True)
    # Along a row the grating swings the brightness by about its amplitude (8); the noise alone (sd 3) does not.
    assert 8 < _row_swing(textured) < 16 and _row_swing(flat) < 6
    # the grating is drawn after the noise: a flat world renders exactly as before textures existed
    assert np.abs(textured.astype(int) - flat.astype(int)).max() <= 9


@pytest.mark.parametrize("angle, axis", [(0, 1), (90, 0)])
def test_stripes_vary_across_their_angle_with_their_period(angle, axis):
    pat = texture_pattern(Texture("stripes", angle, 10), 40).astype(float).round(6)
    line = pat[0, :] if axis == 1 else pat[:, 0]
    assert line[:5].tolist() == [1.0] * 5 and line[5:10].tolist() == [TEXTURE_FLOOR] * 5
    assert np.array_equal(line[:30], line[10:40])  # period 10
    along = pat[:, 3] if axis == 1 else pat[3, :]
    assert np.unique(along).size == 1  # constant along the stripes


def test_checks_alternate_every_half_period_and_dots_cover_a_fifth():
    checks = texture_pattern(Texture("checks", 0, 10), 40).astype(float).round(6)
    assert checks[0, 0] == checks[5, 5] == 1.0
    assert checks[0, 5] == checks[5, 0] == TEXTURE_FLOOR
    dots = texture_pattern(Texture("dots", 0, 16), 64).astype(float).round(6)
    assert dots[8, 8] == TEXTURE_FLOOR and dots[0, 0] == 1.0  # disc centres at half a period
    assert abs((dots == TEXTURE_FLOOR).mean() - np.pi / 16) < 0.03  # discs of radius p/4


def test_textures_differ_from_each_other_in_grey():
    pats = [texture_pattern(t, 48).ravel() for t in TEXTURES]
    for i, a in enumerate(pats):
        for b in pats[:i]:
            assert (a != b).mean() > 0.1


def test_appearance_is_the_texture_in_the_sources_colour():
    dog = source("Dog")
    app = appearance(dog, 30).reshape(-1, 3)
    assert _near_shades(app, dog.rgb, 1.0).all()
    bright = np.abs(app.astype(float) - np.array(dog.rgb)).max(axis=1) < 1.0
    assert np.array_equal(bright, (texture_pattern(dog.texture, 30) > TEXTURE_FLOOR + 0.1).ravel())


def test_in_grey_each_source_keeps_its_own_shape_and_texture():
    seen = {}
    for s in SOURCES:
        grey = appearance(s, 48).astype(float).mean(axis=2)
        lum = (grey / grey.max()) * shape_mask(s.shape, 48)
        key = lum.round(2).tobytes()
        assert key not in seen, f"{s.name} looks like {seen.get(key)} in grey"
        seen[key] = s.name


@pytest.mark.parametrize("textured", [False, True])
def test_objects_show_their_colour_inside_their_box_only_while_visible(textured):
    bg = background(320, 240, SCENES[1], rng_for(0, "bg"))
    dog = DrawnObject("Dog", (100, 50, 160, 110), start=1.0, end=2.0)
    frame = render_frame(bg, [dog], t=1.5, textured=textured)
    inside = frame[50:110, 100:160].reshape(-1, 3).astype(int)
    rgb = np.array(source("Dog").rgb)
    assert _near_shades(inside, rgb, 10).mean() > 0.5
    dark = (np.abs(inside - TEXTURE_FLOOR * rgb).max(1) < 10).mean()
    assert dark > 0.1 if textured else (np.abs(inside - rgb).max(1) < 10).mean() > 0.5 and dark == 0
    assert np.array_equal(render_frame(bg, [dog], t=2.5), bg)
    raw = frames_bytes(bg, [dog], 24, 8, textured=textured)
    frames = np.frombuffer(raw, np.uint8).reshape(24, 240, 320, 3)
    assert np.array_equal(frames[12], frame) and np.array_equal(frames[0], bg)  # frame i is time i / 8


def test_place_boxes_never_overlap_when_on_screen_together():
    rng = rng_for(1, "boxes")
    for _ in range(20):
        boxes = place_boxes(5, 426, 240, rng, region=(93, 333))
        for i, a in enumerate(boxes):
            assert 93 <= a[0] and a[2] <= 333 and 0 <= a[1] and a[3] <= 240 and a[2] - a[0] == a[3] - a[1]
            for b in boxes[:i]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_render_image_is_a_deterministic_jpeg():
    spec = ImageSpec(224, 224, "park", (DrawnObject("Cat", (10, 10, 70, 70)),), seed=3)
    data = render_image(spec)
    assert data[:3] == b"\xff\xd8\xff" and data == render_image(spec)
    assert draw_objects(np.zeros((224, 224, 3), np.uint8), spec.objects)[40, 40].tolist() == list(source("Cat").rgb)
    textured = ImageSpec(224, 224, "park", spec.objects, seed=3, textured=True)
    assert render_image(textured) != data
    drawn = draw_objects(np.zeros((224, 224, 3), np.uint8), spec.objects, textured=True)
    mask = shape_mask(source("Cat").shape, 60)
    assert np.array_equal(drawn[10:70, 10:70][mask], appearance(source("Cat"), 60)[mask])
