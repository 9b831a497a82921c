# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.assay-installed

.PHONY: demo test test-serial lint bench catalogue golden clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Assay needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/assay demo

# The tests run in parallel (pytest-xdist): one worker per core, each test file on one
# worker (its module fixtures built once). `make test-serial` or `make test PYTEST_XDIST=`
# runs them in one process, e.g. to read a failure's output in order.
PYTEST_XDIST ?= -n auto --dist loadfile

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest $(PYTEST_XDIST)

test-serial:
	$(MAKE) test PYTEST_XDIST=

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m mypy

catalogue: $(STAMP)
	$(BIN)/python -m assay.core.catalogue > docs/checks.md
	$(BIN)/python -m assay.core.config_schema > docs/assay.schema.json

bench: $(STAMP)
	$(BIN)/python bench/audit_scale.py

# Rewrite the golden files (the demo's report.json and each check's pinned result) from
# the code as it is, when a change of output is intended; `git diff tests` shows what moved.
# One file: make golden GOLDEN=tests/test_demo_golden.py
GOLDEN ?= tests/test_demo_golden.py $(wildcard tests/*/test_*golden*.py)
golden: $(STAMP)
	ASSAY_UPDATE_GOLDEN=1 $(BIN)/python -m pytest -p no:randomly -q $(GOLDEN)

clean:
	rm -rf $(VENV) assay-demo assay-report .pytest_cache .ruff_cache .mypy_cache
