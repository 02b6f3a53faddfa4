"""tools/probe_matching.py: which frame Nearest Match picks, scored against a known truth."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_spec = importlib.util.spec_from_file_location(
    "probe_matching", Path(__file__).resolve().parents[2] / "tools" / "probe_matching.py"
)
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)


def test_a_frame_counts_only_when_a_visible_non_distractor_object_sounds_at_its_time():
    """Catches a distractor counted (it is on screen but silent by design), a source that sounds while its
    object is off screen, and closed interval ends."""
    truth = {
        "events": [{"source": "Cow", "onset": 1.0, "offset": 4.0}, {"source": "Rain", "onset": 6.0, "offset": 9.0}],
        "objects": [
            {"source": "Cow", "visible": [1.0, 4.0], "distractor": False},
            {"source": "Rain", "visible": [8.5, 9.5], "distractor": False},  # on screen after 8.5 only
            {"source": "Bell", "visible": [0.0, 10.0], "distractor": True},
        ],
    }
    assert probe.shows_sounding(truth, [1.0, 3.99, 4.0, 7.0, 8.75, 0.5]) == [True, True, False, False, True, False]


def test_nearest_random_and_best_shares():
    """4 clips x 4 frames, frame k of every clip along axis k; clip i's audio points at frame i. Catches the
    pick read from the wrong axis (frames instead of clips), ``random`` over clips instead of frames, and
    ``best`` as the mean instead of any-per-clip."""
    frames = np.tile(np.eye(4)[None], (4, 1, 1))
    audio = np.eye(4) * 3.0  # unnormalised on purpose
    shown = np.array([[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 1], [1, 1, 1, 0]], dtype=bool)
    s = probe.match_stats(audio, frames, shown)
    assert s["random"] == pytest.approx(100 * 6 / 16)
    assert s["nearest"] == pytest.approx(100 * 2 / 4)  # clip 0 picks frame 0 (shown), clip 2 frame 2 (shown)
    assert s["best"] == pytest.approx(75.0)
    assert s["same_position"] == pytest.approx(25.0)
    s = probe.match_stats(np.tile(np.eye(4)[1], (4, 1)), frames, shown)  # every clip picks frame 1
    assert s["same_position"] == 100.0 and s["nearest"] == pytest.approx(25.0)
