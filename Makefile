# The two commands a newcomer needs (see README.md):
#   make demo   installs everything, prepares the database, loads the demo study, starts the server
#   make test   installs the test dependencies and runs the whole test suite
PY ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?= -n 2
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: install install-test system-deps translations db demo serve test test-postgres ci lint bench bench-export bench-load bench-page

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .
	$(MAKE) translations

install-test: $(BIN)/python system-deps
	$(BIN)/pip install -q -e '.[dev]'
	$(MAKE) translations
	[ ! -f package.json ] || npm install --no-audit --no-fund --silent

system-deps:
	bash tools/system_deps.sh

translations:
	$(BIN)/pybabel compile -f -d translations

db:
	$(BIN)/flask --app surveyapp db upgrade

demo: install db
	$(BIN)/flask --app surveyapp demo
	$(BIN)/flask --app surveyapp run --debug --host 127.0.0.1 --port 5000

serve: install db
	$(BIN)/gunicorn --workers 2 --bind 127.0.0.1:8000 wsgi:app

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: install-test
	bash tools/start_postgres.sh
	TEST_DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench-export:
	$(BIN)/python benchmarks/export_benchmark.py
	$(BIN)/python benchmarks/export_benchmark.py --db sqlite
	$(BIN)/python benchmarks/export_benchmark.py --db postgresql

# CPU per answered page in-process, against the one-INSERT floor (about 30 s): for A/B runs.
bench-page: install-test
	$(BIN)/python benchmarks/page_cost.py $(BENCH_ARGS)

# Not part of CI: about 45 minutes; needs PostgreSQL on 127.0.0.1:5432 (tools/start_postgres.sh).
bench-load: install-test
	bash tools/start_postgres.sh
	$(BIN)/python benchmarks/run_load.py $(BENCH_ARGS)
