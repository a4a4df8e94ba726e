# Two commands for a fresh machine (see README): `make demo` and `make test`.
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install install-test translations db demo serve test test-postgres lint bench

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -e .
	$(MAKE) translations

install-test: $(BIN)/python
	$(BIN)/pip install -e '.[dev]'
	$(MAKE) translations

translations:
	$(BIN)/pybabel compile -f -d translations 2>/dev/null || true

db:
	$(BIN)/flask --app surveyapp db upgrade

demo: install db
	$(BIN)/flask --app surveyapp demo
	$(BIN)/flask --app surveyapp run --debug --host 127.0.0.1 --port 5000

test: install-test
	$(BIN)/python -m pytest -n 2

test-postgres: install-test
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest -n 2

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
