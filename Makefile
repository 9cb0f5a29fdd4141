# Two entry points do all the set-up from a fresh clone:
#   make demo   -> .venv with the package, then the end-to-end demo (OUT=folder, default demo-out/)
#   make test   -> .venv with dev deps, npm peers (snarkjs, circom2, circomlibjs, solc) in .npm-peers/,
#                  Debian's chromium and chromedriver (apt, when missing), full test suite
#   make unit   -> the fast in-process subset (pytest -m unit) for the edit-test loop
#   make test-fast -> the same (the name the issues use)
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
NPM_PEERS := .npm-peers
OUT ?= demo-out

.PHONY: demo test unit test-fast lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

$(NPM_PEERS)/.installed: Makefile
	mkdir -p $(NPM_PEERS)
	npm install --prefix $(NPM_PEERS) --no-audit --no-fund --loglevel=error \
		snarkjs@0.7.6 circom2@0.2.23 circomlibjs@0.1.7 circomlib@2.0.5 solc@0.8.30
	touch $@

demo: $(VENV)/.installed
	$(BIN)/zkmargin demo $(OUT)

# The explorer's browser test drives Debian's chromium through chromedriver.
CHROMIUM := /usr/bin/chromium /usr/bin/chromedriver
$(CHROMIUM):
	apt-get install -y -q chromium chromium-driver > /dev/null || \
		(apt-get update -q > /dev/null && apt-get install -y -q chromium chromium-driver > /dev/null)

test: $(VENV)/.installed-dev $(NPM_PEERS)/.installed $(CHROMIUM)
	ZKMARGIN_NODE_PEERS=$(CURDIR)/$(NPM_PEERS) $(BIN)/python -m pytest -q

unit: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -m unit

test-fast: unit

bench: $(VENV)/.installed-dev $(NPM_PEERS)/.installed
	ZKMARGIN_NODE_PEERS=$(CURDIR)/$(NPM_PEERS) $(BIN)/python benchmarks/kernels.py
	ZKMARGIN_NODE_PEERS=$(CURDIR)/$(NPM_PEERS) $(BIN)/python benchmarks/prove.py
	ZKMARGIN_NODE_PEERS=$(CURDIR)/$(NPM_PEERS) $(BIN)/python benchmarks/verify.py
	$(BIN)/python benchmarks/bench_reference.py
	$(BIN)/python benchmarks/margin_circuit.py
	$(BIN)/python benchmarks/epoch.py
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/solvency.py
	$(BIN)/python benchmarks/settlement.py
	ZKMARGIN_NODE_PEERS=$(CURDIR)/$(NPM_PEERS) $(BIN)/python benchmarks/onchain.py
	$(BIN)/python benchmarks/explorer.py
	ZKMARGIN_NODE_PEERS=$(CURDIR)/$(NPM_PEERS) $(BIN)/python benchmarks/cold.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check algebra circuits prover verifier ledger engine explorer cli
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(NPM_PEERS) $(OUT)
