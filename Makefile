# The two commands a new user needs: `make run` and `make test`. Everything else is their parts.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
BOOTSTRAP_PYTHON ?= python3

.PHONY: run test lint bench install install-dev system-deps lock clean

$(VENV)/bin/python:
	$(BOOTSTRAP_PYTHON) -m venv $(VENV)

$(UV): $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv

# --compile-bytecode: where PYTHONDONTWRITEBYTECODE is set (as on the development machines) nothing would
# ever write .pyc files, and every `offboard` call would compile every module it imports again.
$(VENV)/.runtime: requirements.lock pyproject.toml | $(UV)
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -r requirements.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	touch $@

$(VENV)/.dev: requirements-dev.lock pyproject.toml | $(UV)
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -r requirements-dev.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

## Serve on 127.0.0.1:8000 with the embedded default (SQLite + local folder + generated key).
run: install
	$(VENV)/bin/offboard init
	$(VENV)/bin/offboard serve

## System packages the tests drive for real (Chromium for the pages); installed when missing.
system-deps:
	@scripts/system-deps.sh

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## Lint, then the whole suite on both backend pairs; the tests start and stop PostgreSQL and S3 themselves.
test: install-dev system-deps lint
	$(VENV)/bin/pytest -q --durations=15

bench: install-dev
	$(PY) bench/upload.py
	@if [ -f bench/ledger.py ]; then $(PY) bench/ledger.py; fi
	@if [ -f bench/bundle.py ]; then $(PY) bench/bundle.py; fi
	$(PY) bench/cli.py
	$(PY) bench/witness.py

## Lock files: the development lock first, then the runtime lock constrained by it (one version per package).
lock: | $(UV)
	$(UV) pip compile --quiet pyproject.toml --extra dev -o requirements-dev.lock
	$(UV) pip compile --quiet pyproject.toml -c requirements-dev.lock -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
