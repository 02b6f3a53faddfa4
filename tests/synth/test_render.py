import numpy as np

from vipant.synth.render import (
    DrawnObject, ImageSpec, background, draw_objects, frames_bytes, place_boxes, render_frame, render_image,
)
from vipant.synth.seeding import rng_for
from vipant.synth.sources import SCENES, source


def test_background_is_scene_gradient_with_mild_noise():
    bg = background(320, 240, SCENES[0], rng_for(0, "bg"))
    assert bg.shape == (240, 320, 3) and bg.dtype == np.uint8
    top, bottom = bg[:10].reshape(-1, 3).mean(0), bg[-10:].reshape(-1, 3).mean(0)
    assert np.abs(top - np.array(SCENES[0].top)).max() < 30
    assert np.abs(bottom - np.array(SCENES[0].bottom)).max() < 30
    assert 0 < bg[100:110, 100:110].std() < 12


def test_objects_show_their_colour_inside_their_box_only_while_visible():
    bg = background(320, 240, SCENES[1], rng_for(0, "bg"))
    dog = DrawnObject("Dog", (100, 50, 160, 110), start=1.0, end=2.0)
    frame = render_frame(bg, [dog], t=1.5)
    inside = frame[50:110, 100:160].reshape(-1, 3).astype(int)
    near = (np.abs(inside - np.array(source("Dog").rgb)).max(1) < 10).mean()
    assert near > 0.5
    assert np.array_equal(render_frame(bg, [dog], t=2.5), bg)
    raw = frames_bytes(bg, [dog], 24, 8)
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
