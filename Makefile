# personvern: `make help` lists the targets. `make` creates .venv on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PYTEST_ARGS ?= --durations=15 --numprocesses=auto --maxprocesses=4 --dist=loadfile

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,demo]'
	@rm -f $(VENV)/.installed-*
	@touch $@

.PHONY: install
install: $(STAMP) ## create .venv and install personvern with its dev tools and the demo

.PHONY: demo
demo: $(STAMP) ## seed the demo company and serve it on http://127.0.0.1:8000
	$(BIN)/personvern demo $(DEMO_ARGS)

.PHONY: lint
lint: $(STAMP) ## ruff (lint + format check), mypy --strict on src/, the import layering, Bandit
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports --no-cache
	$(BIN)/bandit -q -c pyproject.toml -r src -ll

.PHONY: audit
audit: $(STAMP) ## pip-audit of the installed dependencies (a notice, not a failure, when offline)
	@# pip-audit asks PyPI's JSON API for each package's known vulnerabilities; a mirror or
	@# proxy without that API makes it report "not found" for everything and "no known
	@# vulnerabilities", so ask for one release first and check the answer has the field.
	@if $(BIN)/python -c "import json, urllib.request as u; assert 'vulnerabilities' in json.load(u.urlopen('https://pypi.org/pypi/jinja2/3.1.6/json', timeout=5))" 2>/dev/null; then \
		$(BIN)/pip-audit --progress-spinner off --skip-editable --strict; \
	else \
		echo "make audit: PyPI's vulnerability data (pypi.org/pypi/<name>/<version>/json) cannot be reached from here; nothing was checked"; \
	fi

.PHONY: format
format: $(STAMP) ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

.PHONY: test
test: lint ## lint, then the whole test suite (CI=true makes server-backed tests mandatory)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

.PHONY: bench
bench: $(STAMP) ## benchmarks: print figures and ratios (not part of make test)
	$(BIN)/python -m bench $(BENCH_ARGS)

.PHONY: clean
clean: ## remove the virtual environment, caches and local demo data
	rm -rf $(VENV) .personvern .pytest_cache .mypy_cache .ruff_cache
