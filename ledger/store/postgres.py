"""The store on PostgreSQL: the ledger's tables in one schema of a database.

Writers of records serialise on an EXCLUSIVE lock of the records table; other writes
(views, keys, the audit tables) take no table lock. Subscribers are woken by
LISTEN/NOTIFY. Concurrent DDL takes turns on one advisory lock per schema.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar
from uuid import UUID

import psycopg
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    ListenNotifySubscription,
    OperationalError,
    Subscription,
    Tracking,
)
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier, Literal
from psycopg.types.string import ByteaBinaryLoader
from psycopg_pool import PoolTimeout

from ledger.store import tables
from ledger.store.address import describe
from ledger.store.base import ConfigurationError, Store
from ledger.store.recorder import LedgerSQL
from ledger.store.tables import EVENTS_TABLE, MERKLE_TABLE, Types

__all__ = ["LedgerSubscription", "PostgresLedgerRecorder", "PostgresStore", "open_store"]

BINARY_COPY_TABLES = frozenset({EVENTS_TABLE, MERKLE_TABLE})
"""Tables whose rows :meth:`PostgresStore.insert_rows` sends by binary COPY: rows the
recorder builds itself, every value already of its column's Python type (int, str,
bytes, UUID). Binary COPY skips the text formatting of every value (the bulk path's
flush); other tables' rows go as text, whatever Python types they hold."""


class PostgresStore(Store):
    """The ledger's database on PostgreSQL, in ``datastore.schema``
    (``ledger.store.base.Store``)."""

    types: ClassVar[Types] = Types(
        bigint="bigint",
        smallint="smallint",
        uuid="uuid",
        blob="bytea",
        code_point_text='text COLLATE "C"',  # ordered by code point, as the heads tree is
        without_rowid="",
    )
    parallel_rebuild: ClassVar[bool] = True
    recorder: PostgresLedgerRecorder

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore
        self.schema = datastore.schema
        self._events = SQL("{0}.{1}").format(Identifier(self.schema), Identifier(EVENTS_TABLE))
        self._copy_types: dict[tuple[str, str], list[str]] = {}
        """(table, columns) → the columns' PostgreSQL types, for binary COPY."""
        self.recorder = PostgresLedgerRecorder(self)

    @property
    def tracking_table(self) -> str:
        return f'"{self.schema}"."{self.recorder.tracking_table_name}"'

    def table(self, name: str) -> str:
        return f'"{self.schema}".{name}'

    def sql(self, text: str) -> str:
        return text

    def where_in(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(%s)", [list(values)]

    def literal_in(self, column: str, values: Sequence[str]) -> str | None:
        return SQL("{0} = ANY({1})").format(SQL(column), Literal(list(values))).as_string(None)

    def id_param(self, originator_id: UUID) -> Any:
        return originator_id

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row) as cursor,
        ):
            yield cursor

    @contextlib.contextmanager
    def locked_transaction(self, then: Sequence[str] = ()) -> Iterator[Any]:
        # BEGIN goes in the round trip that takes the lock, and the transaction ends in
        # the round trip of its last writes when :meth:`commit_rows` sends them
        # (``_block``).
        lock = SQL(
            "BEGIN; SET LOCAL lock_timeout = '{0}s'; LOCK TABLE {1} IN EXCLUSIVE MODE"
        ).format(self.datastore.lock_timeout, self._events)
        with self.datastore.get_connection() as conn:
            try:
                with _block(conn) as cursor:
                    _execute_all(cursor, lock.as_string(conn), then)
                    yield cursor
            except psycopg.errors.UniqueViolation as e:
                raise IntegrityError(e) from e
            except psycopg.OperationalError as e:
                raise OperationalError(e) from e

    PIPELINED_ROWS: ClassVar[int] = 64
    """Up to this many rows, :meth:`commit_rows` sends them with the COMMIT in one round
    trip (pipeline mode, which cannot carry COPY); more go by COPY, then the COMMIT."""

    def commit_rows(self, cursor: Any, inserts: Sequence[tuple[str, str, Sequence[Any]]]) -> None:
        if sum(len(rows) for _, _, rows in inserts) > self.PIPELINED_ROWS:
            super().commit_rows(cursor, inserts)
            cursor.execute("COMMIT")
            return
        with cursor.connection.pipeline():
            for table, columns, rows in inserts:
                if rows:
                    marks = ", ".join(["%s"] * len(rows[0]))
                    cursor.executemany(
                        SQL("INSERT INTO {0}.{1} ({2}) VALUES ({3})").format(
                            Identifier(self.schema), Identifier(table), SQL(columns), SQL(marks)
                        ),
                        rows,
                    )
            cursor.execute("COMMIT")

    @contextlib.contextmanager
    def read_transaction(self, *, snapshot: bool = True, then: Sequence[str] = ()) -> Iterator[Any]:
        # BEGIN travels with the first statements, in one round trip (``_block``).
        begin = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY" if snapshot else "BEGIN"
        with self.datastore.get_connection() as conn, _block(conn) as cursor:
            _execute_all(cursor, begin, then)
            yield cursor

    @contextlib.contextmanager
    def one_statement(self) -> Iterator[Any]:
        # The pool's connections are in autocommit mode: the statement is its own
        # transaction.
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
            yield cursor

    @contextlib.contextmanager
    def audit_reader(self) -> Iterator[Any]:
        # uuid columns arrive as their 16 raw bytes: building UUID objects would cost more
        # than checking the row.
        with self.read_transaction() as cursor:
            cursor.adapters.register_loader("uuid", ByteaBinaryLoader)
            yield cursor

    def insert_rows(
        self, cursor: Any, table: str, columns: str, rows: Sequence[tuple[Any, ...]]
    ) -> None:
        binary = table in BINARY_COPY_TABLES
        types = self._column_types(cursor, table, columns) if binary else None
        with cursor.copy(
            SQL("COPY {0}.{1} ({2}) FROM STDIN{3}").format(
                Identifier(self.schema),
                Identifier(table),
                SQL(columns),
                SQL(" (FORMAT BINARY)" if binary else ""),
            )
        ) as copy:
            if types is not None:
                copy.set_types(types)
            write = copy.write_row
            for row in rows:
                write(row)

    def _column_types(self, cursor: Any, table: str, columns: str) -> list[str]:
        """The PostgreSQL types of ``columns`` of ``table`` (from the catalogue, once)."""
        key = (table, columns)
        found = self._copy_types.get(key)
        if found is None:
            cursor.execute(
                "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (self.table(table),),
            )
            by_name = {name: kind for name, kind in cursor.fetchall()}
            found = self._copy_types[key] = [by_name[c.strip()] for c in columns.split(",")]
        return found

    def fetch(self, cursor: Any, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor.execute(sql, params, binary=True)
        return list(cursor.fetchall())

    # A table filled by COPY has no statistics until autovacuum analyses it, and then
    # ``event_id = ANY(500 ids)`` is planned as a sequential scan: measured 410 ms for a
    # 2,000-event batch's idempotency lookup at 160,000 records, 15 ms with this, and
    # growing with the table without it.
    index_preference: ClassVar[tuple[str, ...]] = ("SET LOCAL enable_seqscan = off",)

    def overwrite_deleted(self, cursor: Any) -> None:
        pass  # old row versions stay until VACUUM (``compact``)

    def compact(self, table_names: Sequence[str]) -> None:
        # PostgreSQL keeps old row versions until VACUUM (which cannot run in a transaction).
        names = ", ".join(self.table(name) for name in table_names)
        with contextlib.suppress(Exception), self.datastore.get_connection() as conn:
            autocommit = conn.autocommit
            conn.autocommit = True
            try:
                conn.execute(f"VACUUM {names}")
            finally:
                conn.autocommit = autocommit

    def serialise_schema_changes(self, cursor: Any) -> None:
        # CREATE TABLE IF NOT EXISTS is not safe against itself in two sessions: services
        # started together (serve, project, feed …) failed on pg_type's unique index. A
        # transaction-level advisory lock per schema makes them take turns (the key
        # predates the ledger's own tables taking it too).
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{self.schema}/views",))

    def _raise_if_unreachable(self, error: Exception) -> None:
        if isinstance(error.__cause__, PoolTimeout):  # racing is not the cause
            raise ConfigurationError(f"cannot connect to the database: {error}") from error

    def close(self) -> None:
        self.datastore.close()


class PostgresLedgerRecorder(LedgerSQL, PostgresTrackingRecorder):
    """The ledger on PostgreSQL (``ledger.store.recorder``)."""

    def __init__(self, store: PostgresStore) -> None:
        self._bind(store)
        PostgresTrackingRecorder.__init__(
            self, store.datastore, tracking_table_name="ledger_tracking"
        )
        self.channel_name = f"{store.schema}_{EVENTS_TABLE}"
        self.notify_statement = SQL("NOTIFY {0}").format(Identifier(self.channel_name)).as_string()
        self.sql_create_statements += [SQL(s) for s in store.ddl(tables.LEDGER)]  # type: ignore[misc]

    def _create_table(self, curs: Any) -> None:
        # The same turn-taking as every other DDL of this schema (``Store.create_tables``).
        self.store.serialise_schema_changes(curs)
        super()._create_table(curs)

    def select_heads(self, cursor: Any, size: int, after: int = 0) -> list[tuple[str, int, bytes]]:
        cursor.execute("SET LOCAL work_mem = '256MB'")  # sort in memory, not on disk
        rows = self.store.fetch(
            cursor,
            f'SELECT DISTINCT ON (subject COLLATE "C") subject, originator_version, hash '
            f"FROM {self.events_table} WHERE notification_id > %s AND notification_id <= %s "
            'ORDER BY subject COLLATE "C", originator_version DESC',
            (after, size),
        )
        return [(r[0], r[1], bytes(r[2])) for r in rows]

    def record_tracking(self, cursor: Any, tracking: Tracking) -> None:
        cursor.execute(
            self.insert_tracking_statement,
            {
                "application_name": tracking.application_name,
                "notification_id": tracking.notification_id,
            },
        )
        if cursor.fetchone() is None:
            msg = (
                f"tracking {tracking.application_name} {tracking.notification_id} already recorded"
            )
            raise IntegrityError(msg)

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        return LedgerSubscription(self, gt=gt, topics=topics)


class LedgerSubscription(ListenNotifySubscription[PostgresLedgerRecorder]):
    """Iterates notifications after ``gt``, blocking for new ones (LISTEN/NOTIFY)."""

    def __init__(
        self, recorder: PostgresLedgerRecorder, gt: int | None = None, topics: Sequence[str] = ()
    ) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._listen_thread = threading.Thread(target=self._listen, daemon=True)
        self._listen_thread.start()

    def __exit__(self, *args: object, **kwargs: Any) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._listen_thread.join()

    def _listen(self) -> None:
        try:
            with self._recorder.datastore.get_connection() as conn:
                conn.execute(SQL("LISTEN {0}").format(Identifier(self._recorder.channel_name)))
                while not self._has_been_stopped and not self._thread_error:
                    for _ in conn.notifies(timeout=0.1, stop_after=1):
                        self._has_been_notified.set()
        except BaseException as e:
            if self._thread_error is None:
                self._thread_error = e
            self.stop()


_OPEN = frozenset({TransactionStatus.INTRANS, TransactionStatus.INERROR})
"""The states of a connection inside a transaction block (not idle, not busy, not broken)."""


@contextlib.contextmanager
def _block(conn: psycopg.Connection[Any]) -> Iterator[Any]:
    """A cursor of ``conn`` for a transaction block its caller opens with its first
    statement (``BEGIN; …``: one round trip less than psycopg's own ``transaction()``,
    which sends BEGIN alone; the pool's connections are in autocommit mode, so psycopg
    adds no statement of its own). A block left open on a clean exit is committed; on
    an exception it is rolled back."""
    with conn.cursor(row_factory=tuple_row) as cursor:
        try:
            yield cursor
            if conn.pgconn.transaction_status != TransactionStatus.IDLE:
                cursor.execute("COMMIT")
        finally:
            if conn.pgconn.transaction_status in _OPEN:
                with contextlib.suppress(psycopg.Error):
                    conn.execute("ROLLBACK")


def _execute_all(cursor: Any, first: str, then: Sequence[str]) -> None:
    """Run ``first`` and ``then`` in one round trip (simple query protocol, so no
    parameters); the cursor is left on the last statement's result."""
    cursor.execute("; ".join((first, *then)))
    while cursor.nextset():
        pass


SESSION_OPTIONS = "-c jit=off -c max_parallel_workers_per_gather=0"
"""Set on every connection of the ledger's pool (libpq ``options``). The ledger's
statements are short, index-driven reads and appends. When a table's statistics are
missing or stale (filled by ``COPY``, not yet analysed; autovacuum late or turned off),
the planner expects thousands of rows per subject and picks a parallel plan compiled by
JIT. Measured at 10,000,000 records without statistics, the cold load of three subjects
(``originator_id = ANY(…)``, 501 rows) took 167 ms; 19 ms without JIT, 1.2 ms also
without parallel workers. Nothing the ledger asks gains from either."""


def open_store(url: str, *, pool_size: int = 4, lock_timeout_s: int = 30) -> PostgresStore:
    """The store of a ``postgresql://user:password@host:port/dbname[?schema=name]`` URL
    (schema ``public`` by default), with the ledger's and the audit tables created; its
    connections run with :data:`SESSION_OPTIONS`."""
    address = describe(url)
    if address.kind != "postgres":
        raise ConfigurationError(f"LEDGER_DATABASE_URL {url!r} is not a PostgreSQL URL")
    datastore = PostgresDatastore(
        dbname=address.dbname,
        host=address.host,
        port=address.port,
        user=address.user,
        password=address.password,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        lock_timeout=lock_timeout_s,
        schema=address.schema,
    )
    connect_kwargs = datastore.pool.kwargs  # eventsourcing's connect() arguments, a dict
    assert isinstance(connect_kwargs, dict)
    connect_kwargs["options"] = SESSION_OPTIONS  # the pool connects on first use
    store = PostgresStore(datastore)
    store._create_ledger_tables()
    return store
