"""The store: one database holding the ledger and everything kept beside it.

A :class:`Store` is built by its backend's one factory (:func:`ledger.store.sqlite.open_store`,
:func:`ledger.store.postgres.open_store`; :func:`ledger.store.open_store` picks one from
``LEDGER_DATABASE_URL``). The factory creates the ledger's and the audit tables and the
store builds what lives in them: the recorder (:attr:`Store.recorder`), the view store
(:meth:`Store.views`) and the person key store (:meth:`Store.person_keys`).

Code outside this package never asks which database it is on. It states what it needs
through the public API below — transactions of three kinds, table names as statements
write them, ``%s`` placeholders, bulk inserts, an ``IN`` predicate, a stream id as the
database stores it — and through capabilities (:attr:`Store.parallel_rebuild`).
"""

from __future__ import annotations

import contextlib
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from ledger.store import tables
from ledger.store.tables import Types

if TYPE_CHECKING:
    from ledger.person_secrets import PersonSecrets
    from ledger.store.person_keys import SQLKeyStore
    from ledger.store.recorder import LedgerSQL
    from ledger.store.views import ViewStore

__all__ = ["ConfigurationError", "Store"]


class ConfigurationError(ValueError):
    """A setting cannot be used; the message says which and why."""


class Store(ABC):
    """The ledger's database (module docstring). Subclasses supply the dialect.

    Every method taking a ``cursor`` runs on a cursor one of the transaction methods
    yielded; rows come back as tuples on both databases.
    """

    types: ClassVar[Types]
    """How this database spells the declarations' types (``ledger.store.tables``)."""
    parallel_rebuild: ClassVar[bool]
    """Whether a view rebuild may fold in worker processes, each with its own store on
    the same database, while the rebuilding transaction holds the view tables."""
    recorder: LedgerSQL
    """The ledger's recorder on this database (built with the store)."""

    # -- names and statements -------------------------------------------------------------
    @property
    @abstractmethod
    def tracking_table(self) -> str:
        """The recorder's tracking table as statements write it (eventsourcing's)."""

    @abstractmethod
    def table(self, name: str) -> str:
        """A table's name as statements write it (schema-qualified on PostgreSQL)."""

    @abstractmethod
    def sql(self, text: str) -> str:
        """``text``, written with ``%s`` placeholders, in this database's placeholders."""

    @abstractmethod
    def where_in(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A ``column IN (values)`` predicate (in this database's placeholders) and its
        parameters."""

    def literal_in(self, column: str, values: Sequence[str]) -> str | None:
        """A ``column IN (values)`` predicate with the values written into it (quoted), for
        a statement sent without parameters in a round trip shared with others; None
        where the database gains nothing by it (SQLite: no round trips)."""
        return None

    @abstractmethod
    def id_param(self, originator_id: UUID) -> Any:
        """A stream id as a statement parameter (the column's stored form)."""

    def ddl(self, declarations: Iterable[str]) -> list[str]:
        """The statements of ``declarations`` (``ledger.store.tables``) for this database:
        a type field gets its spelling here, any other field is a table name."""
        fields = _Fields(self)
        return [declaration.format_map(fields) for declaration in declarations]

    # -- transactions ---------------------------------------------------------------------
    @abstractmethod
    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        """A cursor in a write transaction, committed on a clean exit and rolled back on
        an exception. It does not hold the ledger's write lock (on SQLite, whose writers
        take the whole database, it holds it anyway)."""

    @abstractmethod
    def locked_transaction(
        self, then: Sequence[str] = ()
    ) -> contextlib.AbstractContextManager[Any]:
        """A cursor in a write transaction holding the ledger's write lock: nothing is
        appended by anyone else until it ends. Commits on a clean exit; raises
        ``eventsourcing.persistence.IntegrityError`` for a broken unique key and
        ``OperationalError`` when the lock cannot be had.

        ``then``: statements without parameters run right after the lock is taken
        (PostgreSQL: in the same round trip, so the lock is held no longer for them);
        the cursor holds the last one's result."""

    @abstractmethod
    def read_transaction(
        self, *, snapshot: bool = True, then: Sequence[str] = ()
    ) -> contextlib.AbstractContextManager[Any]:
        """A cursor for reads: over one consistent snapshot, or (``snapshot`` false) for a
        few lookups that need none, which saves PostgreSQL a statement. ``then`` as for
        :meth:`locked_transaction`."""

    def one_statement(self) -> contextlib.AbstractContextManager[Any]:
        """A cursor for ONE read statement, which is its own snapshot: no transaction
        block around it (PostgreSQL: one round trip instead of BEGIN, the statement and
        COMMIT). Two statements on it may see different states of the database."""
        return self.read_transaction(snapshot=False)

    def audit_reader(self) -> contextlib.AbstractContextManager[Any]:
        """A read-only cursor over one snapshot for the audit's reads (``fetch``); stream
        ids come in the cheapest form the database has (``ledger.store.rows``)."""
        return self.read_transaction()

    # -- statements on a cursor -------------------------------------------------------------
    @abstractmethod
    def insert_rows(
        self, cursor: Any, table: str, columns: str, rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Insert ``rows`` (in ``columns`` order) into ``table`` (its bare name) the fastest
        way the database has (PostgreSQL: COPY); a repeated key raises ``IntegrityError``
        (at the latest when the transaction commits)."""

    def commit_rows(self, cursor: Any, inserts: Sequence[tuple[str, str, Sequence[Any]]]) -> None:
        """The last writes of a :meth:`locked_transaction`: insert each ``(table, columns,
        rows)`` as :meth:`insert_rows` does, and commit (PostgreSQL: a few rows travel
        with the COMMIT, in one round trip under the lock). Nothing may be written in the
        transaction after it; a repeated key raises ``IntegrityError``, nothing committed."""
        for table, columns, rows in inserts:
            if rows:
                self.insert_rows(cursor, table, columns, rows)

    def fetch(self, cursor: Any, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Execute a read (``sql`` already in this database's placeholders) and return
        every row as a tuple (PostgreSQL: binary transfer)."""
        cursor.execute(sql, params)
        return list(cursor.fetchall())

    index_preference: ClassVar[tuple[str, ...]] = ()
    """The statements that make a transaction's key lookups use the indexes even where
    the planner lacks statistics (:meth:`prefer_indexes`)."""

    def prefer_indexes(self, cursor: Any) -> None:
        """Make this transaction's key lookups use the indexes even where the planner
        lacks statistics."""
        for statement in self.index_preference:
            cursor.execute(statement)

    @abstractmethod
    def overwrite_deleted(self, cursor: Any) -> None:
        """Make what this transaction deletes overwrite its bytes where the database can
        (SQLite ``secure_delete``; PostgreSQL leaves that to :meth:`compact`)."""

    @abstractmethod
    def compact(self, table_names: Sequence[str]) -> None:
        """Best effort, outside any transaction: drop the old versions of rows deleted or
        overwritten in ``table_names`` (SQLite: truncate the write-ahead log; PostgreSQL:
        VACUUM the tables)."""

    # -- schema ---------------------------------------------------------------------------
    @abstractmethod
    def serialise_schema_changes(self, cursor: Any) -> None:
        """Make the DDL of concurrent processes on this database take turns, until the
        transaction of ``cursor`` ends (SQLite: its write transaction already does)."""

    def create_tables(self, declarations: Iterable[str]) -> None:
        """Create the tables of ``declarations`` if they do not exist, in one transaction
        serialised against every other process's DDL (:meth:`serialise_schema_changes`)."""
        statements = self.ddl(declarations)
        with self.transaction() as cursor:
            self.serialise_schema_changes(cursor)
            for statement in statements:
                cursor.execute(statement)

    def _create_ledger_tables(self) -> None:
        """The factory's step: the recorder's tables, then the audit tables."""

        def create() -> None:
            self.recorder.create_table()  # type: ignore[attr-defined]  # eventsourcing's
            self.create_tables(tables.AUDIT)

        self._retry_racing(create)

    def _retry_racing(self, create: Callable[[], None]) -> None:
        """Run ``create``, again a few times if it fails: processes starting together may
        still race on eventsourcing's tracking migration, which runs before our lock."""
        for attempt in range(5):
            try:
                create()
                return
            except Exception as e:
                self._raise_if_unreachable(e)
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))

    @abstractmethod
    def _raise_if_unreachable(self, error: Exception) -> None:
        """Raise :class:`ConfigurationError` if ``error`` says the database cannot be
        reached at all (retrying would not help)."""

    # -- what lives in the store ------------------------------------------------------------
    def views(self, *, create: bool = True) -> ViewStore:
        """The view store on this database, its tables created unless ``create`` is false
        (a rebuild worker: the rebuilding transaction holds the tables, and creating an
        index would wait for it)."""
        from ledger.store.views import ViewStore

        store = ViewStore(self)
        if create:
            store.create_tables()
        return store

    def person_keys(self, secret: bytes | Any | PersonSecrets) -> SQLKeyStore:
        """The person key store on this database, its tables created if needed. ``secret``
        is the HMAC secret or the file holding it (``ledger.sealing.KeyStore``)."""
        from ledger.store.person_keys import SQLKeyStore

        self._retry_racing(lambda: self.create_tables(tables.PERSON_KEYS))
        return SQLKeyStore(self, secret)

    @abstractmethod
    def close(self) -> None:
        """Close the database connections."""


class _Fields(dict[str, str]):
    """The fields of a declaration: types from ``store.types``, tables qualified."""

    def __init__(self, store: Store) -> None:
        super().__init__({name: getattr(store.types, name) for name in Types.__slots__})
        self._store = store

    def __missing__(self, name: str) -> str:
        return self._store.table(name)
