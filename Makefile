# Copilot Calendars. `make run` starts the portal with demo data; `make test` runs the tests.
# Everything runs from .venv (Python 3.11), which these targets create and keep up to date.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed

# Tests and commands use PostgreSQL when DATABASE_URL is set (otherwise SQLite, db.sqlite3).
ifdef DATABASE_URL
export DATABASE_URL
endif

# `make run` talks to the local Google emulator unless real Google credentials are configured.
ifeq ($(strip $(GOOGLE_CLIENT_ID)),)
RUN_PROCESSES := web worker emulator
run: export GOOGLE_EMULATOR_URL := http://127.0.0.1:8765
# The emulator delivers push notifications to loopback over plain HTTP (real Google needs HTTPS).
run: export PUBLIC_BASE_URL ?= http://127.0.0.1:8000
else
RUN_PROCESSES := web worker
endif
run: export DEBUG := 1
# /metrics answers only with a bearer token; a fixed one for this machine unless you set your own.
run: export METRICS_TOKEN ?= local-metrics-token

.PHONY: run test lint audit audit-reachable bench clean venv

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when requirements.txt changed since the last install.
$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

run: venv
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "  Portal:          http://127.0.0.1:8000/        admin@demo-dental.test / demo-password-123"
	@echo "  Django admin:    http://127.0.0.1:8000/admin/  root@demo-dental.test / demo-password-123"
	@echo "  Booking page:    http://127.0.0.1:8000/book/demo-dental/  (patients book themselves)"
	@if [ -n "$$GOOGLE_EMULATOR_URL" ]; then echo "  Google emulator: $$GOOGLE_EMULATOR_URL/"; fi
	@echo "  Health:          http://127.0.0.1:8000/healthz  readiness: http://127.0.0.1:8000/readyz"
	@echo "  Metrics:         curl -H 'Authorization: Bearer $$METRICS_TOKEN' http://127.0.0.1:8000/metrics"
	@echo "  Sync status:     $(BIN)/python manage.py sync_status"
	@echo "  Ctrl-C stops everything."
	@echo
	$(BIN)/honcho start -f Procfile.dev $(RUN_PROCESSES)

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Known vulnerabilities in every installed package (pip-audit, pinned in requirements.txt).
# --strict: a package that could not be checked fails the audit, so an unreachable vulnerability
# database is a loud failure, never a silent pass. AUDIT_SERVICE=pypi asks PyPI's JSON API instead.
AUDIT_SERVICE ?= osv
audit: venv
	$(BIN)/pip-audit --strict --progress-spinner off --timeout 15 --vulnerability-service $(AUDIT_SERVICE) --desc on

# Exit 0 when $(AUDIT_SERVICE) answers a vulnerability query for a pinned package (CI asks first).
audit-reachable: venv
	@$(BIN)/python -c 'import sys, urllib.request as u; \
	osv = u.Request("https://api.osv.dev/v1/query", method="POST", headers={"Content-Type": "application/json"}, \
	  data=b"{\"package\": {\"name\": \"django\", \"ecosystem\": \"PyPI\"}, \"version\": \"5.2.19\"}"); \
	pypi = "https://pypi.org/pypi/Django/5.2.19/json"; \
	u.urlopen(osv if "$(AUDIT_SERVICE)" == "osv" else pypi, timeout=15)' >/dev/null 2>&1

# Runs every bench/bench_*.py and rewrites docs/PERFORMANCE.md (BENCH_ARGS=--quick for a smoke run).
bench: venv
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Removes caches and the virtualenv; keeps your data (db.sqlite3, var/).
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles tests/e2e/artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
