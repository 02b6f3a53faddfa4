"""tools/reference_results.py: a new run's RESULTS.md replaces the generated part of docs/results.md and the
hand-written diagnosis beneath it survives, once."""

import subprocess
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "reference_results.py"


def _run(*args):
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)], capture_output=True, text=True)


def test_the_generated_part_is_replaced_and_the_diagnosis_kept_once(tmp_path):
    doc = tmp_path / "results.md"
    doc.write_text("# Results of the reference run\n\nold table, commit aaa\n\n## Diagnosis\n\nWhy it is so.\n")
    page = tmp_path / "RESULTS.md"
    page.write_text("# Results\n\nPreset `synthetic`, code at commit `bbb`.\n\n| a | b |\n")
    assert _run(page, doc).returncode == 0
    text = doc.read_text()
    assert text.startswith("# Results of the reference run\n\nPreset `synthetic`, code at commit `bbb`.")
    assert "old table" not in text and "commit aaa" not in text
    assert text.count("## Diagnosis") == 1 and text.endswith("## Diagnosis\n\nWhy it is so.\n")
    # a second swap with the same page changes nothing
    _run(page, doc)
    assert doc.read_text() == text


def test_a_page_that_already_holds_a_diagnosis_is_refused(tmp_path):
    doc = tmp_path / "results.md"
    doc.write_text("# Results of the reference run\n\n## Diagnosis\n\nkept\n")
    result = _run(doc, tmp_path / "other.md")
    assert result.returncode != 0 and "already holds a diagnosis" in result.stderr
    assert not (tmp_path / "other.md").exists()


@pytest.mark.parametrize("doc_text", [None, "# no diagnosis yet\n"])
def test_a_doc_without_a_diagnosis_gets_a_placeholder_section(tmp_path, doc_text):
    doc = tmp_path / "results.md"
    if doc_text is not None:
        doc.write_text(doc_text)
    page = tmp_path / "RESULTS.md"
    page.write_text("# Results\n\nrows\n")
    assert _run(page, doc).returncode == 0
    assert doc.read_text() == "# Results of the reference run\n\nrows\n\n## Diagnosis\n\n(to be written)\n"
