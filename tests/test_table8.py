import math

import pytest

from vipant.tables import MetricsFileError, build_table, write_metrics


def _write(tmp_path, model, task, value):
    path = tmp_path / model / task / "metrics.json"
    keys = ("t2a_R@1", "t2a_R@10", "a2t_R@1", "a2t_R@10")
    write_metrics(path, model, task, {k: value for k in keys}, {k: 1.0 for k in keys}, 30)
    return path


def test_table8_puts_10s_beside_18s_and_the_paper(tmp_path):
    paths = [
        _write(tmp_path, m, t, v)
        for m, v in (("vipant", 2.0), ("at_GC", 12.0))
        for t, v in (("clotho_10s_retrieval", v), ("clotho_retrieval", v + 1))
    ]
    table = build_table("table8", paths)
    assert table["Model"].tolist() == ["vip-AnT", "+AT w/ GC"]
    gc = table.set_index("Model").loc["+AT w/ GC"]
    assert gc["Clotho 10 s T→A R@1"] == 12.0 and gc["Clotho 18 s A→T R@10"] == 13.0
    assert gc["Clotho 10 s T→A R@1 (paper)"] == 10.2 and gc["Clotho 18 s A→T R@10 (paper)"] == 41.0
    assert gc["Clotho 10 s A→T R@1 (chance)"] == 1.0
    assert list(table.columns)[1:4] == [
        "Clotho 10 s T→A R@1",
        "Clotho 10 s T→A R@1 (paper)",
        "Clotho 10 s T→A R@1 (chance)",
    ]


def test_table8_leaves_missing_cells_empty_and_refuses_no_input(tmp_path):
    table = build_table("table8", [_write(tmp_path, "va_rand", "clotho_retrieval", 3.0)])
    assert math.isnan(table["Clotho 10 s T→A R@1"].iloc[0]) and table["Clotho 18 s T→A R@1"].iloc[0] == 3.0
    with pytest.raises(MetricsFileError, match="table8: no metrics file"):
        build_table("table8", [_write(tmp_path, "vipant", "audiocaps_retrieval", 3.0)])
