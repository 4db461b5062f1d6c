# `make run` serves the demo at http://127.0.0.1:8000; `make test` runs the whole suite.
# With nothing set both use a SQLite file and Celery in eager mode; DATABASE_URL and REDIS_URL
# switch to PostgreSQL and Redis (.ci/run does that for the integration and browser tests).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
INSTALLED := $(VENV)/.installed-requirements.txt
ADDRESS ?= 127.0.0.1:8000
PYTEST_ARGS ?= -n 2
HAS_USERS := from helpdesk.models import User; print(User.objects.exists())
PRINT_LOGINS := from tickets.demo import DEMO_PASSWORD as pw; \
	print(f"Demo data already seeded. Log in as admin, lead or agent (default password {pw}).")

.PHONY: install run test lint bench load

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# A copy of the requirements installed last: pip runs again only when requirements.txt changed.
$(INSTALLED): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	cp requirements.txt $@

install: $(INSTALLED)

run: install
	$(MANAGE) migrate --noinput
	$(MANAGE) setup_periodic_tasks
	@if [ "$$($(MANAGE) shell -v 0 -c '$(HAS_USERS)')" = "False" ]; then \
		$(MANAGE) seed_demo; \
	else \
		$(MANAGE) shell -v 0 -c '$(PRINT_LOGINS)'; \
	fi
	@echo "Serving the help desk at http://$(ADDRESS)/"
	$(MANAGE) runserver $(ADDRESS)

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Benchmarks on the local PostgreSQL and Redis; figures land in docs/benchmarks.md and the README.
# SCALE=default (1M tickets, 100k customers), large (1M customers) or smoke (a quick check).
SCALE ?= default
LOAD_ARGS ?=

bench: install
	$(BIN)/python bench/run_all.py --scale $(SCALE)

# gunicorn + Celery worker on 1M tickets, 50 agents and 20 emails/s for 60 s; e.g.
# LOAD_ARGS="--tickets 10000 --duration 10 --scale smoke" for a quick check.
load: install
	$(BIN)/python bench/load/run.py $(LOAD_ARGS)
