# Two commands from a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast bench nest-env clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[test,synth,mpi]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/neuroaix run microcircuit --scale 0.1 --t-sim 500 --t-presim 100 --out demo-out

test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not gpu" -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not rtl and not gpu" -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# NEST 3.10 from PyPI in its own environment (.venv-nest), for benchmarks/validate_nest.py,
# benchmarks/bench_microcircuit.py and the tests marked `nest`
# (.venv-nest/bin/python -m pytest -m nest).
nest-env:
	$(PYTHON) -m venv .venv-nest
	.venv-nest/bin/pip install -q nest-simulator numpy scipy matplotlib pytest
	.venv-nest/bin/pip install -q -e .
	.venv-nest/bin/python -c "import nest; print('NEST', nest.__version__)"

clean:
	rm -rf $(VENV) build demo-out .pytest_cache
