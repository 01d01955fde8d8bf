# credit-ledger: two commands. `make run` and `make test` do all their own set-up.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: run test install postgres chromium compose lint unit bench-smoke bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

## make run: load the demo data set into the embedded store (./ledger.db), then serve it
run: install
	$(VENV)/bin/ledger demo
	@echo "serving the demo ledger on http://127.0.0.1:8000/ (API under /v1, docs at /docs); Ctrl-C to stop"
	$(VENV)/bin/ledger serve --host 127.0.0.1 --port 8000

## make test: lint, type-check, then the whole suite against SQLite and PostgreSQL
test: install postgres chromium compose lint
	$(VENV)/bin/pytest -n 2 -q $(PYTEST_ARGS)

chromium:
	@bash tests/e2e/ensure_chromium.sh

compose:
	@bash tools/ensure-compose.sh

postgres:
	@bash tools/ensure-postgres.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy events commands ledger projections api bench

unit: install
	$(VENV)/bin/pytest -q tests/unit $(PYTEST_ARGS)

## make bench-smoke / make bench: the benchmark (PostgreSQL); the full table is in the README
bench-smoke: install postgres
	$(VENV)/bin/ledger bench --scale smoke

bench: install postgres
	$(VENV)/bin/ledger bench --scale medium

clean:
	rm -rf $(VENV) ledger.db ledger.db-wal ledger.db-shm .pytest_cache .mypy_cache .ruff_cache
