# credit-ledger: two commands. `make run` and `make test` do all their own set-up.
VENV   := .venv
PY     := $(VENV)/bin/python
# Two install stamps: `make run` installs the runtime only; `make test` adds the test extras.
RUNTIME_STAMP := $(VENV)/.runtime-stamp
TEST_STAMP    := $(VENV)/.test-stamp
PYTEST_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 8000
SHARED ?= ../shared

.PHONY: run test install install-test postgres chromium axe compose promtool report-deps lint unit \
	stack docs bench-smoke bench clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(RUNTIME_STAMP)
	$(PY) -m pip install -q -e ".[test]"
	touch $@

install: $(RUNTIME_STAMP) report-deps

install-test: $(TEST_STAMP)

## make run [PORT=8000] [HOST=127.0.0.1]: load the demo data set into the embedded store
## (./ledger.db), then serve it
run: install
	$(VENV)/bin/ledger demo
	@echo "serving the demo ledger on http://$(HOST):$(PORT)/ (API under /v1, docs at /docs); Ctrl-C to stop"
	$(VENV)/bin/ledger serve --host $(HOST) --port $(PORT)

## make test: lint, type-check, then the whole suite against SQLite and PostgreSQL
test: install-test report-deps postgres chromium axe compose promtool lint
	$(VENV)/bin/pytest -n 2 -q $(PYTEST_ARGS)

chromium:
	@bash tests/e2e/ensure_chromium.sh

## axe: axe-core (npm pack, cached in .venv/axe-core) for the pages' accessibility test
axe:
	@bash tests/e2e/ensure_axe.sh >/dev/null

compose:
	@bash tools/ensure-compose.sh

## report-deps: CJK fonts and Pango for the credit report's PDF (Debian packages)
report-deps:
	@bash tools/ensure-report-deps.sh

promtool:
	@bash tools/ensure-promtool.sh

postgres:
	@bash tools/ensure-postgres.sh

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy events commands ledger projections services api demo bench federation entrypoints

unit: install-test
	$(VENV)/bin/pytest -q tests/unit $(PYTEST_ARGS)

## make stack [PORT=8000]: the whole production stack as processes, without Docker
## (PostgreSQL, the Tansu Kafka-protocol broker, serve, ingest x2, project, tick,
## checkpoint, verify, feed), under honcho; Ctrl-C stops it (docker/Procfile)
stack: install-test postgres
	$(VENV)/bin/python -m tests.ship.stack --port $(PORT)

## make docs: copy DESIGN.md, DOMAIN.md and AUDIT-FORMAT.md from $(SHARED) into docs/
docs:
	@for f in DESIGN.md DOMAIN.md AUDIT-FORMAT.md; do cp "$(SHARED)/$$f" "docs/$$f"; done

## make bench-smoke / make bench: the benchmark (PostgreSQL); the full table is in the README
bench-smoke: install-test postgres
	$(VENV)/bin/ledger bench --scale smoke

bench: install-test postgres
	$(VENV)/bin/ledger bench --scale medium

clean:
	rm -rf $(VENV) ledger.db ledger.db-wal ledger.db-shm .pytest_cache .mypy_cache .ruff_cache
