from pathlib import Path

import pytest
from PIL import Image

from vipant.analysis.figure10 import TASK, figure10_data, plot_figure10
from vipant.tables import MetricsFileError, MetricsRecord


def record(model, values, task=TASK):
    metrics = {f"pivotability@{k}": v for k, v in values.items()}
    metrics.update({f"pivotability_other_images@{k}": v / 2 for k, v in values.items()})
    metrics["pivotable_share@5"] = 0.1
    chance = {f"pivotability@{k}": k / 100 for k in values} | {
        f"pivotability_other_images@{k}": k / 200 for k in values
    }
    return (model, task), MetricsRecord(Path(f"{model}.json"), model, task, metrics, chance, 50)


def test_data_has_one_row_per_model_and_k_in_the_papers_order():
    records = dict(
        [
            record("at_GC", {1: 0.3, 5: 0.6}),
            record("vipant", {5: 0.4, 1: 0.2}),
            record("oracle_av_clip", {1: 0.5, 5: 0.8}),
            record("vipant", {1: 9.0}, task="esc50_zs"),
        ]
    )
    data = figure10_data(records)
    assert data["model"].tolist() == ["vipant", "vipant", "at_GC", "at_GC", "oracle_av_clip", "oracle_av_clip"]
    assert data["k"].tolist() == [1, 5] * 3
    assert data["name"].tolist()[::2] == ["vip-AnT", "+AT (w/ GC)", "OracleAV-CLIP (own frame as the query)"]
    row = data.iloc[1]
    assert (row["pivotability"], row["pivotability_other_images"], row["pivotability_chance"]) == (0.4, 0.2, 0.05)


def test_no_pivotability_file_is_an_error():
    with pytest.raises(MetricsFileError, match="no metrics file of task 'audiocaps_pivotability'"):
        figure10_data(dict([record("vipant", {1: 0.2}, task="esc50_zs")]))


def test_plot_writes_a_png(tmp_path):
    data = figure10_data(dict([record("vipant", {1: 0.2, 2: 0.3, 5: 0.4}), record("at_RC", {1: 0.1, 2: 0.2, 5: 0.5})]))
    out = tmp_path / "figure10.png"
    plot_figure10(data, out)
    assert Image.open(out).format == "PNG"
    assert not [p for p in tmp_path.iterdir() if p.name != "figure10.png"]  # no temporary file left
