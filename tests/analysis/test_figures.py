import numpy as np
import pandas as pd
import pytest

from vipant.analysis.figures import X_LABEL, figure5, figure7, save_figure
from vipant.analysis.scaling import METRICS, summarise


def _table(slope: float) -> pd.DataFrame:
    rows = []
    for k in range(1, 6):
        row = {"model": f"at_GC@{2**k}", "N": 2**k, "log2_N": float(k)}
        for i, m in enumerate(METRICS):
            row[m.column] = 20.0 + i + slope * k + (0.3 if k % 2 else -0.3)
            row[f"{m.column}_chance"] = 5.0
        rows.append(row)
    return pd.DataFrame(rows)


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _png_ok(path) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_figure7_has_labelled_axes_fits_and_the_extrapolation(tmp_path):
    table = _table(slope=4.0)
    summary = summarise(table, target=81.0, paper_log2_n=21.0)
    fig = figure7(table, summary)
    ax_a, ax_b = fig.axes
    assert ax_a.get_xlabel() == X_LABEL == ax_b.get_xlabel()
    assert ax_a.get_ylabel() == "R@1 (%)" and ax_b.get_ylabel() == "accuracy (%)"
    legend_b = _legend(ax_b)
    assert "ESC-50 zero-shot accuracy" in legend_b and "US8K zero-shot accuracy" in legend_b
    assert any(t.startswith("ESC-50 human accuracy (81") for t in legend_b)
    assert any("paper's estimate: log2 N ≈ 21" in t for t in legend_b)
    assert any(t.startswith("ours: log2 N* = ") for t in legend_b)
    assert any(t.startswith("fit: ") for t in _legend(ax_a))
    assert ax_b.get_xlim()[1] >= 21  # the paper's estimate is on the axes
    notes = [t.get_text() for t in ax_b.texts]
    assert any("log2 N* =" in t for t in notes)
    out = tmp_path / "figure7.png"
    save_figure(fig, out)
    _png_ok(out)


def test_figure7_says_so_when_there_is_no_extrapolation(tmp_path):
    table = _table(slope=-1.0)
    summary = summarise(table, target=81.0, paper_log2_n=21.0)
    fig = figure7(table, summary)
    ax_b = fig.axes[1]
    assert not any(t.startswith("ours: log2 N*") for t in _legend(ax_b))
    assert any("no extrapolation" in t.get_text() for t in ax_b.texts)
    save_figure(fig, tmp_path / "f.png")
    _png_ok(tmp_path / "f.png")


def _curve(offset: float) -> pd.DataFrame:
    rows = []
    for epoch in range(4):
        for kind in ("P", "R"):
            for k in (1, 5):
                rows.append({"epoch": epoch, "kind": kind, "k": k, "value": offset + 5 * epoch + k, "chance": 3.0})
    return pd.DataFrame(rows)


def test_figure5_plots_both_inits_per_epoch(tmp_path):
    fig = figure5({"CLIP init": _curve(10.0), "random init": _curve(0.0)})
    ax_p, ax_r = fig.axes
    assert ax_p.get_xlabel() == "VA pretraining epoch"
    assert ax_p.get_ylabel() == "image→audio precision@k (%)" and ax_r.get_ylabel() == "image→audio recall@k (%)"
    legend = _legend(ax_p)
    assert {"CLIP init, precision@1", "random init, precision@5", "chance, precision@1"} <= set(legend)
    line = next(li for li in ax_p.get_lines() if li.get_label() == "CLIP init, precision@5")
    assert np.array_equal(line.get_xdata(), [1, 2, 3, 4])  # epochs shown 1-based
    out = tmp_path / "figure5.png"
    save_figure(fig, out)
    _png_ok(out)


def test_figure7_writes_out_a_crossing_beyond_the_axes(tmp_path):
    table = _table(slope=0.5)  # 81 % is reached only ~120 doublings away
    summary = summarise(table, target=81.0, paper_log2_n=21.0)
    assert summary["extrapolation"]["log2_n"] > 40
    fig = figure7(table, summary)
    ax_b = fig.axes[1]
    assert not any(t.startswith("ours: log2 N*") for t in _legend(ax_b))  # not drawn ...
    assert any("log2 N* =" in t.get_text() for t in ax_b.texts)  # ... but written
    assert ax_b.get_xlim()[1] < 40
    save_figure(fig, tmp_path / "f.png")


def test_figure7_b_fit_stops_at_100_percent():
    """A steep fit extended to the paper's 2^21 would pass 100 % (here 21 + 4·22 ≈ 109 %): the dashed line
    ends where it reaches 100 % and the axis stops at 102 %. Catches: a drawn accuracy above 100 %."""
    table = _table(slope=4.0)
    fig = figure7(table, summarise(table, target=81.0, paper_log2_n=21.0))
    ax_b = fig.axes[1]
    extended = next(li for li in ax_b.get_lines() if li.get_label() == "fit, extended beyond the data")
    assert max(extended.get_ydata()) == pytest.approx(100.0, abs=1e-9)
    assert max(max(li.get_ydata()) for li in ax_b.get_lines()) <= 100.0 + 1e-9
    assert ax_b.get_ylim()[1] == pytest.approx(102.0)


def test_figure7_a_has_one_legend_entry_per_line():
    """T→A and A→T share AudioCaps' chance level. Catches: "chance (AudioCaps)" listed (and drawn) twice."""
    table = _table(slope=4.0)
    ax_a = figure7(table, summarise(table, target=81.0, paper_log2_n=21.0)).axes[0]
    legend = _legend(ax_a)
    assert len(legend) == len(set(legend))
    assert legend.count("chance (AudioCaps)") == 1


def test_legends_are_legible_and_figures_are_written_as_png_and_pdf(tmp_path):
    """Catches: 7 pt legends (unreadable at a paper's column width), a figure written only as a bitmap."""
    table = _table(slope=4.0)
    figures = {
        "figure7": figure7(table, summarise(table, target=81.0, paper_log2_n=21.0)),
        "figure5": figure5({"CLIP init": _curve(10.0), "random init": _curve(0.0)}),
    }
    for name, fig in figures.items():
        sizes = {t.get_fontsize() for ax in fig.axes for t in ax.get_legend().get_texts()}
        assert sizes == {9.0}, name
        save_figure(fig, tmp_path / f"{name}.png")
        _png_ok(tmp_path / f"{name}.png")
        pdf = (tmp_path / f"{name}.pdf").read_bytes()
        assert pdf[:5] == b"%PDF-" and pdf.rstrip().endswith(b"%%EOF")


def test_history_figure_plots_loss_and_every_validation_score(tmp_path):
    """The training run's curves logged to MLflow. Catches: epochs shown 0-based, a validation score left out."""
    from vipant.analysis.figures import history_figure

    history = [
        {"epoch": e, "loss": 4.0 - e, "clips_per_s": 10.0, "val_t2a_R@1": 5.0 + e, "val_a2t_R@1": 4.0 + e}
        for e in range(3)
    ]
    fig = history_figure(history, "AT fine-tuning")
    ax_l, ax_v = fig.axes
    assert np.array_equal(ax_l.get_lines()[0].get_ydata(), [4.0, 3.0, 2.0])
    assert np.array_equal(ax_l.get_lines()[0].get_xdata(), [1, 2, 3])
    assert _legend(ax_v) == ["a2t_R@1", "t2a_R@1"]
    save_figure(fig, tmp_path / "history.png")
    _png_ok(tmp_path / "history.png")
