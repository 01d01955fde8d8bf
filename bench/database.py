"""The bench's database plumbing: its own PostgreSQL database (created if missing) and a
fresh schema per measured part, dropped at the end, also on failure.

Reading a URL (its database name, its schema) is :func:`ledger.store.describe`'s; this module
only builds the URLs and connection strings the bench connects with.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

import psycopg
from psycopg.sql import SQL, Identifier

from ledger.store import PostgresAddress, describe

__all__ = ["conninfo", "ensure_database", "fresh_schema", "postgres_address", "with_schema"]


def with_schema(url: str, schema: str) -> str:
    """``url`` with ``?schema=schema`` (any other ``schema`` parameter replaced)."""
    parts = urlparse(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "schema"] + [("schema", schema)]
    return urlunparse(parts._replace(query=urlencode(query)))


def postgres_address(url: str) -> PostgresAddress:
    """What ``url`` names (:func:`ledger.store.describe`); ``ValueError`` unless it is a
    PostgreSQL database: the bench runs on PostgreSQL only."""
    address = describe(url)
    if address.kind != "postgres":
        raise ValueError(f"the bench runs on PostgreSQL, not {url!r}")
    return address


def conninfo(url: str, dbname: str | None = None) -> str:
    """A libpq connection string for ``url`` (its query dropped), on ``dbname`` if given."""
    parts = urlparse(url)
    path = f"/{dbname}" if dbname is not None else parts.path
    return urlunparse(parts._replace(path=path, query=""))


def ensure_database(url: str) -> None:
    """Create the database ``url`` names unless it exists (a concurrent creation is fine)."""
    dbname = postgres_address(url).dbname
    with psycopg.connect(conninfo(url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(SQL("CREATE DATABASE {0}").format(Identifier(dbname)))


@contextlib.contextmanager
def fresh_schema(url: str, name: str) -> Iterator[str]:
    """A fresh schema; yields the URL with ``?schema=``; dropped on exit."""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute(SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(Identifier(name)))
        conn.execute(SQL("CREATE SCHEMA {0}").format(Identifier(name)))
    try:
        yield with_schema(url, name)
    finally:
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            conn.execute(SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(Identifier(name)))
