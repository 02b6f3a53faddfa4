"""Progress lines in job logs (:mod:`vipant.progress`): done/total, rate, ETA, every N seconds and at the end."""

import logging

import numpy as np
import pandas as pd
import soundfile as sf

from vipant.features.fbank import fbank_shard
from vipant.progress import Progress, clock_time, default_interval, track


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _messages(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "vipant.progress"]


def test_lines_every_interval_and_at_the_end_with_rate_and_eta(caplog):
    """11 items, one every 7 s, interval 30 s: lines after items 5 and 10 (35 s, 70 s) and at the end.
    Catches: a line per item, no final line, a rate over the wrong time, an ETA from the wrong remainder."""
    caplog.set_level(logging.INFO, logger="vipant.progress")
    clock = FakeClock()
    p = Progress("fbank shard-000.npy", 11, unit="clips", interval=30, clock=clock)
    for _ in range(11):
        clock.now += 7
        p.update(loss=3.25)
    p.close()
    assert _messages(caplog) == [
        "fbank shard-000.npy: 5/11 clips (45 %), 0.143 clips/s, elapsed 0:00:35, ETA 0:00:42, loss=3.25",
        "fbank shard-000.npy: 10/11 clips (91 %), 0.143 clips/s, elapsed 0:01:10, ETA 0:00:07, loss=3.25",
        "fbank shard-000.npy: 11/11 clips (100 %), 0.143 clips/s, elapsed 0:01:17, loss=3.25",
    ]
    p.close()  # closing twice writes nothing more
    assert len(_messages(caplog)) == 3


def test_unknown_total_and_interval_from_the_environment(monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="vipant.progress")
    monkeypatch.setenv("VIPANT_PROGRESS_INTERVAL", "5")
    assert default_interval() == 5.0
    monkeypatch.setenv("VIPANT_PROGRESS_INTERVAL", "soon")
    assert default_interval() == 30.0
    assert clock_time(3725.4) == "1:02:05"
    assert list(track(iter([1, 2, 3]), "scan", interval=1e9)) == [1, 2, 3]
    assert _messages(caplog)[-1].startswith("scan: 3 items, ")


def test_fbank_stage_writes_its_final_line_to_the_log(tmp_path, caplog):
    """The FBANK stage (a rule's log, not a terminal) says how far it got. Catches: progress shown only by tqdm."""
    caplog.set_level(logging.INFO, logger="vipant.progress")
    clips = []
    for i in range(3):
        path = tmp_path / f"c{i}.flac"
        sf.write(path, (0.1 * np.random.default_rng(i).standard_normal(8000)).astype(np.float32), 16000)
        clips.append({"clip_id": f"c{i}", "path": str(path)})
    fbank_shard(pd.DataFrame(clips), tmp_path / "shard-000.npy", tmp_path / "index.csv", target_frames=100)
    assert _messages(caplog)[-1].startswith("fbank shard-000.npy: 3/3 clips (100 %), ")
