# Frontline Trainer. `make run` serves the app on SQLite with demo data; `make test` runs everything.
VENV    ?= .venv
PYTHON  ?= python3
BIN     := $(VENV)/bin
FLASK   := $(BIN)/flask --app trainer
HOST    ?= 127.0.0.1
PORT    ?= 5000

.PHONY: install install-test translations messages run scheduler test lint format db content demo chromium wrk postgres redis worker oidc-provider oidc-dev axe clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed translations
install-test: $(VENV)/.installed-test translations

# The interface in other languages: English is the source; each catalog is compiled beside its
# .po file (the .mo files are not kept in git). `make messages` gathers new strings into them.
CATALOGS := trainer/translations
PO := $(wildcard $(CATALOGS)/*/LC_MESSAGES/messages.po)
$(CATALOGS)/%/LC_MESSAGES/messages.mo: $(CATALOGS)/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile -i $< -o $@
translations: $(PO:.po=.mo)

messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l --sort-by-file --no-wrap -o $(CATALOGS)/messages.pot .
	$(BIN)/pybabel update -i $(CATALOGS)/messages.pot -d $(CATALOGS) --no-wrap --ignore-obsolete

db: install
	$(FLASK) db upgrade

content: db
	$(FLASK) content sync

demo: content
	$(FLASK) demo

# The scheduled jobs run inside the development server here (started on the first request).
# Text messages are offered but kept in the outbox to read (SMS_URL=outbox), unless set.
SMS_URL ?= outbox
run: demo
	SMS_URL="$(SMS_URL)" SCHEDULER_IN_PROCESS=1 $(FLASK) run --host $(HOST) --port $(PORT) --debug

# The scheduled jobs on their own, in the foreground: how production runs them (one process).
scheduler: db
	$(FLASK) scheduler

# A task worker, in the foreground: with BROKER_URL set, the scheduler hands its work to these.
worker: db
	$(FLASK) worker

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads one).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Debian's wrk, the load generator of the `pages` benchmark.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "Installing Debian's wrk for the pages benchmark..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

# The tests need PostgreSQL on 127.0.0.1:5432; start the local cluster if it is installed but down.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || { \
	  command -v pg_ctlcluster >/dev/null 2>&1 && \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n1) main start; } || true

# The task queue's tests need Redis on 127.0.0.1:6379; start the machine's if it is installed but
# down (as its service does, or as a daemon of its own).
redis:
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO service redis-server start >/dev/null 2>&1 || \
	  $$SUDO redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save "" \
	    --appendonly no >/dev/null; } || true

# The OpenID provider the company sign-in tests start (node-oidc-provider, pinned in tests/oidc),
# run by the machine's Node.js. npm writes node_modules/.package-lock.json last.
OIDC_PROVIDER := tests/oidc/node_modules/.package-lock.json
$(OIDC_PROVIDER): tests/oidc/package.json tests/oidc/package-lock.json
	cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error
oidc-provider: $(OIDC_PROVIDER)

# axe-core (pinned in tests/axe), which the browser tests run on every page they visit.
AXE := tests/axe/node_modules/.package-lock.json
$(AXE): tests/axe/package.json tests/axe/package-lock.json
	cd tests/axe && npm ci --no-audit --no-fund --loglevel=error
axe: $(AXE)

# That provider on http://127.0.0.1:5556 to try company sign-in by hand, beside `make run` with
# OIDC_ISSUER=http://127.0.0.1:5556 OIDC_CLIENT_ID=frontline-trainer
# OIDC_CLIENT_SECRET=dev-only-not-secret OIDC_ALLOW_HTTP=1 (README, "Company sign-in").
# Its people: tests/oidc/demo-accounts.json (learner, manager, newhire; password "demo").
oidc-dev: oidc-provider
	cd tests/oidc && OIDC_PORT=5556 CLIENT_ID=frontline-trainer CLIENT_SECRET=dev-only-not-secret \
	  REDIRECT_URIS="http://$(HOST):$(PORT)/login/company/callback" \
	  ACCOUNTS_FILE=demo-accounts.json node provider.mjs

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install-test chromium postgres redis oidc-provider axe
	$(BIN)/ruff check .
	$(BIN)/pytest

# Benchmarks: planning 4M review cards, recording an answer, the review policy simulated, the
# manager's views, content check, pages under load (gunicorn, 4 workers, PostgreSQL, wrk), and
# delivering 20,000 messages in process and on 1, 2 and 4 workers (PostgreSQL and Redis).
# Writes docs/benchmarks.md; takes a long while (`$(BIN)/python -m bench.run --quick` to smoke-test;
# `--only NAME --write-docs` re-runs one and replaces only its section).
bench: install-test wrk postgres redis
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) instance .pytest_cache test-artifacts tests/oidc/node_modules tests/axe/node_modules
