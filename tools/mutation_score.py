"""Mutation score of the last ``mutmut run`` (``make mutation``), per module and in total.

Reads the verdicts mutmut keeps in ``mutants/**/*.py.meta`` (``exit_code_by_key``: one exit code per mutant,
null when not checked yet). Killed counts the mutants a test failed on (timeouts are listed apart, and count
as killed in the score, as mutmut's own score does); the score is killed / checked, where checked leaves out
the mutants not run (time box) and those no selected test reaches ("no tests").

Usage::

    python tools/mutation_score.py [--mutants mutants] [--survivors]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

# mutmut 3's exit-code meanings (mutmut/stats.py)
STATUS = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    36: "timeout",
    24: "timeout",
    -24: "timeout",
    152: "timeout",
    255: "timeout",
    37: "killed",
    None: "not checked",
}
COLUMNS = ("killed", "timeout", "survived", "no tests", "not checked", "other")


def verdicts(mutants: Path) -> dict[str, dict[str, str]]:
    """``{module path: {mutant name: status}}`` for every mutated file under ``mutants``."""
    out: dict[str, dict[str, str]] = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        module = str(meta.relative_to(mutants))[: -len(".meta")]
        out[module] = {name: STATUS.get(code, "other") for name, code in codes.items()}
    return out


def score(counts: Counter) -> tuple[int, int]:
    """(killed incl. timeouts, checked)."""
    killed = counts["killed"] + counts["timeout"]
    return killed, killed + counts["survived"] + counts["other"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=Path, default=Path("mutants"))
    parser.add_argument("--survivors", action="store_true", help="list the surviving mutants' names")
    args = parser.parse_args(argv)
    found = verdicts(args.mutants)
    if not found:
        print(f"no mutmut verdicts under {args.mutants}/: run `make mutation` first")
        return 1
    total = Counter()
    width = max(len(m) for m in found)
    print(f"{'module':<{width}}  " + "  ".join(f"{c:>11}" for c in COLUMNS) + "       score")
    for module, status in found.items():
        counts = Counter(status.values())
        total += counts
        killed, checked = score(counts)
        pct = f"{100 * killed / checked:5.1f} %" if checked else "    -  "
        print(
            f"{module:<{width}}  "
            + "  ".join(f"{counts[c]:>11}" for c in COLUMNS)
            + f"  {killed:>4}/{checked:<4} {pct}"
        )
    killed, checked = score(total)
    pct = f"{100 * killed / checked:5.1f} %" if checked else "-"
    print(f"{'total':<{width}}  " + "  ".join(f"{total[c]:>11}" for c in COLUMNS) + f"  {killed:>4}/{checked:<4} {pct}")
    if args.survivors:
        for status in found.values():
            for name, s in status.items():
                if s == "survived":
                    print(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
