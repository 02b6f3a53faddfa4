# One command for the main job, one for the tests. Both create/reuse .venv on their own.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 2
DEMO_TARGETS ?= results/table3.csv results/table4.csv results/RESULTS.md data

.PHONY: venv demo demo-large test test-fast lint bench mutation clean-results

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# The synthetic preset end to end: world -> data stages -> training -> results/table3.csv, table4.csv and
# their summary results/RESULTS.md.
demo: $(STAMP)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/snakemake --cores $(CORES) $(DEMO_TARGETS) --config summary_scope=demo

# The same world at 4x the AudioSet training clips and ~2x the test clips (preset synthetic_large):
demo-large: $(STAMP)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/snakemake --cores $(CORES) $(DEMO_TARGETS) --config preset=synthetic_large summary_scope=demo

test: $(STAMP)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m pytest

# ruff (lint and format) on the Python, snakefmt and Snakemake's own linter on the workflow; .ci/run runs it.
lint: $(STAMP)
	$(BIN)/ruff check src tests tools
	$(BIN)/ruff format --check src tests tools
	$(BIN)/snakefmt --check Snakefile workflow/rules
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/snakemake --lint

bench: $(STAMP)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/vipant bench data

# Mutation score of the method's core against its fast unit tests ([tool.mutmut] in pyproject.toml,
# docs/mutation.md); not part of CI. Stops after MUTATION_TIMEOUT (mutmut keeps the verdicts so far, and a
# rerun continues with the unchecked mutants), at low priority, one thread per test process; then prints the
# score. MUTANTS: mutant-name globs to run only those (e.g. 'vipant.train.schedule.*').
MUTATION_TIMEOUT ?= 60m
MUTATION_CHILDREN ?= 2
MUTANTS ?=
mutation: $(STAMP)
	-OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 timeout --foreground $(MUTATION_TIMEOUT) \
		nice -n 19 $(BIN)/mutmut run --max-children $(MUTATION_CHILDREN) $(MUTANTS)
	$(BIN)/python tools/mutation_score.py

clean-results:
	rm -rf results data/synthetic data/synthetic_large
