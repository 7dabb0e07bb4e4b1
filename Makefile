# The two set-up commands are `make run` and `make test`; everything else is a helper.
# The newest of python3.13, python3.12 and python3.11 that runs (a pyenv shim of a version that is not selected
# does not), unless PYTHON=/path/to/python is given.
SUPPORTED_PYTHONS := python3.13 python3.12 python3.11
PYTHON ?= $(shell for p in $(SUPPORTED_PYTHONS); do \
	$$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 14))' >/dev/null 2>&1 && { echo $$p; break; }; \
	done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install migrate demo demo-afresh bench serve check lint loadtest reconcile-demo python-version clean mutate

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "No Python 3.11, 3.12 or 3.13 found: install one, or give PYTHON=/path/to/python3.1x" >&2; exit 1; }
	@echo "Creating $(VENV) with $(PYTHON): $$($(PYTHON) --version)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_reference_plan

# The demo seals signed resolutions with a key made here (var/seal/, never committed); emails go to the console.
DEMO_SEAL := RESOLUTION_SEAL_KEY=$${RESOLUTION_SEAL_KEY:-$(CURDIR)/var/seal/demo-seal-key.pem} \
	RESOLUTION_SEAL_CERT=$${RESOLUTION_SEAL_CERT:-$(CURDIR)/var/seal/demo-seal-cert.pem}

run: demo
	$(DEMO_SEAL) $(BIN)/python manage.py create_seal_key --organization "plan-admin demo"
	$(DEMO_SEAL) EMAIL_BACKEND=$${EMAIL_BACKEND:-django.core.mail.backends.console.EmailBackend} \
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Start the demo afresh without reinstalling: a new SQLite file (the default database only), the reference plan
# and new demo passwords, then serve as `make run` does.
demo-afresh: install
	@test -z "$$DATABASE_URL" || { echo "demo-afresh replaces the default SQLite file only: unset DATABASE_URL" >&2; exit 1; }
	rm -f db.sqlite3
	$(MAKE) run

# Which Python the virtualenv runs.
python-version: install
	@$(BIN)/python -c 'import sys; print("Python", sys.version.split()[0], "at", sys.executable)'

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

# Lint and formatting (configuration in pyproject.toml, [tool.ruff]).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# HTTP load test: gunicorn on PostgreSQL, many staff clients posting issuances (see tests/load/run.py).
loadtest: install
	$(BIN)/python tests/load/run.py $(LOADTEST_ARGS)

# Load the demo ledger into a throw-away SQLite file and check its counters against its rows.
reconcile-demo: install
	rm -f .reconcile-demo.sqlite3
	DATABASE_URL=sqlite:///$(CURDIR)/.reconcile-demo.sqlite3 $(BIN)/python manage.py migrate --noinput -v0
	DATABASE_URL=sqlite:///$(CURDIR)/.reconcile-demo.sqlite3 $(BIN)/python manage.py load_reference_plan > /dev/null
	DATABASE_URL=sqlite:///$(CURDIR)/.reconcile-demo.sqlite3 $(BIN)/python manage.py reconcile
	rm -f .reconcile-demo.sqlite3

# Mutation testing of the rules (mutmut; configuration in pyproject.toml, [tool.mutmut]; mutation/run.py says how):
# the services, the import cell parsers and the CSV formula escaping, against the fast service and rule tests, on
# SQLite, in a copy of the project (.mutate/). Writes docs/mutation-testing.md; fails if a survivor has no reason
# in mutation/survivors.toml. Slow (more than 30 minutes on 2 cores, docs/mutation-testing.md); not in CI: run it
# before resolving an issue that changes a rule. `make mutate MUTATE=again` re-tests only the mutants that were not killed (after adding tests).
MUTATE ?= run
mutate: install
	env -u DATABASE_URL $(BIN)/python mutation/run.py $(MUTATE)

bench: install
	$(BIN)/python benchmarks/run.py

serve: install
	$(BIN)/python manage.py collectstatic --noinput
	$(BIN)/gunicorn config.wsgi:application --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-3}

clean:
	rm -rf $(VENV) db.sqlite3 test-artifacts staticfiles
