"""A rehearsal of YouTube's bad days, kept in the suite.

A loopback server (tests/acquire/conftest.py ``bad_day_server``) serves the clips' videos with Range
support and misbehaves the way YouTube does: rate-limit answers ("Video unavailable. This content isn't
available, try again later") once a number of videos were asked for, a bot check, a bare 403, a deleted
video, a response slower than the socket timeout. The download stage runs through it twice: while the
limit holds, and after it lifts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

_fx = sys.modules["_acquire_conftest"]  # tests/acquire/conftest.py (see its last lines)

from vipant.acquire import download as dl  # noqa: E402
from vipant.acquire.coverage import CoverageTooLow, coverage_report, require_min_coverage  # noqa: E402
from vipant.acquire.download import YtdlpSettings, download_shard  # noqa: E402
from vipant.acquire.manifest import is_final, retry_token  # noqa: E402

GOOD, START, END = _fx.GOOD, _fx.START, _fx.END
DELETED, SLOW, BOT, FORBIDDEN = "deletedVid1", "slowVideo01", "botCheck_01", "forbidden01"
G = [f"goodClip_{i:02d}" for i in range(1, 7)]  # all served from the GOOD file
ORDER = [G[0], DELETED, SLOW, G[1], BOT, FORBIDDEN, G[2], G[3], G[4], G[5]]
PAUSE = 7.0


def _clips() -> pd.DataFrame:
    return pd.DataFrame([{"clip_id": f"{y}_2000", "ytid": y, "start": START, "end": END} for y in ORDER])


def _run(tmp_path, server, token=""):
    return download_shard(
        _clips(),
        url_template=server.template,
        out_dir=tmp_path / "o",
        manifest_path=tmp_path / "shard-000.csv",
        retries=0,
        sections=True,
        blocked_limit=2,
        blocked_pauses=1,
        blocked_pause=PAUSE,
        run_token=token,
        settings=YtdlpSettings(socket_timeout=1.0, js_runtime=""),
    )


def _final_named_files(out: Path) -> set[str]:
    return {p.name for p in out.rglob("*") if p.is_file()}


@pytest.mark.timeout(300)
def test_bad_day_then_the_limit_lifts(tmp_path, bad_day_server, monkeypatch):
    """Catches: a rate limit, bot check or 403 recorded as final (the rerun would skip those clips); a
    shard that races through its clips while blocked (no pause, no stop); a rerun that asks for final
    clips again (the deleted video) or fails to complete the retryable ones; half files under a final
    name; a retry token that stays put while retryable rows remain or moves once none do; a coverage
    gate that lets training start at 2 of 10 clips."""
    sleeps: list[float] = []
    monkeypatch.setattr(dl.fetch, "_sleep", sleeps.append)
    server = bad_day_server
    server.aliases.update({f"{y}.mp4": f"{GOOD}.mp4" for y in [*G, SLOW, BOT, FORBIDDEN]})
    server.answers.update(
        {
            f"{DELETED}.mp4": (404, "Video unavailable. This video has been removed by the uploader"),
            f"{BOT}.mp4": (403, "Sign in to confirm you're not a bot"),
            f"{FORBIDDEN}.mp4": (403, "Forbidden"),
        }
    )
    server.slow[f"{SLOW}.mp4"] = 2.5  # > the 1 s socket timeout
    server.rate_limit_after = 6  # the 7th video asked for onwards: rate-limited

    m = _run(tmp_path, server).set_index("ytid")
    got = {y: (m.loc[y, "status"], m.loc[y, "reason"], int(m.loc[y, "attempts"])) for y in ORDER}
    assert got == {
        G[0]: ("ok", "", 1),
        DELETED: ("failed", "unavailable", 1),
        SLOW: ("failed", "network", 1),
        G[1]: ("ok", "", 1),
        BOT: ("failed", "blocked", 1),
        FORBIDDEN: ("failed", "blocked", 1),
        # a pause after two blocked videos in a row, then two more: the shard stops
        G[2]: ("failed", "blocked", 1),
        G[3]: ("failed", "blocked", 1),
        G[4]: ("failed", "blocked", 0),
        G[5]: ("failed", "blocked", 0),
    }, m["detail"].to_dict()
    assert "try again later" in m.loc[G[2], "detail"]
    assert sleeps == [PAUSE]
    assert server.hits.get(f"{G[4]}.mp4", 0) == 0  # stopped: never asked for
    # nothing final for a retryable failure; only the two ok clips have files, no temporaries left
    for y in ORDER:
        assert is_final(m.loc[y].to_dict() | {"clip_id": f"{y}_2000"}) == (m.loc[y, "reason"] in ("", "unavailable"))
    out = tmp_path / "o"
    assert _final_named_files(out) == {f"{G[0]}_2000.flac", f"{G[0]}_2000.mp4", f"{G[1]}_2000.flac", f"{G[1]}_2000.mp4"}
    assert not (out / ".tmp").exists()
    token = retry_token(tmp_path / "shard-000.csv")
    assert token.startswith("retry-7-")  # a new retry ticket: Snakemake reruns the shard

    requests = pd.DataFrame({"dataset": "audioset", "split": "balanced_train", "clip_id": _clips()["clip_id"]})
    with pytest.raises(
        CoverageTooLow,
        match=r"audioset/balanced_train: coverage 0\.200 \(2 of 10 clips\) < min_coverage 0\.800.*7 retryable",
    ):
        require_min_coverage(coverage_report(requests, m.reset_index()), 0.8)
    assert require_min_coverage(coverage_report(requests, m.reset_index()), 0.8, allow_low=True) == [
        ("audioset", "balanced_train", 0.2)
    ]

    # the limit lifts, the bot check and the 403 are gone, the slow server is quick again
    server.lifted = True
    server.answers.pop(f"{BOT}.mp4")
    server.answers.pop(f"{FORBIDDEN}.mp4")
    server.slow.clear()
    server.reset_counts()
    m2 = _run(tmp_path, server, token=token).set_index("ytid")
    assert {y: (m2.loc[y, "status"], m2.loc[y, "reason"]) for y in ORDER} == {
        y: ("failed", "unavailable") if y == DELETED else ("ok", "") for y in ORDER
    }
    assert set(server.hits) == {f"{y}.mp4" for y in [SLOW, BOT, FORBIDDEN, *G[2:]]}  # final clips not asked again
    assert retry_token(tmp_path / "shard-000.csv") == token  # every row final: no further rerun
    assert require_min_coverage(coverage_report(requests, m2.reset_index()), 0.8) == []
