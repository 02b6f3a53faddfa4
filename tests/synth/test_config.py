import pytest

from vipant.synth.config import WorldConfig, WorldConfigError


def test_defaults_and_tiny_are_valid():
    default, tiny = WorldConfig(), WorldConfig.tiny()
    assert default.audioset_total == 850
    assert (default.audiocaps_train, default.audiocaps_val, default.audiocaps_test) == (300, 40, 80)
    assert tiny.audioset_total < 100 and tiny.seed == 0
    assert WorldConfig.tiny(seed=3).seed == 3


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(WorldConfigError, match="unknown world config key.*'sed'"):
        WorldConfig.from_dict({"sed": 1})


def test_from_dict_overrides_converts_lists_and_round_trips():
    cfg = WorldConfig.from_dict({"seed": 5, "frame_sizes": [[320, 240]], "audio_rates": [16000], "preset": "tiny"})
    assert cfg.seed == 5 and cfg.frame_sizes == ((320, 240),) and cfg.audio_rates == (16000,)
    assert cfg.audioset_eval == WorldConfig.tiny().audioset_eval
    assert WorldConfig.from_dict(cfg.to_dict()) == cfg
    assert WorldConfig.from_dict(None) == WorldConfig()


@pytest.mark.parametrize(
    "bad",
    [
        {"audiocaps_train": 10_000},
        {"events_max": 4},
        {"video_min_seconds": 9.0},
        {"audio_channels": [3]},
        {"coco_train": -1},
        {"preset": "huge"},
        {"frame_sizes": [[321, 240]]},
    ],
)
def test_from_dict_rejects_impossible_values(bad):
    with pytest.raises(WorldConfigError):
        WorldConfig.from_dict(bad)
