"""The ledger's database: one store per backend behind one API (``ledger.store.base``).

:func:`open_store` reads ``LEDGER_DATABASE_URL`` and calls the backend's one factory
(``ledger.store.sqlite.open_store``, ``ledger.store.postgres.open_store``), which builds
the store and its recorder and creates the ledger's and the audit tables; the store
builds the view store and the person key store on request. :func:`describe` says which
database a URL names without opening it (``ledger.store.address``), for code that must
act on the database before or without a store.
"""

from __future__ import annotations

from ledger.store.address import PostgresAddress, SQLiteAddress, StoreAddress, describe
from ledger.store.base import ConfigurationError, Store

__all__ = [
    "ConfigurationError",
    "PostgresAddress",
    "SQLiteAddress",
    "Store",
    "StoreAddress",
    "describe",
    "open_store",
]


def open_store(url: str, *, pool_size: int = 4, lock_timeout_s: int = 30) -> Store:
    """The store for ``LEDGER_DATABASE_URL``, with its tables created.

    ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or
    ``sqlite:///:memory:``; ``postgresql://user:password@host:port/dbname[?schema=name]``.
    """
    if describe(url).kind == "sqlite":
        from ledger.store import sqlite

        return sqlite.open_store(url, pool_size=pool_size, lock_timeout_s=lock_timeout_s)
    from ledger.store import postgres

    return postgres.open_store(url, pool_size=pool_size, lock_timeout_s=lock_timeout_s)
