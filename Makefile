# stockledger — the two commands a newcomer needs: `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: soak serve test lint typecheck unit install install-test bench clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs the service (editable) when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Listens where STOCKLEDGER_HOST/STOCKLEDGER_PORT say (default 127.0.0.1:8000); `make serve HOST=…
# PORT=…` on the command line wins (an inherited shell variable named HOST does not count).
serve: $(VENV)/.installed
	$(BIN)/stockledger serve $(if $(filter command line,$(origin HOST)),--host $(HOST)) \
	  $(if $(filter command line,$(origin PORT)),--port $(PORT))

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/lint-imports --no-cache  # the layer contracts in pyproject.toml

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Long reliability runs (repeated crashes, many processes): on demand and before a release.
soak: $(VENV)/.installed-test
	STOCKLEDGER_TEST_SOAK=1 $(BIN)/python -m pytest -q tests/soak $(PYTEST_ARGS)

# PNGs of every back-office page in docs/screenshots/ (needs /usr/bin/chromium).
screenshots: $(VENV)/.installed-test
	$(BIN)/python scripts/screenshots.py

# Benchmarks (see docs/performance.md): a real server driven by wrk; BENCH_ARGS=--quick for a short look.
bench: $(VENV)/.installed-test
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .stockledger .pytest_cache .mypy_cache .ruff_cache
