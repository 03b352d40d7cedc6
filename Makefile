# The README's two commands: `make demo` (set up, then the main job on the bundled world)
# and `make test` (set up, then the whole test suite). Both work on a fresh machine with
# Python 3.11, pip and (for the export tests) node and npm.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PERCEVAL_VENV ?= .venv-perceval

.PHONY: demo test setup setup-test lint bench

$(BIN)/graphminer: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(BIN)/graphminer

# Perceval (CHAOSS) is an independent GitHub client and git parser the tests and
# benchmarks compare against; its pins differ from ours, so it has a venv of its own.
$(PERCEVAL_VENV)/bin/perceval:
	$(PYTHON) -m venv $(PERCEVAL_VENV)
	$(PERCEVAL_VENV)/bin/pip install -q perceval

# graphology-gexf is the GEXF parser Gephi Lite uses; the export tests run it with node.
tests/js/node_modules: tests/js/package.json
	cd tests/js && npm install --silent --no-audit --no-fund
	touch $@

setup-test: setup $(PERCEVAL_VENV)/bin/perceval $(if $(wildcard tests/js/package.json),tests/js/node_modules,)

demo: setup
	$(BIN)/graphminer demo demo-out

# Three pytest-xdist workers on two cores: the harvest tests spend much of their time waiting
# (rate-limit windows, fakehub's latency and slow pages), which a third worker fills. Each
# module stays on one worker, the longest groups handed out first (tests/conftest.py).
# The suite starts hundreds of Python processes (harvests, fakehub servers); where the
# environment sets PYTHONDONTWRITEBYTECODE, each of them compiled graphminer's modules again
# (about a fifth of the harvest tests' CPU), so the run keeps bytecode (in the ignored
# __pycache__ folders).
test: setup-test
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -n 3 --dist loadgroup --no-loadscope-reorder

lint: setup
	$(BIN)/ruff check graphminer tests bench

bench: setup-test
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done
