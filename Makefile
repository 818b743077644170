# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
export SITE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run test install install-test migrate demo bench resilience lint clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.x")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamps: reinstall only when pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run
install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo_data

## run: set up and start web, two Celery workers (deliveries; the rest) and beat on http://127.0.0.1:$(PORT);
## Ctrl-C stops all four.
run: demo
	@echo "Starting web on $(SITE_URL), a Celery worker for deliveries, one for the rest, and beat. Ctrl-C stops all four."
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start --procfile Procfile --port $(PORT)

## test: the architecture and lint checks, then the whole suite. Set DATABASE_URL / REDIS_URL to run it on
## PostgreSQL and Redis (as .ci/run does).
test: install-test lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install-test
	$(BIN)/python -m bench $(ARGS)

## resilience: faults on purpose (worker killed, broker restart, channel outage, database blip, two beats) and an
## ingest flood while real processes deliver; prints exact counts and times and records them in docs/reliability.md
## (needs redis-server).
resilience: install-test
	$(BIN)/python -m bench.resilience

## fuzz: the long API fuzzing run (tests/test_api_fuzz.py): FUZZ_EXAMPLES generated requests per operation and role,
## schemathesis' coverage phase and every hostile value; `make test` runs a few of each. See docs/reliability.md.
.PHONY: fuzz
FUZZ_EXAMPLES ?= 200
fuzz: install-test
	FUZZ_LONG=1 FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/test_api_fuzz.py -p no:logging $(PYTEST_ARGS)

## lint: the layers contract (docs/architecture.md), then ruff with the complexity limit (C901 ≤ 15).
lint: install-test
	$(BIN)/lint-imports
	$(BIN)/ruff check .

clean:
	rm -rf var .pytest_cache
