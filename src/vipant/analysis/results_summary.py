"""``results/RESULTS.md``: a run's result tables as one Markdown page, written from the tables' files.

The page is generated, never typed: every number in it is read from a table CSV (itself built only from
``metrics.json`` files), from ``scaling.json`` or from ``coverage.csv``. A table CSV names its columns
``<label>``, ``<label> (paper)``, ``<label> (chance)``, ``<label> (p)``, ``<label> ±`` and ``<label> ± (paper)``
(``vipant.tables``); a column group here is one ``<label>`` with whichever of those it has. Each cell shows
ours, then the paper's value in brackets; the p-value of ours against chance follows when evaluation
shuffled, and ours is bold when p ≤ ``ALPHA``. Chance gets a row of its own when it is the same for every
model of a column, else it is written in the cell.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

#: p-value at or below which ours is shown in bold (above chance).
ALPHA = 0.01

#: Titles of the tables a run can build, in the order the page lists them (file stem -> title).
TITLES: dict[str, str] = {
    "coverage": "Data coverage: share of each split that survived download and decoding",
    "table3": "vip-AnT Table 3: audio-text retrieval (AudioCaps test, Clotho evaluation)",
    "table4": "vip-AnT Table 4: zero-shot classification",
    "table8": "vip-AnT Table 8: Clotho retrieval with 10 s and 18 s inputs",
    "table7": "vip-AnT Table 7 (appendix C): supervised classification with a linear head",
    "table_vat": "vip-AnT appendix E: VAT against AT fine-tuning",
    "figure10": "vip-AnT figure 10 (appendix F): pivotability",
    "scaling": "vip-AnT figure 7: few-shot scaling of AT fine-tuning on N gold pairs",
    "temporal_table3": "Follow-up A Table III: audio-image retrieval by frame-matching variant",
    "temporal_table4": "Follow-up A Table IV: AudioCaps retrieval after AT fine-tuning",
    "curation_table2": "Follow-up B Table 2: teacher curation and soft labels, zero-shot accuracy",
    "curation_table3": "Follow-up B Table 3: a teacher trained on 10 % of the gold pairs",
}

_SUFFIXES = {  # column-name suffix -> field of ColumnGroup; longest first so "± (paper)" wins over "(paper)"
    " ± (paper)": "paper_sd",
    " std (paper)": "paper_sd",
    " (paper)": "paper",
    " (chance)": "chance",
    " (p)": "p",
    " ±": "ours_sd",
    " std": "ours_sd",
}


@dataclass
class ColumnGroup:
    """The columns of one reported quantity: ours and, where the table has them, paper, chance, p, ±."""

    label: str
    ours: str | None = None
    ours_sd: str | None = None
    paper: str | None = None
    paper_sd: str | None = None
    chance: str | None = None
    p: str | None = None


def _split(column: str) -> tuple[str, str]:
    for suffix, field in _SUFFIXES.items():
        if column.endswith(suffix):
            return column[: -len(suffix)], field
    return column, "ours"


def column_groups(columns: Iterable[str], key_columns: Sequence[str] = ("Model",)) -> list[ColumnGroup]:
    """Group a table's columns by label, in the order labels first appear; ``key_columns`` are skipped.

    A ``<label> std`` column without a ``<label>`` column of its own is a quantity, not a spread."""
    columns = [c for c in columns if c not in key_columns]
    plain = {c for c in columns if _split(c)[1] == "ours"}
    groups: dict[str, ColumnGroup] = {}
    for column in columns:
        label, field = _split(column)
        if field in ("ours_sd", "paper_sd") and label not in plain and column.endswith(("std", "std (paper)")):
            # e.g. table 7's "ESC50 acc std" is paired with "ESC50 acc"; a lone "x std" stays its own column
            label, field = (column, "ours") if field == "ours_sd" else (column.removesuffix(" (paper)"), "paper")
        group = groups.setdefault(label, ColumnGroup(label))
        if getattr(group, field) is not None:
            raise ValueError(f"two columns for {label!r} {field}: {getattr(group, field)!r} and {column!r}")
        setattr(group, field, column)
    return list(groups.values())


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: Any) -> str:
    """A table value as written in the CSV's precision: up to 2 decimals, trailing zeros dropped; "–" if empty."""
    if _missing(value):
        return "–"
    if isinstance(value, str):
        return value
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def p_value(value: float) -> str:
    return "p < 0.001" if value < 0.001 else f"p {value:.3f}"


def _with_sd(value: Any, sd: Any) -> str:
    return number(value) if _missing(sd) or _missing(value) else f"{number(value)} ± {number(sd)}"


def _constant(series: pd.Series) -> bool:
    values = series.dropna().unique()
    return len(values) <= 1


def format_cell(row: Mapping[str, Any], group: ColumnGroup, chance_inline: bool) -> str:
    """One cell: ``ours [± sd]`` (bold when its p ≤ ALPHA) ``[paper]``, ``p ...``, ``chance ...`` if inline."""
    ours = _with_sd(row.get(group.ours), row.get(group.ours_sd) if group.ours_sd else None)
    p = row.get(group.p) if group.p else None
    if not _missing(p) and p <= ALPHA and ours != "–":
        ours = f"**{ours}**"
    parts = [ours]
    if group.paper:
        parts.append(f"[{_with_sd(row.get(group.paper), row.get(group.paper_sd) if group.paper_sd else None)}]")
    extras = []
    if not _missing(p):
        extras.append(p_value(float(p)))
    if chance_inline and group.chance and not _missing(row.get(group.chance)):
        extras.append(f"chance {number(row.get(group.chance))}")
    if extras:
        parts.append(f"({', '.join(extras)})")
    return " ".join(parts)


def _markdown_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def paper_table(table: pd.DataFrame, key: str = "Model") -> str:
    """A table with paper columns as Markdown: one column per quantity, a chance row where chance is shared."""
    if key not in table.columns:
        raise ValueError(f"table has no {key!r} column: {list(table.columns)}")
    groups = column_groups(table.columns, key_columns=(key,))
    inline = {g.label: bool(g.chance) and not _constant(table[g.chance]) for g in groups}
    lines = [_markdown_row([key, *[g.label for g in groups]]), _markdown_row(["---"] * (len(groups) + 1))]
    if any(g.chance and not inline[g.label] for g in groups):
        chance_cells = [
            number(table[g.chance].dropna().iloc[0])
            if g.chance and not inline[g.label] and table[g.chance].notna().any()
            else ""
            for g in groups
        ]
        lines.append(_markdown_row(["*chance*", *chance_cells]))
    for record in table.to_dict("records"):
        lines.append(_markdown_row([str(record[key]), *[format_cell(record, g, inline[g.label]) for g in groups]]))
    return "\n".join(lines)


def plain_table(table: pd.DataFrame, columns: Sequence[str] | None = None) -> str:
    """Any table as Markdown, values in the CSV's precision (coverage, pivotability, scaling points)."""
    columns = list(columns or table.columns)
    lines = [_markdown_row(columns), _markdown_row(["---"] * len(columns))]
    for record in table[columns].to_dict("records"):
        lines.append(
            _markdown_row([number(record[c]) if not isinstance(record[c], str) else record[c] for c in columns])
        )
    return "\n".join(lines)


def scaling_fits(scaling: Mapping[str, Any]) -> str:
    """``scaling.json``'s least-squares fits y = a + b·log2 N as a table, and the human-parity extrapolation."""
    lines = [
        _markdown_row(["score", "slope b per doubling ± SE", "95 % interval of b", "points"]),
        _markdown_row(["---"] * 4),
    ]
    for name, fit in sorted(scaling.get("fits", {}).items()):
        slope, se, dof = fit.get("slope"), fit.get("se_slope"), fit.get("dof")
        interval = "–"
        if not _missing(slope) and not _missing(se) and dof:
            from scipy import stats

            half = float(stats.t.ppf(0.975, dof)) * float(se)
            interval = f"{number(slope - half)} to {number(slope + half)}"
        lines.append(_markdown_row([name, _with_sd(slope, se), interval, number(fit.get("n_points"))]))
    extrapolation = scaling.get("extrapolation") or {}
    if extrapolation:
        if _missing(extrapolation.get("log2_n")):
            lines.append(
                f"\nHuman parity ({number(extrapolation.get('target'))} % on {extrapolation.get('metric')}): "
                f"{extrapolation.get('note') or 'not extrapolated'}."
            )
        else:
            lines.append(
                f"\nHuman parity ({number(extrapolation.get('target'))} % on {extrapolation.get('metric')}) "
                f"at log2 N = {_with_sd(extrapolation['log2_n'], extrapolation.get('se_log2_n'))} "
                f"({number(extrapolation.get('level', 0.95) * 100)} % interval "
                f"{number(extrapolation.get('ci_low'))} to {number(extrapolation.get('ci_high'))})."
            )
    return "\n".join(lines)


@dataclass(frozen=True)
class Direction:
    """One comparison a paper reports, checked on this run: ``holds`` is None when a value is missing."""

    claim: str
    ours: str
    holds: bool | None


def _row(table: pd.DataFrame, model: str) -> Mapping[str, Any] | None:
    rows = table[table[table.columns[0]] == model]
    return None if rows.empty else rows.iloc[0].to_dict()


def _value(row: Mapping[str, Any] | None, column: str) -> float | None:
    if row is None or column not in row or _missing(row[column]):
        return None
    return float(row[column])


def _above_chance(table: pd.DataFrame, model: str, columns: Sequence[str], where: str) -> list[Direction]:
    row = _row(table, model)
    out = []
    for column in columns:
        ours, p = _value(row, column), _value(row, f"{column} (p)")
        text = "–"
        if ours is not None:
            chance = number(_value(row, f"{column} (chance)"))
            text = f"{number(ours)} (chance {chance}, {'no p-value' if p is None else p_value(p)})"
        claim = f"{model} above chance (p ≤ {ALPHA}): {where + ' ' if where else ''}{column}"
        out.append(Direction(claim, text, None if p is None else p <= ALPHA))
    return out


def _ahead(
    table: pd.DataFrame, better: str, worse: str, columns: Sequence[str], where: str, or_equal: bool = False
) -> list[Direction]:
    a_row, b_row = _row(table, better), _row(table, worse)
    out = []
    for column in columns:
        a, b = _value(a_row, column), _value(b_row, column)
        holds = None if a is None or b is None else (a >= b if or_equal else a > b)
        claim = f"{better} {'≥' if or_equal else '>'} {worse}: {where + ' ' if where else ''}{column}"
        out.append(Direction(claim, f"{number(a)} vs {number(b)}", holds))
    return out


def directions(tables: Mapping[str, pd.DataFrame], scaling: Mapping[str, Any] | None = None) -> list[Direction]:
    """The directions the three papers report, each checked on the tables this run built (a comparison whose
    table is absent is left out). They are the claims a world smaller than the papers' can still show."""
    out: list[Direction] = []
    retrieval = ["AudioCaps T→A R@10", "AudioCaps A→T R@10", "Clotho T→A R@10", "Clotho A→T R@10"]
    if "table3" in tables:
        t3 = tables["table3"]
        out += _above_chance(t3, "vip-AnT", retrieval, "")
        out += _ahead(t3, "+AT w/ GC", "vip-AnT", ["AudioCaps T→A R@10", "AudioCaps A→T R@10"], "")
        out += _ahead(t3, "+AT w/ GC", "+AT w/ AC", ["AudioCaps T→A R@10"], "")
        out += _ahead(t3, "+AT w/ AC", "+AT w/ RC", ["AudioCaps T→A R@10"], "")
        out += _ahead(t3, "OracleAV-CLIP", "vip-AnT", ["AudioCaps T→A R@10", "AudioCaps A→T R@10"], "")
    if "table4" in tables:
        t4 = tables["table4"]
        zero_shot = ["ESC50", "US8K", "AS"]
        out += _above_chance(t4, "vip-AnT", zero_shot, "zero-shot")
        out += _ahead(t4, "vip-AnT", "VA-Rand", zero_shot, "zero-shot")
    if scaling is not None:
        from scipy import stats

        for name, fit in sorted(scaling.get("fits", {}).items()):
            slope, se, dof = fit.get("slope"), fit.get("se_slope"), fit.get("dof")
            if _missing(slope) or _missing(se) or not dof:
                out.append(Direction(f"few-shot scaling: {name} rises with log2 N (95 % interval > 0)", "–", None))
                continue
            low = slope - float(stats.t.ppf(0.975, dof)) * se
            out.append(
                Direction(
                    f"few-shot scaling: {name} rises with log2 N (95 % interval > 0)",
                    f"b = {number(slope)} per doubling, interval from {number(low)}",
                    bool(low > 0),
                )
            )
    if "temporal_table4" in tables:
        t4 = tables["temporal_table4"]
        for model in (m for m in t4["Model"] if str(m).startswith("Nearest Match")):
            out += _ahead(t4, model, "VIP-ANT (reproduction)", ["A→T R@1", "A→T R@10"], "AudioCaps", or_equal=True)
    if "temporal_table3" in tables:
        out += _ahead(
            tables["temporal_table3"],
            "Multiframe Match",
            "VIP-ANT (reproduction)",
            ["A→I R@1", "A→I R@5"],
            "AudioSet",
            or_equal=True,
        )
    if "curation_table2" in tables:
        out += _ahead(tables["curation_table2"], "DS+SL", "DS", ["ESC-50", "US8K", "TUT17"], "zero-shot")
    return out


def directions_table(found: Sequence[Direction]) -> str:
    verdict = {True: "yes", False: "**no**", None: "–"}
    lines = [_markdown_row(["direction", "this run", "holds"]), _markdown_row(["---"] * 3)]
    lines += [_markdown_row([d.claim, d.ours, verdict[d.holds]]) for d in found]
    held = sum(d.holds is True for d in found)
    checked = sum(d.holds is not None for d in found)
    return "\n".join(lines) + f"\n\n{held} of {checked} checked directions hold."


def _legend(has_p: bool) -> str:
    text = "Each cell: ours, then the paper's value in [brackets]"
    if has_p:
        text += f"; (p …) is the permutation p-value of ours against chance, and ours is **bold** when p ≤ {ALPHA}"
    return text + ". ± is the sample standard deviation over seeds (ours) or as the paper reports it."


def provenance(commit: str, score_commits: Sequence[str | None]) -> str:
    """Whether the scores were computed by the page's code: ``score_commits`` holds the commit each of the
    tables' metrics.json files records (None where it records none). A cache filled at another commit and
    reused by this one would otherwise put its scores under this commit's name."""
    if not score_commits:
        return ""
    counts = Counter(c or "not recorded" for c in score_commits)
    if set(counts) == {commit}:
        return f"All {len(score_commits)} metrics files behind the tables were written at this commit."
    others = ", ".join(f"`{c}` ({n})" for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c != commit)
    return (
        f"**Not every score is this commit's**: {len(score_commits) - counts.get(commit, 0)} of the "
        f"{len(score_commits)} metrics files behind the tables were written by other code ({others}), cached "
        "by an earlier run. Rerun their jobs (`snakemake --forcerun evaluate ...`) for a page of one commit."
    )


def render(
    tables: Mapping[str, pd.DataFrame],
    *,
    preset: str,
    commit: str,
    scaling: Mapping[str, Any] | None = None,
    figures: Sequence[str] = (),
    score_commits: Sequence[str | None] = (),
) -> str:
    """The whole page: a header naming the preset and commit (and, given ``score_commits``, whether the
    scores are that commit's: :func:`provenance`), then each table under its title, in ``TITLES`` order
    (tables with other names follow, alphabetically), then the figures."""
    unknown = sorted(set(tables) - set(TITLES))
    order = [name for name in TITLES if name in tables] + unknown
    has_p = any(c.endswith(" (p)") for t in tables.values() for c in t.columns)
    out = [
        "# Results",
        "",
        f"Preset `{preset}`, code at commit `{commit}`. Generated by `vipant results-summary` from the files "
        "under `results/`; every score comes from an `eval/<model>/<task>/metrics.json`. "
        "`docs/tables.md` says how each table is built.",
        "",
        _legend(has_p),
    ]
    origin = provenance(commit, score_commits)
    if origin:
        out[4:4] = [origin, ""]
    found = directions(tables, scaling)
    if found:
        out += [
            "",
            "## The papers' directions on this run",
            "",
            "Each comparison the papers report, checked on the tables below (on means over seeds where a table "
            "has several; – where a table lacks the row or the value).",
            "",
            directions_table(found),
        ]
    for name in order:
        table = tables[name]
        if name == "coverage":  # a failure reason no clip had says nothing
            table = table.drop(columns=[c for c in table.columns if c.startswith("failed_") and not table[c].any()])
        out += ["", f"## {TITLES.get(name, name)}", "", f"`results/{name}.csv`", ""]
        if name == "scaling":
            out.append(plain_table(table))
            if scaling is not None:
                out += ["", scaling_fits(scaling)]
        elif any(c.endswith(" (paper)") for c in table.columns):
            out.append(paper_table(table))
        else:
            out.append(plain_table(table))
    if figures:
        out += ["", "## Figures", ""]
        out += [f"![{name}]({name})" for name in figures]
    return "\n".join(out) + "\n"
