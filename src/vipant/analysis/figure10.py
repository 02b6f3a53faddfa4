"""vip-AnT figure 10 (appendix F): tri-modal pivotability against k, one curve per model, from the
``audiocaps_pivotability`` metrics.json files (never from embeddings), plus the same numbers as a CSV.

Solid lines follow the appendix's protocol (the clip's own frame is among the candidate images), dashed
lines the stricter variant without it, the dotted grey line the exact chance of random image retrieval.
The paper gives figure 10 as a plot only (no numbers in its text), so no paper value can be marked.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import pandas as pd

from vipant.atomic import atomic_path
from vipant.paper_values import ROW_NAMES
from vipant.tables import MetricsFileError, MetricsRecord

log = logging.getLogger(__name__)

TASK = "audiocaps_pivotability"
ORDER = ("vipant", "at_RC", "at_GC", "oracle_av_clip")  # the appendix's three models, then the frame-as-query reference
NAMES = {
    **ROW_NAMES,
    "at_RC": "+AT (w/ RC)",
    "at_GC": "+AT (w/ GC)",
    "oracle_av_clip": "OracleAV-CLIP (own frame as the query)",
}
_KEY = re.compile(r"^(?P<tag>pivotability|pivotability_other_images)@(?P<k>\d+)$")


def figure10_data(records: Mapping[tuple[str, str], MetricsRecord]) -> pd.DataFrame:
    """Long table: one row per (model, k) with both protocols and their chance values."""
    rows: dict[tuple[str, int], dict] = {}
    models = [m for (m, t) in records if t == TASK]
    if not models:
        raise MetricsFileError(f"figure10: no metrics file of task {TASK!r} among {len(records)} given")
    order = [m for m in ORDER if m in models] + sorted(set(models) - set(ORDER))
    for model in order:
        rec = records[model, TASK]
        for key, value in rec.metrics.items():
            m = _KEY.match(key)
            if m is None:
                continue
            row = rows.setdefault(
                (model, int(m["k"])), {"model": model, "name": NAMES.get(model, model), "k": int(m["k"])}
            )
            row[m["tag"]] = value
            row[f"{m['tag']}_chance"] = rec.chance.get(key, float("nan"))
        if not any(r["model"] == model for r in rows.values()):
            raise MetricsFileError(f"{rec.path}: no pivotability@k metrics")
    columns = [
        "model",
        "name",
        "k",
        "pivotability",
        "pivotability_chance",
        "pivotability_other_images",
        "pivotability_other_images_chance",
    ]
    data = pd.DataFrame(list(rows.values())).reindex(columns=columns)
    data["model"] = pd.Categorical(data["model"], categories=order, ordered=True)
    return data.sort_values(["model", "k"]).reset_index(drop=True).assign(model=lambda d: d["model"].astype(str))


def plot_figure10(data: pd.DataFrame, path) -> None:
    """Write the figure as a PNG (atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, ax = plt.subplots(figsize=(8.4, 4.6), dpi=120)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    handles = []
    for i, (model, part) in enumerate(data.groupby("model", sort=False)):
        colour = colours[i % len(colours)]
        handles += ax.plot(
            part["k"], part["pivotability"], "-o", color=colour, markersize=4, label=part["name"].iloc[0]
        )
        other = part.dropna(subset=["pivotability_other_images"])
        ax.plot(other["k"], other["pivotability_other_images"], "--", color=colour, linewidth=1)
    chance = data.drop_duplicates("k").sort_values("k")  # chance depends on the images and captions only
    handles += ax.plot(
        chance["k"], chance["pivotability_chance"], ":", color="grey", linewidth=1.5, label="chance (random images)"
    )
    handles.append(Line2D([], [], color="black", linestyle="--", linewidth=1, label="dashed: own frame excluded"))
    top = float(data[["pivotability", "pivotability_other_images", "pivotability_chance"]].max().max())
    ax.set_ylim(0, min(1.0, top * 1.15 + 0.05))
    ax.set_xlim(0, data["k"].max() * 1.03)
    ax.set_xlabel("k (images retrieved per audio clip)")
    ax.set_ylabel("pivotability (share of gold captions found, 0–1)")
    ax.set_title("Tri-modal pivotability, AudioCaps test (vip-AnT fig. 10; the paper gives no numbers)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
