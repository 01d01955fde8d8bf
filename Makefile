# credit-ledger: two commands. `make run` and `make test` do all their own set-up.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: run test install postgres lint unit bench-smoke soak clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

## make run: load the demo data set into the embedded store (./ledger.db) and show it
run: install
	$(VENV)/bin/ledger demo

## make test: lint, type-check, then the whole suite against SQLite and PostgreSQL
test: install postgres lint
	$(VENV)/bin/pytest -n 2 -q $(PYTEST_ARGS)

postgres:
	@bash tools/ensure-postgres.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy events commands ledger projections api

unit: install
	$(VENV)/bin/pytest -q tests/unit $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) ledger.db ledger.db-wal ledger.db-shm .pytest_cache .mypy_cache .ruff_cache
