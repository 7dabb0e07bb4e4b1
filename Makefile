# The two set-up commands are `make run` and `make test`; everything else is a helper.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install migrate demo bench serve check loadtest reconcile-demo clean

$(STAMP): pyproject.toml
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

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

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

bench: install
	$(BIN)/python benchmarks/run.py

serve: install
	$(BIN)/python manage.py collectstatic --noinput
	$(BIN)/gunicorn config.wsgi:application --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-3}

clean:
	rm -rf $(VENV) db.sqlite3 test-artifacts staticfiles
