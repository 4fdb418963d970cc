# Two commands: `make run` (the service on http://127.0.0.1:5000 with demo data) and `make test`.
# Every target is safe to re-run; stamps inside .venv and node_modules keep a second run quick.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PYTEST_ARGS ?=
#: pytest-xdist processes for the SQLite and PostgreSQL runs (each has its own database); `make test TEST_WORKERS=0`
#: runs in one process. The browser run stays in one process, so its journeys share one server and one browser.
TEST_WORKERS ?= auto
XDIST := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)
#: The PostgreSQL database the second test run uses; it is emptied (schema dropped) at the start of each run.
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test

PY_STAMP := $(VENV)/.requirements.stamp
NODE_STAMP := node_modules/.package-lock.stamp

.PHONY: help setup run db demo test test-sqlite test-postgres test-e2e lint clean

help:
	@echo 'make run    set up, migrate, load demo data and serve on http://127.0.0.1:5000'
	@echo 'make test   set up and run the tests on SQLite, then PostgreSQL ($$TEST_DATABASE_URL), then in a browser'
	@echo 'make lint   ruff'
	@echo 'make clean  remove .venv, node_modules and the local database'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(PY_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(PY_STAMP) $(NODE_STAMP)

db: setup
	$(FLASK) db upgrade

demo: db
	$(FLASK) registry load-demo

run: demo
	REGISTRY_SESSION_COOKIE_SECURE=false REGISTRY_REMEMBER_COOKIE_SECURE=false \
		$(FLASK) run --debug --host 127.0.0.1 --port 5000

# The SQLite and PostgreSQL runs exclude browser tests (tests/e2e, or marked e2e), which start their own server
# on their own SQLite database, so they run once, in test-e2e.
# All three always run; the target fails if any failed, and ends with one summary line over all runs.
test: setup
	@rm -rf test-results && mkdir -p test-results
	@status=0; \
	$(MAKE) --no-print-directory test-sqlite || status=1; \
	$(MAKE) --no-print-directory test-postgres || status=1; \
	$(MAKE) --no-print-directory test-e2e || status=1; \
	$(BIN)/python -c "$$SUMMARISE" test-results/*.xml || status=1; \
	exit $$status

test-sqlite: setup
	@echo '== pytest on SQLite =='
	env -u TEST_DATABASE_URL $(BIN)/pytest -m 'not e2e' --ignore=tests/e2e --junitxml=test-results/sqlite.xml \
		$(XDIST) $(PYTEST_ARGS)

test-postgres: setup
	@echo '== pytest on PostgreSQL ($(TEST_DATABASE_URL)) =='
	$(BIN)/python -c "$$ENSURE_DATABASE" '$(TEST_DATABASE_URL)'
	TEST_DATABASE_URL='$(TEST_DATABASE_URL)' $(BIN)/pytest -m 'not e2e' --ignore=tests/e2e \
		--junitxml=test-results/postgres.xml $(XDIST) $(PYTEST_ARGS)

# Exit code 5 means no browser test was collected: fine while there are none.
test-e2e: setup
	@echo '== browser tests (Debian chromium) =='
	@status=0; [ -d tests/e2e ] || { echo 'no browser tests'; exit 0; }; \
	env -u TEST_DATABASE_URL $(BIN)/pytest tests/e2e --junitxml=test-results/e2e.xml $(XDIST) $(PYTEST_ARGS) \
		|| status=$$?; \
	if [ $$status -eq 5 ]; then echo 'no browser tests collected'; status=0; fi; \
	exit $$status

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) node_modules instance/registry.sqlite*

# Creates the test database when the server answers but the database does not exist yet.
define ENSURE_DATABASE
import sys
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url
url = make_url(sys.argv[1])
params = dict(host=url.host or '127.0.0.1', port=url.port or 5432, user=url.username, password=url.password)
with psycopg.connect(dbname='postgres', autocommit=True, **params) as connection:
    exists = connection.execute('SELECT 1 FROM pg_database WHERE datname = %s', (url.database,)).fetchone()
    if not exists:
        connection.execute(sql.SQL('CREATE DATABASE {}').format(sql.Identifier(url.database)))
        print(f'created database {url.database}')
endef
export ENSURE_DATABASE

# Adds up the JUnit reports of every run into one closing line; fails when nothing ran.
define SUMMARISE
import sys
import xml.etree.ElementTree as ET
totals = dict(tests=0, failures=0, errors=0, skipped=0)
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        continue
    for suite in root.iter('testsuite'):
        for key in totals:
            totals[key] += int(suite.get(key, 0))
failed = totals['failures'] + totals['errors']
passed = totals['tests'] - failed - totals['skipped']
print(f"all: {passed} passed, {failed} failed, {totals['skipped']} skipped")
sys.exit(1 if failed or passed == 0 else 0)
endef
export SUMMARISE
