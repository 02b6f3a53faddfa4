"""results/RESULTS.md on the tiny world: built by the workflow from the tables the run made, in both scopes."""

import re

import pandas as pd
import pytest

from vipant.analysis.results_summary import TITLES, number

pytestmark = pytest.mark.workflow

TARGETS = ("results/RESULTS.md",)
DIRECTIONS = "The papers' directions on this run"


@pytest.fixture(scope="module")
def run(tiny_followups):
    """The tiny run with TARGETS built (with the other follow-up modules' targets, in one invocation)."""
    return tiny_followups


def sections(page: str) -> dict[str, str]:
    parts = re.split(r"^## ", page, flags=re.M)[1:]
    return {part.split("\n", 1)[0]: part for part in parts}


def cells(section: str, row: str) -> list[str]:
    line = next(line for line in section.splitlines() if line.startswith(f"| {row} |"))
    return [c.strip() for c in line.strip("|").split(" | ")]


def test_all_scope_lists_every_table_of_the_run_with_its_own_values(run):
    page = (run / "results" / "RESULTS.md").read_text()
    found = sections(page)
    csvs = sorted(p.stem for p in (run / "results").glob("*.csv"))
    # every table the run wrote has its section, under its title
    assert sorted(name for name in TITLES if TITLES[name] in found) == csvs
    assert re.search(r"code at commit `[0-9a-f]{40}(\+dirty)?`", page)
    # the run's evaluations and its summary ran on the same code
    assert re.search(r"All \d+ metrics files behind the tables were written at this commit", page)
    # each cell of table 3 shows that model's value of that column, then the paper's (a misaligned column or
    # row would show another value)
    table3 = pd.read_csv(run / "results" / "table3.csv")
    section = found[TITLES["table3"]]
    header = cells(section, "Model")
    for record in table3.to_dict("records"):
        row = cells(section, record["Model"])
        for label in ("AudioCaps T→A R@1", "Clotho A→T R@10"):
            if pd.isna(record[label]):
                continue
            cell = row[header.index(label)].replace("**", "")
            assert cell.startswith(f"{number(record[label])} [{number(record[label + ' (paper)'])}]"), (label, cell)
    for figure in ("figure5.png", "figure7.png", "figure10.png"):
        assert f"]({figure})" in page


def test_demo_scope_summarises_coverage_and_tables_3_and_4_only(run, snakemake):
    snakemake(run, "results/RESULTS.md", "--config", "summary_scope=demo")
    found = sections((run / "results" / "RESULTS.md").read_text())
    assert list(found) == [DIRECTIONS, TITLES["coverage"], TITLES["table3"], TITLES["table4"]]
    assert "few-shot scaling" not in found[DIRECTIONS]  # only the demo tables' directions
