"""Copy a run's results/RESULTS.md into docs/results.md above its diagnosis.

docs/results.md is the reference run's generated page followed by a hand-written ``## Diagnosis`` section
(the measured explanations of the directions that do not hold). After a new reference run of
``snakemake all_results``, this replaces the generated part and keeps the diagnosis, which then needs a
read against the new numbers::

    python tools/reference_results.py [results/RESULTS.md] [docs/results.md]
"""

from __future__ import annotations

import sys
from pathlib import Path

MARKER = "\n## Diagnosis\n"


def main(argv: list[str]) -> int:
    page = Path(argv[0] if argv else "results/RESULTS.md")
    doc = Path(argv[1] if len(argv) > 1 else "docs/results.md")
    generated = page.read_text()
    if MARKER in generated:
        raise SystemExit(f"{page}: already holds a diagnosis section; pass the run's RESULTS.md")
    old = doc.read_text() if doc.exists() else ""
    diagnosis = old[old.index(MARKER) :] if MARKER in old else MARKER + "\n(to be written)\n"
    title = "# Results of the reference run\n"
    body = generated.removeprefix("# Results\n")
    tmp = doc.with_suffix(".tmp")
    tmp.write_text(title + body.rstrip("\n") + "\n" + diagnosis)
    tmp.replace(doc)
    print(f"{doc}: generated part from {page}, diagnosis kept")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
