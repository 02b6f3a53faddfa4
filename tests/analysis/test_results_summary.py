import math

import pandas as pd
import pytest

from vipant.analysis.results_summary import (
    ALPHA,
    ColumnGroup,
    column_groups,
    directions,
    format_cell,
    number,
    paper_table,
    provenance,
    render,
    scaling_fits,
)
from vipant.commands.results_summary import run as run_command
from vipant.tables import write_metrics


def table3_like() -> pd.DataFrame:
    # every value distinct, so a cell that shows the wrong column is visible
    return pd.DataFrame(
        {
            "Model": ["VA-Rand", "vip-AnT"],
            "T→A R@1": [3.2, 7.5],
            "T→A R@1 (paper)": [1.3, 0.8],
            "T→A R@1 (chance)": [2.3, 2.3],
            "T→A R@1 (p)": [0.3, 0.005],
            "A→T R@10": [22.7, 40.1],
            "A→T R@10 (paper)": [24.5, 38.1],
            "A→T R@10 (chance)": [20.9, 21.9],
            "A→T R@10 (p)": [0.14, math.nan],
        }
    )


def rows(markdown: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in markdown.splitlines()]


def test_columns_group_by_label_and_suffix():
    groups = column_groups(["Model", "x", "x ±", "x (paper)", "x ± (paper)", "x (chance)", "x (p)", "y", "y (paper)"])
    assert groups == [
        ColumnGroup(
            "x", ours="x", ours_sd="x ±", paper="x (paper)", paper_sd="x ± (paper)", chance="x (chance)", p="x (p)"
        ),
        ColumnGroup("y", ours="y", paper="y (paper)"),
    ]


def test_a_std_column_pairs_with_its_quantity_and_a_lone_one_stays_a_column():
    groups = column_groups(["Model", "acc", "acc (paper)", "acc std", "acc std (paper)", "spread std"])
    assert groups[0] == ColumnGroup(
        "acc", ours="acc", ours_sd="acc std", paper="acc (paper)", paper_sd="acc std (paper)"
    )
    assert groups[1] == ColumnGroup("spread std", ours="spread std")


def test_two_columns_for_one_slot_are_refused():
    with pytest.raises(ValueError, match="two columns for 'x'"):
        column_groups(["x (paper)", "x std (paper)", "x", "x ±", "x std"])


def test_cells_show_ours_then_the_papers_value_and_bold_only_at_or_below_alpha():
    group = ColumnGroup("x", ours="x", paper="x (paper)", chance="x (chance)", p="x (p)")
    assert (
        format_cell({"x": 3.2, "x (paper)": 1.3, "x (chance)": 2.3, "x (p)": 0.3}, group, False)
        == "3.2 [1.3] (p 0.300)"
    )
    assert format_cell({"x": 7.5, "x (paper)": 0.8, "x (p)": ALPHA}, group, False) == "**7.5** [0.8] (p 0.010)"
    assert format_cell({"x": 7.5, "x (paper)": 0.8, "x (p)": 0.0004}, group, False) == "**7.5** [0.8] (p < 0.001)"
    # no p-value: never bold; no paper value: a dash in the brackets
    assert format_cell({"x": 7.5, "x (paper)": math.nan, "x (p)": math.nan}, group, False) == "7.5 [–]"
    assert format_cell({"x": 7.5, "x (paper)": 1.0, "x (chance)": 2.0}, group, True) == "7.5 [1] (chance 2)"


def test_spreads_follow_their_values():
    group = ColumnGroup("x", ours="x", ours_sd="x ±", paper="x (paper)", paper_sd="x ± (paper)")
    assert (
        format_cell({"x": 6.25, "x ±": 0.5, "x (paper)": 10.94, "x ± (paper)": 0.06}, group, False)
        == "6.25 ± 0.5 [10.94 ± 0.06]"
    )


def test_paper_table_rows_keep_the_csv_order_and_chance_gets_a_row_only_when_shared():
    table = rows(paper_table(table3_like()))
    assert table[0] == ["Model", "T→A R@1", "A→T R@10"]
    # T→A's chance is the same for both models: in the chance row; A→T's differs: written in each cell
    assert table[2] == ["*chance*", "2.3", ""]
    assert table[3] == ["VA-Rand", "3.2 [1.3] (p 0.300)", "22.7 [24.5] (p 0.140, chance 20.9)"]
    assert table[4] == ["vip-AnT", "**7.5** [0.8] (p 0.005)", "40.1 [38.1] (chance 21.9)"]


def test_numbers_keep_the_csv_precision():
    assert [number(v) for v in (25.0, 6.25, 0.9166, -0.0, math.nan, None)] == ["25", "6.25", "0.92", "0", "–", "–"]


def test_scaling_fits_give_the_t_interval_of_the_slope():
    fits = {
        "fits": {"esc50_acc": {"slope": 2.0, "se_slope": 0.5, "dof": 3, "n_points": 5}},
        "extrapolation": {
            "log2_n": 20.5,
            "se_log2_n": 1.5,
            "ci_low": 17.5,
            "ci_high": 23.5,
            "level": 0.95,
            "metric": "esc50_acc",
            "target": 81.0,
        },
    }
    text = scaling_fits(fits)
    # t(0.975, 3) = 3.182: 2 ± 1.591
    assert "| esc50_acc | 2 ± 0.5 | 0.41 to 3.59 | 5 |" in text
    assert "at log2 N = 20.5 ± 1.5 (95 % interval 17.5 to 23.5)" in text


def test_scaling_without_extrapolation_says_why():
    text = scaling_fits(
        {
            "fits": {},
            "extrapolation": {
                "log2_n": None,
                "metric": "esc50_acc",
                "target": 81.0,
                "note": "the fitted slope is not positive",
            },
        }
    )
    assert "Human parity (81 % on esc50_acc): the fitted slope is not positive." in text


def test_page_names_preset_and_commit_and_orders_tables_as_the_papers():
    tables = {
        "zz_extra": pd.DataFrame({"a": [1]}),
        "table4": table3_like(),
        "table3": table3_like(),
        "coverage": pd.DataFrame(
            {"dataset": ["esc50"], "coverage": [1.0], "failed_network": [0], "failed_silent": [2]}
        ),
    }
    page = render(tables, preset="synthetic", commit="abc123", figures=["figure7.png"])
    assert "Preset `synthetic`, code at commit `abc123`" in page
    headings = [line for line in page.splitlines() if line.startswith("## ")]
    assert [h.split(":")[0] for h in headings] == [
        "## The papers' directions on this run",
        "## Data coverage",
        "## vip-AnT Table 3",
        "## vip-AnT Table 4",
        "## zz_extra",
        "## Figures",
    ]
    # a failure reason no clip had is dropped, one that happened is kept
    assert "failed_network" not in page and "failed_silent" in page
    assert page.endswith("![figure7.png](figure7.png)\n")


def test_the_page_says_whether_its_commit_computed_the_scores():
    assert provenance("abc", []) == ""  # no metrics files given: nothing to say
    assert provenance("abc", ["abc"] * 3) == "All 3 metrics files behind the tables were written at this commit."
    mixed = provenance("abc", ["abc", "old1", "old2", "old1", None])
    # the other commits, most scores first, and files that record none: a stale cache shows
    assert mixed.startswith("**Not every score is this commit's**: 4 of the 5 metrics files")
    assert mixed.index("`old1` (2)") < mixed.index("`not recorded` (1)") < mixed.index("`old2` (1)")
    assert "`abc`" not in mixed
    page = render({"table3": table3_like()}, preset="synthetic", commit="abc", score_commits=["old1"])
    header = page.split("## ")[0]
    assert "**Not every score is this commit's**: 1 of the 1" in header


def test_command_writes_the_page_and_names_a_bad_table(tmp_path, monkeypatch):
    monkeypatch.setenv("VIPANT_GIT_COMMIT", "deadbeef")
    good = tmp_path / "table3.csv"
    table3_like().to_csv(good, index=False)
    out = tmp_path / "RESULTS.md"

    scores = tmp_path / "metrics.json"
    write_metrics(scores, "vipant", "esc50_zs", {"acc_prompt": 7.5}, {"acc": 2.0}, n=40, commit="deadbeef")

    class Args:
        tables = [str(good)]
        preset, scaling_json, figure = "synthetic", None, []
        metrics = [str(scores)]

    Args.out = str(out)
    run_command(Args)
    assert "commit `deadbeef`" in out.read_text() and "**7.5** [0.8]" in out.read_text()
    assert "All 1 metrics files behind the tables were written at this commit." in out.read_text()
    empty = tmp_path / "table4.csv"
    empty.write_text("")
    Args.tables = [str(good), str(empty)]
    with pytest.raises(ValueError, match="table4.csv: not a readable table CSV"):
        run_command(Args)
    Args.tables = [str(good), str(good)]
    with pytest.raises(ValueError, match="given twice"):
        run_command(Args)


def retrieval_table(rows: dict[str, tuple[float, float]], p: float = 0.5) -> pd.DataFrame:
    """A table 3 with AudioCaps T→A / A→T R@10 per model (Clotho columns empty), chance 10."""
    table = {"Model": list(rows)}
    for i, column in enumerate(["AudioCaps T→A R@10", "AudioCaps A→T R@10"]):
        table[column] = [v[i] for v in rows.values()]
        table[f"{column} (chance)"] = [10.0] * len(rows)
        table[f"{column} (p)"] = [p] * len(rows)
    return pd.DataFrame(table)


def verdicts(found) -> dict[str, bool | None]:
    return {d.claim: d.holds for d in found}


def test_directions_compare_the_named_rows_in_the_papers_direction():
    t3 = retrieval_table(
        {
            "vip-AnT": (20.0, 30.0),
            "+AT w/ GC": (40.0, 25.0),
            "+AT w/ AC": (30.0, 1.0),
            "+AT w/ RC": (35.0, 1.0),
            "OracleAV-CLIP": (60.0, 50.0),
        }
    )
    found = verdicts(directions({"table3": t3}))
    assert found["+AT w/ GC > vip-AnT: AudioCaps T→A R@10"] is True
    assert found["+AT w/ GC > vip-AnT: AudioCaps A→T R@10"] is False  # 25 < 30: reversed rows would say True
    assert found["+AT w/ GC > +AT w/ AC: AudioCaps T→A R@10"] is True
    assert found["+AT w/ AC > +AT w/ RC: AudioCaps T→A R@10"] is False
    assert found["OracleAV-CLIP > vip-AnT: AudioCaps A→T R@10"] is True
    # p 0.5: not above chance; the Clotho columns are absent: unknown, not failed
    assert found["vip-AnT above chance (p ≤ 0.01): AudioCaps T→A R@10"] is False
    assert found["vip-AnT above chance (p ≤ 0.01): Clotho A→T R@10"] is None


def test_above_chance_is_read_from_the_models_own_p_value():
    t3 = retrieval_table({"VA-Rand": (50.0, 50.0), "vip-AnT": (20.0, 30.0)})
    t3.loc[t3["Model"] == "VA-Rand", "AudioCaps T→A R@10 (p)"] = 0.001  # another row's p must not count
    t3.loc[t3["Model"] == "vip-AnT", "AudioCaps A→T R@10 (p)"] = 0.01
    found = verdicts(directions({"table3": t3}))
    assert found["vip-AnT above chance (p ≤ 0.01): AudioCaps T→A R@10"] is False
    assert found["vip-AnT above chance (p ≤ 0.01): AudioCaps A→T R@10"] is True


def test_follow_up_directions_allow_ties_where_the_papers_say_at_or_above():
    t4 = pd.DataFrame(
        {
            "Model": ["VIP-ANT (reproduction)", "Nearest Match (n = 5)", "Multiframe Match"],
            "A→T R@1": [10.0, 10.0, 9.0],
            "A→T R@10": [50.0, 40.0, 60.0],
        }
    )
    t3 = pd.DataFrame(
        {"Model": ["VIP-ANT (reproduction)", "Multiframe Match"], "A→I R@1": [5.0, 6.0], "A→I R@5": [20.0, 19.0]}
    )
    c2 = pd.DataFrame(
        {"Model": ["DS", "DS+SL"], "ESC-50": [30.0, 31.0], "US8K": [math.nan, math.nan], "TUT17": [40.0, 40.0]}
    )
    found = verdicts(directions({"temporal_table4": t4, "temporal_table3": t3, "curation_table2": c2}))
    assert found["Nearest Match (n = 5) ≥ VIP-ANT (reproduction): AudioCaps A→T R@1"] is True
    assert found["Nearest Match (n = 5) ≥ VIP-ANT (reproduction): AudioCaps A→T R@10"] is False
    assert "Multiframe Match ≥ VIP-ANT (reproduction): AudioCaps A→T R@1" not in found  # not a Nearest row
    assert found["Multiframe Match ≥ VIP-ANT (reproduction): AudioSet A→I R@1"] is True
    assert found["Multiframe Match ≥ VIP-ANT (reproduction): AudioSet A→I R@5"] is False
    assert found["DS+SL > DS: zero-shot ESC-50"] is True
    assert found["DS+SL > DS: zero-shot US8K"] is None
    assert found["DS+SL > DS: zero-shot TUT17"] is False  # strictly above


def test_scaling_direction_needs_the_whole_interval_above_zero():
    fits = {
        "fits": {
            "rising": {"slope": 2.0, "se_slope": 0.5, "dof": 3},  # interval 0.41 to 3.59
            "unsure": {"slope": 2.0, "se_slope": 1.0, "dof": 3},
        }
    }  # interval -1.18 to 5.18
    found = verdicts(directions({}, fits))
    assert found["few-shot scaling: rising rises with log2 N (95 % interval > 0)"] is True
    assert found["few-shot scaling: unsure rises with log2 N (95 % interval > 0)"] is False


def test_page_counts_the_directions_that_hold():
    t3 = retrieval_table({"vip-AnT": (20.0, 30.0), "+AT w/ GC": (40.0, 25.0)}, p=0.001)
    page = render({"table3": t3}, preset="synthetic", commit="abc")
    section = page.split("## The papers' directions on this run")[1].split("\n## ")[0]
    assert "| vip-AnT above chance (p ≤ 0.01): AudioCaps T→A R@10 | 20 (chance 10, p 0.001) | yes |" in section
    assert "| +AT w/ GC > vip-AnT: AudioCaps A→T R@10 | 25 vs 30 | **no** |" in section
    assert "3 of 4 checked directions hold." in section
