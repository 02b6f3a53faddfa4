"""The papers' figures as PNG and PDF files (matplotlib, Agg backend, no display needed).

* :func:`figure7` — vip-AnT figure 7: AudioCaps R@1 and zero-shot accuracy against log2 N gold pairs,
  with the log-linear fits and the extrapolation to ESC-50 human parity beside the paper's 2^21;
* :func:`figure5` — vip-AnT figure 5: image→audio label-set precision/recall per VA pretraining epoch,
  CLIP against random initialisation.

Each function returns the matplotlib ``Figure`` (tests read its labels); :func:`save_figure` writes it
atomically as a PNG (for the report) and a vector PDF beside it (for a paper).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # noqa: E402 (before pyplot: never try to open a display)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from vipant.analysis.scaling import EXTRAPOLATED, METRICS, ScalingMetric, fit_from_summary  # noqa: E402
from vipant.atomic import atomic_path  # noqa: E402

X_LABEL = "log2 N (N = gold audio–caption pairs used for fine-tuning)"
MAX_SHOWN_LOG2 = 40  # an extrapolation beyond this is written out, not drawn (the curve would be a dot)
LEGEND_FONTSIZE = 9  # legible when a two-panel figure is shrunk to a paper's text width
MAX_PERCENT = 100.0  # accuracy and recall cannot exceed it; a fit is not drawn past it


def save_figure(fig: "plt.Figure", path: str | os.PathLike[str], dpi: int = 150) -> None:
    """Write ``fig`` as PNG at ``path`` and as PDF beside it (same name, ``.pdf``), each under its final
    name only when complete, then free it."""
    png = os.fspath(path)
    for target, fmt in ((png, "png"), (os.path.splitext(png)[0] + ".pdf", "pdf")):
        with atomic_path(target) as tmp:
            fig.savefig(tmp, dpi=dpi, format=fmt, bbox_inches="tight")
    plt.close(fig)


def _scaling_panel(ax, table: pd.DataFrame, summary: Mapping, metrics: Sequence[ScalingMetric], x_max: float) -> None:
    fitted = table[table["N"] > 0]
    x_obs = fitted["log2_N"].to_numpy(dtype=float)
    for i, m in enumerate(metrics):
        color = f"C{i}"
        ax.plot(x_obs, fitted[m.column], "o", color=color, label=m.label)
        fit = fit_from_summary(summary, m.column)
        xs = np.linspace(x_obs.min(), x_obs.max(), 50)
        ax.plot(
            xs,
            fit.predict(xs),
            "-",
            color=color,
            lw=1.2,
            label=f"fit: {fit.intercept:.1f} {'−' if fit.slope < 0 else '+'} {abs(fit.slope):.2f}·log2 N (± {fit.se_slope:.2f})",
        )
        if m.column == EXTRAPOLATED:
            end = x_max
            if fit.slope > 0:  # stop where the line reaches 100 %: no accuracy lies beyond it
                end = min(end, (MAX_PERCENT - fit.intercept) / fit.slope)
            if end > x_obs.max():
                beyond = np.linspace(x_obs.max(), end, 50)
                ax.plot(beyond, fit.predict(beyond), "--", color=color, lw=1.0, label="fit, extended beyond the data")
        chance = fitted[f"{m.column}_chance"].dropna()
        if len(chance):
            level, label = float(chance.mean()), f"chance ({m.label.split()[0]})"
            drawn = {line.get_label(): line.get_ydata()[0] for line in ax.get_lines()}
            # T→A and A→T share one chance level: one line and one legend entry, not two
            if label in drawn and np.isclose(drawn[label], level):
                continue
            ax.axhline(level, color=color, ls=":", lw=0.8, label=label if label not in drawn else f"chance ({m.label})")


def figure7(table: pd.DataFrame, summary: Mapping) -> "plt.Figure":
    """Figure 7: (a) AudioCaps T→A/A→T R@1, (b) ESC-50/US8K zero-shot accuracy, against log2 N.

    Panel (b) extends the ESC-50 line to human parity and marks both our crossing point (with its
    interval, or the reason there is none) and the paper's estimate.
    """
    ext = summary["extrapolation"]
    paper = summary["paper"]
    fitted = table[table["N"] > 0]
    x_hi = float(fitted["log2_N"].max())
    x_star = ext.get("log2_n")
    shown = x_star is not None and x_star <= MAX_SHOWN_LOG2
    x_max = max(x_hi, float(paper["log2_n"]), x_star if shown else -math.inf) + 1

    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(13, 5.2))
    retrieval = [m for m in METRICS if m.task == "audiocaps_retrieval"]
    zero_shot = [m for m in METRICS if m.task != "audiocaps_retrieval"]
    _scaling_panel(ax_a, table, summary, retrieval, x_hi)
    ax_a.set(title="(a) AudioCaps test retrieval", xlabel=X_LABEL, ylabel="R@1 (%)")
    _scaling_panel(ax_b, table, summary, zero_shot, x_max)
    target = float(ext["target"])
    ax_b.axhline(target, color="k", lw=0.8, ls="-.", label=f"ESC-50 human accuracy ({target:g} %)")
    ax_b.axvline(
        float(paper["log2_n"]), color="grey", lw=1.0, ls="--", label=f"paper's estimate: log2 N ≈ {paper['log2_n']:g}"
    )
    if shown:
        lo, hi = ext["ci_low"], ext["ci_high"]
        ax_b.errorbar(
            [x_star],
            [target],
            xerr=[[x_star - lo], [hi - x_star]],
            fmt="*",
            ms=12,
            color="C2",
            capsize=4,
            label=f"ours: log2 N* = {x_star:.1f} ({ext['level']:.0%} interval)",
        )
    ax_b.set(title="(b) zero-shot classification", xlabel=X_LABEL, ylabel="accuracy (%)")
    ax_b.set_ylim(top=min(ax_b.get_ylim()[1], MAX_PERCENT + 2))
    ax_b.text(
        0.02,
        0.98,
        _wrap(ext["note"], 60),
        transform=ax_b.transAxes,
        va="top",
        fontsize=LEGEND_FONTSIZE,
        bbox={"boxstyle": "round", "fc": "white", "alpha": 0.85},
    )
    for ax in (ax_a, ax_b):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=LEGEND_FONTSIZE, loc="lower right")
    fig.suptitle(f"GC@N few-shot scaling ({len(fitted)} fine-tuned models)")
    fig.tight_layout()
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def figure5(curves: Mapping[str, pd.DataFrame]) -> "plt.Figure":
    """Figure 5: image→audio precision@k and recall@k (relevant = same AudioSet label set) per epoch.

    ``curves`` maps a legend label ("CLIP init", "random init") to :func:`label_set_curves` output.
    Colour tells the initialisation, line style the cut-off k; thin grey lines are chance.
    """
    if not curves:
        raise ValueError("figure 5 needs at least one training history")
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.6), sharex=True)
    styles = ["-", "--", ":", "-."]
    for ax, kind, name in ((axes[0], "P", "precision"), (axes[1], "R", "recall")):
        ks = sorted({int(k) for c in curves.values() for k in c.loc[c["kind"] == kind, "k"]})
        for i, (label, curve) in enumerate(curves.items()):
            for j, k in enumerate(ks):
                part = curve[(curve["kind"] == kind) & (curve["k"] == k)]
                ax.plot(
                    part["epoch"] + 1,
                    part["value"],
                    styles[j % len(styles)],
                    marker="o",
                    ms=3,
                    color=f"C{i}",
                    label=f"{label}, {name}@{k}",
                )
        first = next(iter(curves.values()))
        for j, k in enumerate(ks):
            part = first[(first["kind"] == kind) & (first["k"] == k)]
            ax.plot(
                part["epoch"] + 1,
                part["chance"],
                styles[j % len(styles)],
                color="grey",
                lw=0.8,
                label=f"chance, {name}@{k}",
            )
        ax.set(
            xlabel="VA pretraining epoch",
            ylabel=f"image→audio {name}@k (%)",
            title=f"{name.capitalize()}@k, relevant = same AudioSet label set",
        )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(
            fontsize=LEGEND_FONTSIZE, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3
        )  # below: never over the data
    fig.suptitle("Image→audio retrieval on held-out AudioSet clips per VA pretraining epoch")
    fig.tight_layout()
    return fig


def history_figure(history: Sequence[Mapping[str, float]], title: str = "training") -> "plt.Figure":
    """A training run's curves per epoch: (a) the training loss, (b) every validation score (``val_*``),
    from the ``history.json`` records the training loop writes (logged with the run to MLflow)."""
    if not history:
        raise ValueError("history_figure needs at least one epoch")
    epochs = [int(r["epoch"]) + 1 for r in history]
    fig, (ax_l, ax_v) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax_l.plot(epochs, [r["loss"] for r in history], "o-", ms=3)
    ax_l.set(xlabel="epoch", ylabel="training loss", title="(a) loss")
    keys = sorted({k for r in history for k in r if k.startswith("val_")})
    for i, key in enumerate(keys):
        ax_v.plot(epochs, [r.get(key, math.nan) for r in history], "o-", ms=3, color=f"C{i % 10}", label=key[4:])
    ax_v.set(xlabel="epoch", ylabel="validation score (%)", title="(b) validation")
    for ax in (ax_l, ax_v):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    if keys:
        ax_v.legend(fontsize=LEGEND_FONTSIZE, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(title)
    fig.tight_layout()
    return fig
