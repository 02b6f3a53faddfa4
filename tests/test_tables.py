"""Tables from hand-written metrics.json files."""

import json
import math

import pandas as pd
import pytest

from vipant.paper_values import TABLE3, TABLE4
from vipant.tables import MetricsFileError, build_table, read_metrics, write_metrics, write_table

RET_KEYS = ("t2a_R@1", "t2a_R@5", "t2a_R@10", "a2t_R@1", "a2t_R@5", "a2t_R@10")


def _retrieval(tmp_path, model, task, base):
    path = tmp_path / model / task / "metrics.json"
    metrics = {k: base + i + 0.04 for i, k in enumerate(RET_KEYS)}
    write_metrics(path, model, task, metrics, {k: 0.1 for k in RET_KEYS}, n=975)
    return path


def _zs(tmp_path, model, task, prompt, noprompt):
    path = tmp_path / model / task / "metrics.json"
    key = "mAP" if task == "audioset_zs" else "acc"
    write_metrics(path, model, task, {f"{key}_prompt": prompt, f"{key}_noprompt": noprompt}, {key: 2.0}, n=40)
    return path


def test_metrics_json_keeps_p_values_when_given(tmp_path):
    path = tmp_path / "m.json"
    write_metrics(path, "vipant", "us8k_zs", {"acc_prompt": 22.1}, {"acc": 10.0}, n=80, p={"acc_prompt": 0.002})
    assert json.loads(path.read_text())["p_vs_chance"] == {"acc_prompt": 0.002}
    assert read_metrics(path).metrics == {"acc_prompt": 22.1}
    write_metrics(path, "vipant", "us8k_zs", {"acc_prompt": 22.1}, {"acc": 10.0}, n=80)
    assert "p_vs_chance" not in json.loads(path.read_text())


def test_metrics_json_names_the_code_that_wrote_it_when_told(tmp_path):
    path = tmp_path / "m.json"
    write_metrics(path, "vipant", "us8k_zs", {"acc_prompt": 22.1}, {"acc": 10.0}, n=80, commit="abc123")
    assert read_metrics(path).commit == "abc123"
    write_metrics(path, "vipant", "us8k_zs", {"acc_prompt": 22.1}, {"acc": 10.0}, n=80)
    assert read_metrics(path).commit is None  # files written before commits were recorded still read
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "commit": 7}))
    with pytest.raises(MetricsFileError, match="m.json: 'commit' must be a string"):
        read_metrics(path)


def test_tables_carry_p_values_beside_the_scores_that_have_them(tmp_path):
    a = tmp_path / "vipant.json"
    write_metrics(
        a,
        "vipant",
        "us8k_zs",
        {"acc_prompt": 22.1, "acc_noprompt": 19.2},
        {"acc": 10.0},
        n=80,
        p={"acc_prompt": 0.005, "acc_noprompt": 0.0312},
    )
    b = tmp_path / "va_rand.json"  # evaluated without shuffles: its p cells are empty, not zero
    write_metrics(b, "va_rand", "us8k_zs", {"acc_prompt": 11.0, "acc_noprompt": 12.0}, {"acc": 10.0}, n=80)
    row = build_table("table4", [a, b]).set_index("Model")
    assert row.loc["vip-AnT", "US8K (p)"] == 0.005 and row.loc["vip-AnT", "US8K no prompt (p)"] == 0.031
    assert math.isnan(row.loc["VA-Rand", "US8K (p)"])
    assert "ESC50 (p)" not in row.columns  # no file has ESC-50 p-values
    cols = list(row.columns)
    assert cols.index("US8K (p)") == cols.index("US8K (chance)") + 1
    without = build_table("table4", [b])
    assert not [c for c in without.columns if c.endswith("(p)")]


def test_table3_rows_in_paper_order_with_paper_values(tmp_path):
    paths = [
        _retrieval(tmp_path, "oracle_av_clip", "audiocaps_retrieval", 30.0),
        _retrieval(tmp_path, "at_GC", "clotho_retrieval", 20.0),
        _retrieval(tmp_path, "vipant", "audiocaps_retrieval", 10.0),
        _retrieval(tmp_path, "vipant", "clotho_retrieval", 5.0),
        _zs(tmp_path, "vipant", "esc50_zs", 50.0, 40.0),  # other tables' files are ignored
    ]
    df = build_table("table3", paths)
    assert list(df["Model"]) == ["vip-AnT", "+AT w/ GC", "OracleAV-CLIP"]
    row = df.set_index("Model")
    assert row.loc["vip-AnT", "AudioCaps T→A R@1"] == 10.0  # 10.04 rounded to one decimal
    assert row.loc["vip-AnT", "AudioCaps T→A R@10"] == 12.0
    assert row.loc["vip-AnT", "AudioCaps A→T R@1"] == 13.0
    assert row.loc["vip-AnT", "Clotho A→T R@10"] == 10.0
    assert row.loc["vip-AnT", "AudioCaps T→A R@1 (paper)"] == 0.8
    assert row.loc["vip-AnT", "Clotho A→T R@10 (paper)"] == 25.6
    assert row.loc["vip-AnT", "AudioCaps T→A R@1 (chance)"] == 0.1
    assert row.loc["OracleAV-CLIP", "AudioCaps A→T R@10 (paper)"] == 31.2
    # No Clotho file for the oracle and no Clotho number in the paper: empty, not zero.
    assert math.isnan(row.loc["OracleAV-CLIP", "Clotho T→A R@1"])
    assert math.isnan(row.loc["OracleAV-CLIP", "Clotho T→A R@1 (paper)"])
    # GC has only Clotho: its AudioCaps cells are empty but the paper's value is still shown.
    assert math.isnan(row.loc["+AT w/ GC", "AudioCaps T→A R@1"])
    assert row.loc["+AT w/ GC", "AudioCaps T→A R@1 (paper)"] == 27.7
    assert list(df.columns[:4]) == [
        "Model",
        "AudioCaps T→A R@1",
        "AudioCaps T→A R@1 (paper)",
        "AudioCaps T→A R@1 (chance)",
    ]

    out = tmp_path / "results" / "table3.csv"
    write_table(out, df)
    back = pd.read_csv(out)
    assert list(back["Model"]) == list(df["Model"])
    line = out.read_text().splitlines()[3]  # OracleAV-CLIP row
    assert line.startswith("OracleAV-CLIP,30.0,4.8,0.1") and line.endswith(",,,")


def test_table4_prompt_and_no_prompt(tmp_path):
    paths = [
        _zs(tmp_path, "at_AC", "esc50_zs", 60.26, 55.0),
        _zs(tmp_path, "va_rand", "us8k_zs", 40.0, 35.0),
        _zs(tmp_path, "va_rand", "audioset_zs", 1.5, 1.9),
        _retrieval(tmp_path, "at_AC", "audiocaps_retrieval", 1.0),
    ]
    df = build_table("table4", paths)
    assert list(df["Model"]) == ["VA-Rand", "+AT w/ AC"]
    row = df.set_index("Model")
    assert row.loc["+AT w/ AC", "ESC50"] == 60.3
    assert row.loc["+AT w/ AC", "ESC50 (paper)"] == 62.8
    assert row.loc["+AT w/ AC", "ESC50 no prompt (paper)"] == 55.7
    assert row.loc["+AT w/ AC", "ESC50 (chance)"] == 2.0
    assert row.loc["VA-Rand", "AS no prompt"] == 1.9 and row.loc["VA-Rand", "AS no prompt (paper)"] == 2.0
    assert row.loc["VA-Rand", "US8K (paper)"] == 41.9
    assert math.isnan(row.loc["VA-Rand", "ESC50"])


def test_missing_file_and_missing_key_name_the_file(tmp_path):
    missing = tmp_path / "nope" / "metrics.json"
    with pytest.raises(MetricsFileError, match="nope"):
        build_table("table3", [missing])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"model": "vipant", "task": "audiocaps_retrieval", "metrics": {"t2a_R@1": 1.0}}))
    with pytest.raises(MetricsFileError, match=r"bad\.json.*t2a_R@10"):
        build_table("table3", [bad])
    bad.write_text(json.dumps({"model": "vipant", "metrics": {}}))
    with pytest.raises(MetricsFileError, match=r"bad\.json.*'task'"):
        read_metrics(bad)
    bad.write_text(json.dumps({"model": "vipant", "task": "esc50_zs", "metrics": {"acc_prompt": "high"}}))
    with pytest.raises(MetricsFileError, match="not a number"):
        read_metrics(bad)


def test_duplicates_no_rows_and_unknown_table(tmp_path):
    p = _zs(tmp_path, "vipant", "esc50_zs", 1.0, 1.0)
    with pytest.raises(MetricsFileError, match="duplicate"):
        build_table("table4", [p, p])
    with pytest.raises(MetricsFileError, match="no metrics file"):
        build_table("table3", [p])
    with pytest.raises(ValueError, match="unknown table"):
        build_table("table9", [p])


def test_paper_values_match_the_paper_text():
    assert TABLE3["at_GC"]["clotho_retrieval"] == {"t2a_R@1": 11.1, "t2a_R@10": 40.5, "a2t_R@1": 11.8, "a2t_R@10": 41.0}
    assert TABLE3["oracle_av_clip"] == {
        "audiocaps_retrieval": {"t2a_R@1": 4.8, "t2a_R@10": 27.8, "a2t_R@1": 6.6, "a2t_R@10": 31.2}
    }
    assert TABLE4["at_GL"]["audioset_zs"] == {"mAP_prompt": 15.4, "mAP_noprompt": 18.9}
    assert TABLE4["vipant"]["us8k_zs"] == {"acc_prompt": 44.7, "acc_noprompt": 37.8}
    assert len(TABLE3) == 9 and len(TABLE4) == 8


# ---- follow-up A: mean ± std over seeds ----


def _seeded(tmp_path, model, task, values):
    path = tmp_path / model / task / "metrics.json"
    write_metrics(path, model, task, values, {k: 1.25 for k in values}, n=100)
    return path


def test_temporal_tables_average_seeds_in_paper_order(tmp_path):
    keys3 = ("a2i_R@1", "a2i_R@5", "i2a_R@1", "i2a_R@5")
    paths = []
    for variant, base in (("multiframe", 20.0), ("random", 10.0)):
        for seed, delta in ((0, -1.0), (1, 0.0), (2, 1.0)):
            paths.append(
                _seeded(
                    tmp_path,
                    f"tm_{variant}_s{seed}",
                    "audioset_a2i",
                    {k: base + delta + i for i, k in enumerate(keys3)},
                )
            )
    # an AT fine-tune and a non-temporal model of the same task are not rows of Table III
    paths.append(_seeded(tmp_path, "tm_random_s0_at", "audioset_a2i", {k: 99.0 for k in keys3}))
    paths.append(_seeded(tmp_path, "vipant", "audioset_a2i", {k: 99.0 for k in keys3}))
    t = build_table("temporal_table3", paths)
    assert t["Model"].tolist() == ["VIP-ANT (reproduction)", "Multiframe Match"]
    assert t["seeds"].tolist() == [3, 3]
    assert t["A→I R@1"].tolist() == [10.0, 20.0] and t["I→A R@5"].tolist() == [13.0, 23.0]
    assert t["A→I R@1 ±"].tolist() == [1.0, 1.0]  # sample std of (-1, 0, 1)
    assert t.loc[1, "A→I R@1 (paper)"] == 15.83 and t.loc[1, "A→I R@1 ± (paper)"] == 0.09
    assert t["A→I R@1 (chance)"].tolist() == [1.2, 1.2]


def test_a_follow_up_run_that_is_vipant_reads_vipants_scores_as_its_seed(tmp_path):
    """Random Match seed 0 of the synthetic preset is vip-AnT (vipant.registry): the table files vip-AnT's
    scores as that seed's. Catches an alias that is read under the wrong seed or variant, or dropped."""
    keys3 = ("a2i_R@1", "a2i_R@5", "i2a_R@1", "i2a_R@5")
    paths = [
        _seeded(tmp_path, "vipant", "audioset_a2i", {k: 10.0 for k in keys3}),
        _seeded(tmp_path, "tm_random_s1", "audioset_a2i", {k: 12.0 for k in keys3}),
        _seeded(tmp_path, "tm_nearest5_s0", "audioset_a2i", {k: 30.0 for k in keys3}),
    ]
    t = build_table("temporal_table3", paths, {"tm_random_s0": "vipant"})
    assert t["Model"].tolist() == ["VIP-ANT (reproduction)", "Nearest Match (n = 5)"]
    assert t["seeds"].tolist() == [2, 1] and t["A→I R@1"].tolist() == [11.0, 30.0]
    # without the alias vip-AnT is not a row, and the Random Match row has one seed
    assert build_table("temporal_table3", paths)["seeds"].tolist() == [1, 1]
    with pytest.raises(ValueError, match="no model aliases"):
        build_table("table3", paths, {"tm_random_s0": "vipant"})


def test_temporal_table4_reads_fine_tuned_models_only(tmp_path):
    keys4 = ("t2a_R@1", "t2a_R@10", "a2t_R@1", "a2t_R@10")
    paths = [
        _seeded(tmp_path, "tm_nearest15_s0_at", "audiocaps_retrieval", {k: 5.0 for k in keys4}),
        _seeded(tmp_path, "tm_nearest15_s0", "audiocaps_retrieval", {k: 50.0 for k in keys4}),
    ]
    t = build_table("temporal_table4", paths)
    assert t["Model"].tolist() == ["Nearest Match (n = 15)"] and t["seeds"].tolist() == [1]
    assert t["T→A R@1"].tolist() == [5.0] and math.isnan(t.loc[0, "T→A R@1 ±"])
    assert t.loc[0, "A→T R@10 (paper)"] == 78.11
    with pytest.raises(MetricsFileError, match="tm_<variant>_s<seed>"):
        build_table("temporal_table4", paths[1:])
