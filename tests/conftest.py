"""Shared fixtures. Store tests take ``store_url`` and run once per backend:
SQLite (a fresh file) and PostgreSQL (a fresh schema in database ``ledger_test``).

PostgreSQL must be reachable: the fixture starts the local cluster if it is
installed but stopped, and FAILS (never skips) when it cannot.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
from ledger.app import Ledger


@pytest.fixture(autouse=True)
def _key_files_of_its_own(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test's default signing key and person secret live in a folder of its own.

    The settings' defaults are ``./signing.key`` and ``./person.key``: a command run with
    them from the checkout (the tests' working directory) created them there, and a later
    test — or the next ``make test`` in the same checkout — verified its own checkpoints
    against that stale key ("the signature does not verify"). A test that sets either
    (environment or settings) still gets its own."""
    keys = tmp_path_factory.mktemp("keys")
    for name, file in (
        ("LEDGER_SIGNING_KEY_FILE", "signing.key"),
        ("LEDGER_PERSON_SECRET_FILE", "person.key"),
    ):
        if name not in os.environ:
            monkeypatch.setenv(name, str(keys / file))


ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("LEDGER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_TEST_DB = "ledger_test"


def _connect(dbname: str | None = None) -> psycopg.Connection:
    conninfo = PG_ADMIN if dbname is None else PG_ADMIN.rsplit("/", 1)[0] + "/" + dbname
    return psycopg.connect(conninfo, autocommit=True, connect_timeout=3)


@pytest.fixture(scope="session")
def postgres_base() -> str:
    """URL prefix of the test database; starts PostgreSQL if needed, fails if it can't."""
    try:
        _connect().close()
    except psycopg.OperationalError:
        result = subprocess.run(
            ["bash", str(ROOT / "tools/ensure-postgres.sh")], capture_output=True, text=True
        )
        if result.returncode != 0:
            pytest.fail(
                f"PostgreSQL unreachable and could not be started:\n{result.stderr}", pytrace=False
            )
    with _connect() as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (PG_TEST_DB,)
        ).fetchone()
        if not exists:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(f'CREATE DATABASE "{PG_TEST_DB}"')
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_TEST_DB


@pytest.fixture
def postgres_url(
    postgres_base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh, empty schema on PostgreSQL; dropped afterwards. Its checkpoint log is a
    fresh directory (``LEDGER_CHECKPOINT_LOG``; the default, ``./checkpoints/``, would be
    shared by every test's schema)."""
    monkeypatch.setenv("LEDGER_CHECKPOINT_LOG", str(tmp_path / "pg-checkpoints"))
    schema = "t_" + uuid.uuid4().hex[:12]
    with _connect(PG_TEST_DB) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{postgres_base}?schema={schema}"
    with _connect(PG_TEST_DB) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    """Each store test runs against both stores (the conformance suite)."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
def ledger(store_url: str, tmp_path: Path) -> Iterator[Ledger]:
    app = bootstrap(Settings(database_url=store_url, person_secret_file=tmp_path / "person.key"))
    yield app
    app.recorder.datastore.close()  # type: ignore[attr-defined]
