# Two commands from a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NEST_VENV  := .venv-nest
NEST_STAMP := $(NEST_VENV)/.installed

.PHONY: demo test test-fast bench nest-env clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[test,synth,mpi,io,pynn]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/neuroaix run microcircuit --scale 0.1 --t-sim 500 --t-presim 100 --out demo-out

# The NEST-marked tests run in their own environment (NEST's OpenMP runtime and Numba's
# OpenMP layer cannot share a process); there a missing NEST fails them (tests/_nest.py).
test: $(STAMP) $(NEST_STAMP)
	$(BIN)/python -m pytest -m "not slow and not gpu and not nest" -q
	NEUROAIX_NEST=required $(NEST_VENV)/bin/python -m pytest -m "nest and not slow" -q \
		tests/test_nest_neuron.py tests/engine/test_nest_network.py tests/test_nest_statistics.py

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not rtl and not gpu" -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# NEST 3.10 from PyPI in its own environment (.venv-nest), for make test, benchmarks/
# validate_nest.py and benchmarks/bench_microcircuit.py.
$(NEST_STAMP): pyproject.toml
	$(PYTHON) -m venv $(NEST_VENV)
	$(NEST_VENV)/bin/pip install -q nest-simulator numpy scipy matplotlib pytest
	$(NEST_VENV)/bin/pip install -q -e .
	$(NEST_VENV)/bin/python -c "import nest; print('NEST', nest.__version__)"
	touch $(NEST_STAMP)

nest-env: $(NEST_STAMP)

clean:
	rm -rf $(VENV) $(NEST_VENV) build demo-out .pytest_cache
