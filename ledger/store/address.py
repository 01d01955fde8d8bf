"""What a database URL names, read without opening a store.

:func:`describe` is the one reader of ``LEDGER_DATABASE_URL``: the backends' factories
(``ledger.store.sqlite``, ``ledger.store.postgres``), :func:`ledger.store.open_store`
and the code that must act on the database before or without a store (backup and
restore, the default checkpoint-log directory, the benchmarks) ask it which database
a URL names instead of parsing the URL themselves.

Accepted URLs: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``,
``sqlite:///:memory:`` (or a ``mode=memory`` query: in memory);
``postgresql://user:password@host:port/dbname[?schema=name]`` (``postgres://`` too),
with the defaults host ``127.0.0.1``, port 5432, user ``postgres``, no password,
database ``postgres`` and schema ``public``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlparse

from ledger.store.base import ConfigurationError

__all__ = ["PostgresAddress", "SQLiteAddress", "StoreAddress", "describe"]


@dataclass(frozen=True)
class SQLiteAddress:
    """A SQLite database: its file, or in memory."""

    path: Path | None
    """The SQLite file; None for an in-memory store or a URL naming no file."""
    in_memory: bool = False
    """In memory: nothing on disk, nothing to back up."""
    kind: Literal["sqlite"] = "sqlite"


@dataclass(frozen=True)
class PostgresAddress:
    """A schema of a PostgreSQL database and how to connect to it."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    dbname: str
    schema: str
    """The schema holding the ledger's tables."""
    kind: Literal["postgres"] = "postgres"


StoreAddress = SQLiteAddress | PostgresAddress
"""What a database URL names; ``kind`` tells which (and narrows the type)."""


def describe(url: str) -> StoreAddress:
    """The database ``url`` names, without connecting. ``ConfigurationError`` when
    the scheme is neither sqlite nor postgresql."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path[1:] if parsed.path.startswith("/") else parsed.path)
        in_memory = path == ":memory:" or "mode=memory" in parsed.query
        return SQLiteAddress(Path(path) if path and not in_memory else None, in_memory)
    if parsed.scheme in ("postgresql", "postgres"):
        return PostgresAddress(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 5432,
            user=unquote(parsed.username or "postgres"),
            password=unquote(parsed.password or ""),
            dbname=unquote(parsed.path.lstrip("/")) or "postgres",
            schema=parse_qs(parsed.query).get("schema", ["public"])[0],
        )
    raise ConfigurationError(
        f"LEDGER_DATABASE_URL {url!r}: the scheme must be sqlite or postgresql"
    )
