"""The store on SQLite (the embedded default): one file, or shared memory.

Writers serialise on ``BEGIN IMMEDIATE`` (the whole database's write lock, which is
also the ledger's); there are no subscriptions (projections pull).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlparse
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    OperationalError,
    Subscription,
    Tracking,
)
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from ledger.store import tables
from ledger.store.base import ConfigurationError, Store
from ledger.store.recorder import LedgerSQL
from ledger.store.tables import Types

__all__ = ["SQLiteLedgerRecorder", "SQLiteStore", "open_store"]


class SQLiteStore(Store):
    """The ledger's database on SQLite (``ledger.store.base.Store``)."""

    types: ClassVar[Types] = Types(
        bigint="INTEGER",
        smallint="INTEGER",
        uuid="TEXT",
        blob="BLOB",
        code_point_text="TEXT",  # BINARY collation: UTF-8 bytes sort in code-point order
        without_rowid=" WITHOUT ROWID",
    )
    parallel_rebuild: ClassVar[bool] = False
    index_preference: ClassVar[tuple[str, ...]] = ()  # the planner picks the indexes anyway
    recorder: SQLiteLedgerRecorder

    def __init__(self, datastore: SQLiteDatastore) -> None:
        self.datastore = datastore
        self.recorder = SQLiteLedgerRecorder(self)

    @property
    def tracking_table(self) -> str:
        return "tracking"

    def table(self, name: str) -> str:
        return name

    def sql(self, text: str) -> str:
        return text.replace("%s", "?")

    def where_in(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return f"{column} IN ({','.join('?' * len(values))})", list(values)

    def id_param(self, originator_id: UUID) -> Any:
        return originator_id.hex

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.datastore.get_connection(commit=True) as conn:
            raw = conn._sqlite_conn
            cursor = raw.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
            except Exception as e:  # database locked beyond the busy timeout
                raise OperationalError(e) from e
            try:
                yield cursor
            except BaseException:
                raw.rollback()
                raise
            try:
                raw.commit()
            except Exception as e:
                raise OperationalError(e) from e

    @contextlib.contextmanager
    def locked_transaction(self, then: Sequence[str] = ()) -> Iterator[Any]:
        with self.transaction() as cursor:
            for statement in then:
                cursor.execute(statement)
            yield cursor

    @contextlib.contextmanager
    def read_transaction(self, *, snapshot: bool = True, then: Sequence[str] = ()) -> Iterator[Any]:
        with self.datastore.transaction(commit=False) as cursor:
            for statement in then:
                cursor.execute(statement)
            yield cursor

    def insert_rows(
        self, cursor: Any, table: str, columns: str, rows: Sequence[tuple[Any, ...]]
    ) -> None:
        marks = ",".join("?" * len(rows[0]))
        try:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
        except Exception as e:
            if "UNIQUE" in str(e):
                raise IntegrityError(e) from e
            raise

    def serialise_schema_changes(self, cursor: Any) -> None:
        pass  # the write transaction (BEGIN IMMEDIATE) already makes DDL take turns

    def _raise_if_unreachable(self, error: Exception) -> None:
        pass  # a file is always reachable; what fails is reported as it is

    def overwrite_deleted(self, cursor: Any) -> None:
        cursor.execute("PRAGMA secure_delete = ON")

    def compact(self, table_names: Sequence[str]) -> None:
        # The wiped pages are copied into the database file; the write-ahead log that
        # still holds the old ones is truncated.
        with (
            contextlib.suppress(sqlite3.Error),
            self.datastore.get_connection(commit=True) as conn,
        ):
            conn._sqlite_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self.datastore.close()


class SQLiteLedgerRecorder(LedgerSQL, SQLiteTrackingRecorder):
    """The ledger on SQLite (``ledger.store.recorder``)."""

    def __init__(self, store: SQLiteStore) -> None:
        self._bind(store)
        SQLiteTrackingRecorder.__init__(self, store.datastore)

    def construct_create_table_statements(self) -> list[str]:
        return super().construct_create_table_statements() + self.store.ddl(tables.LEDGER)

    def select_heads(self, cursor: Any, size: int, after: int = 0) -> list[tuple[str, int, bytes]]:
        # SQLite returns the bare columns of the row holding max(); TEXT sorts by bytes
        # (BINARY collation), which for UTF-8 is code-point order.
        cursor.execute(
            f"SELECT subject, max(originator_version), hash FROM {self.events_table} "
            "WHERE notification_id > ? AND notification_id <= ? GROUP BY subject "
            "ORDER BY subject",
            (after, size),
        )
        return [(r[0], r[1], bytes(r[2])) for r in cursor.fetchall()]

    def record_tracking(self, cursor: Any, tracking: Tracking) -> None:
        self._insert_tracking(cursor, tracking)

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        msg = "SQLite cannot notify subscribers; run projections with a pull loop (ledger rebuild/tick)"
        raise NotImplementedError(msg)


def open_store(url: str, *, pool_size: int = 4, lock_timeout_s: int = 30) -> SQLiteStore:
    """The store of a ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or
    ``sqlite:///:memory:`` URL, with the ledger's and the audit tables created (the
    file's folder too)."""
    parsed = urlparse(url)
    path = unquote(parsed.path[1:] if parsed.path.startswith("/") else parsed.path)
    if not path:
        raise ConfigurationError(f"LEDGER_DATABASE_URL {url!r} names no SQLite file")
    if path != ":memory:":
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigurationError(
                f"LEDGER_DATABASE_URL {url!r}: cannot create the folder of the SQLite file "
                f"({e.strerror})"
            ) from e
    else:
        path = "file:ledger?mode=memory&cache=shared"
    store = SQLiteStore(SQLiteDatastore(path, lock_timeout=lock_timeout_s, pool_size=pool_size))
    store._create_ledger_tables()
    return store
