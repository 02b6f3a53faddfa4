import numpy as np

from vipant.media.ffmpeg import probe
from vipant.synth.audio import EventSound, mix_scene
from vipant.synth.render import DrawnObject, background, frames_bytes
from vipant.synth.seeding import rng_for
from vipant.synth.sources import SCENES, source
from vipant.synth.video import write_mp4

from .conftest import decode_frame


def test_write_mp4_streams_and_colours(tmp_path):
    rng = rng_for(0, "video")
    bg = background(426, 240, SCENES[2], rng)
    obj = DrawnObject("Siren", (150, 60, 214, 124), 0.5, 1.5)
    frames = frames_bytes(bg, [obj], 16, 8)
    audio = mix_scene([EventSound("Siren", 0.5, 1.5)], 2.0, 22050, 2, rng)
    path = tmp_path / "a.mp4"
    write_mp4(path, frames, 426, 240, 8, audio, 22050)
    info = probe(path)
    assert (info.width, info.height, info.sample_rate, info.channels) == (426, 240, 22050, 2)
    assert abs(info.duration - 2.0) < 0.1
    frame = decode_frame(path, 1.0, 426, 240)
    patch = frame[70:114, 160:204].reshape(-1, 3).astype(int)
    assert (np.abs(patch - np.array(source("Siren").rgb)).max(1) < 40).mean() > 0.5
    first = path.read_bytes()
    write_mp4(path, frames, 426, 240, 8, audio, 22050)
    assert path.read_bytes() == first  # bit-exact encoding


def test_write_mp4_without_audio(tmp_path):
    bg = background(320, 240, SCENES[0], rng_for(0, "v"))
    write_mp4(tmp_path / "b.mp4", frames_bytes(bg, [], 8, 8), 320, 240, 8, None)
    info = probe(tmp_path / "b.mp4")
    assert info.has_video and not info.has_audio
