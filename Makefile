# cellsde: every target bootstraps .venv on a fresh machine.
PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
EXTRAS  := dev,sbml,dask,docs
# Two workers on the two cores; torch runs single-threaded in the tests (tests/conftest.py).
PYTEST_ARGS ?= -n 2

.PHONY: all venv demo test lint docs bench clean

all: test

$(VPY):
	$(PY) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip

# torch first, pinned to the CPU wheel that lies on disk, only when torch is absent:
# a bare `torch` requirement would pull a multi-GB CUDA build. Users with CUDA keep theirs.
$(STAMP): $(VPY) pyproject.toml
	@$(VPY) -c "import torch" 2>/dev/null || $(VPY) -m pip install --quiet torch==2.13.0
	$(VPY) -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/cellsde demo --out demo/

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint
	$(VPY) -m pytest -q $(PYTEST_ARGS)

docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(VPY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache site demo
