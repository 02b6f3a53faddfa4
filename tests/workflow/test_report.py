"""``snakemake --report`` on the tiny run: one self-contained HTML file a user can send.

The report must carry the workflow description (``workflow/report/workflow.rst``, the Snakefile's
``report:``), every result marked with ``report()`` together with its caption, and the files themselves,
with nothing fetched from the network when it is opened. Snakemake ships the report's JavaScript and CSS
inside its wheel (``snakemake/assets/data``), so this works offline.

Captions are reStructuredText rendered by docutils, which does not fail on a broken caption: it embeds
a "System Message" in the HTML instead. The test looks for those too.
"""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.workflow

# Result files of the tiny run's targets, each with a phrase its caption must contain.
EXPECTED = {
    "results/table3.csv": "vip-AnT Table 3: audio–caption retrieval",
    "results/table4.csv": "vip-AnT Table 4: zero-shot classification",
    "results/coverage.csv": "Coverage of every dataset split",
}


class _ResourceLinks(HTMLParser):
    """Collects the src/href of real tags (script bodies are raw text to this parser, so code is skipped)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value or "" for name, value in attrs if name in ("src", "href")]


def _external_links(html: str) -> list[str]:
    """Links that would leave the file: anything but data:, javascript:, mailto: and in-page anchors."""
    parser = _ResourceLinks()
    parser.feed(html)
    return [link for link in parser.links if not link.startswith(("data:", "javascript:", "mailto:", "#"))]


def _script_json(html: str, script_id: str, variable: str):
    """The JSON value the report assigns to ``var <variable>`` inside ``<script id="<script_id>">``."""
    match = re.search(rf'<script id="{script_id}">\s*var {variable} = (.*?);\s*</script>', html, re.S)
    assert match, f"report has no <script id={script_id!r}> defining {variable}"
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def report(tiny_workflow: Path, snakemake, tmp_path_factory) -> tuple[Path, str]:
    """Build the report of the finished tiny run (a few seconds: nothing is executed), with the README's
    command: no --cores (the workflow's GPU cap must not need a core count)."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    proc = snakemake(tiny_workflow, "--report", str(out), cores=None)
    assert "Report created" in proc.stderr, proc.stderr[-2000:]
    return out, out.read_text(encoding="utf-8")


def test_report_is_one_self_contained_file(report):
    path, html = report
    assert path.stat().st_size > 100_000, "report is too small to hold its own scripts"
    assert not _external_links(html), f"report loads resources from outside the file: {_external_links(html)[:5]}"
    assert html.count("<script>") >= 6, "the report's JavaScript libraries are not inlined"
    assert "System Message" not in html, "a caption or the workflow description is broken reStructuredText"


def test_report_carries_each_table_with_its_caption_and_contents(report, tiny_workflow):
    _, html = report
    results = _script_json(html, "results", "results")
    assert set(EXPECTED) <= set(results), sorted(results)
    for name, phrase in EXPECTED.items():
        entry = results[name]
        assert phrase in entry["caption"], (name, entry["caption"][:300])
        assert not _external_links(entry["caption"]), (name, _external_links(entry["caption"]))
        assert "(chance)" in entry["caption"] or name == "results/coverage.csv"
        # The file travels inside the report, byte for byte.
        payload = entry["data_uri"].split("base64,", 1)[1]
        assert base64.b64decode(payload) == (tiny_workflow / name).read_bytes(), name
        # The caption shows the table itself: every row label appears in it.
        table = pd.read_csv(tiny_workflow / name)
        for label in table.iloc[:, 0].astype(str):
            assert label.replace("&", "&amp;") in entry["caption"], (name, label)
    for name, entry in results.items():
        assert entry["caption"].strip(), f"{name} is in the report without a caption"


def test_report_has_the_workflow_description(report):
    _, html = report
    description = _script_json(html, "workflow-desc", "workflow_desc")
    assert "Where the numbers come from" in description
    assert '<tt class="docutils literal">synthetic</tt>' in description  # the preset, rendered from config
    categories = _script_json(html, "categories", "categories")
    assert {"vip-AnT", "Data"} <= set(categories)
