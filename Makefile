# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHECKED := src tests bench scripts

.PHONY: run test lint types pytest pytest-postgres pytest-browser bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# constraints.txt pins every transitive dependency, so installs repeat exactly.
$(VENV)/.runtime: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e .
	touch $@

$(VENV)/.dev: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime
	$(BIN)/orderhub migrate
	$(BIN)/orderhub demo
	$(BIN)/orderhub serve --simulators

lint: $(VENV)/.dev
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/ruff format --check $(CHECKED)
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_module_size.py

types: $(VENV)/.dev
	$(BIN)/mypy

# Everything that needs no outside service; .ci/run adds PostgreSQL and the browser.
pytest: $(VENV)/.dev
	$(BIN)/pytest -m "not postgres and not browser and not nats"

test: lint types pytest

pytest-postgres: $(VENV)/.dev
	$(BIN)/pytest -m postgres

pytest-browser: $(VENV)/.dev
	$(BIN)/pytest -m browser

bench: $(VENV)/.dev
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/channels.py
	$(BIN)/python bench/fulfilment.py
	$(BIN)/python bench/stock_push.py
	$(BIN)/python bench/bottlenecks.py
	$(BIN)/python bench/sla_check.py

clean:
	rm -rf $(VENV) orderhub.db orderhub.db-wal orderhub.db-shm
