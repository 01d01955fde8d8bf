"""The ledger's recorder: an eventsourcing recorder whose events table is the ledger.

One table, ``ledger_records``, is at once the eventsourcing stored-events table
(``originator_id``, ``originator_version``, ``topic``, ``state``,
``notification_id``) and the audit log: each row also holds the subject code,
the CloudEvents ``source`` and ``id`` (unique together: idempotency enforced by
the database), both clocks, and the chain ``hash``/``prev`` of AUDIT-FORMAT.md.

``notification_id`` is the dense ledger ``position`` plus one. It is assigned
under the write lock the library already takes to keep notification order equal
to commit order (PostgreSQL: ``LOCK TABLE … IN EXCLUSIVE MODE``; SQLite:
``BEGIN IMMEDIATE``; ``Store.locked_transaction``), so a rolled-back transaction
leaves no gap. The Merkle tree's perfect subtrees of height ≥ ``STORED_MIN_LEVEL``
are written in the same transaction (``ledger_merkle``); lower ones are recomputed
from at most 2^STORED_MIN_LEVEL − 1 leaves when needed.

:class:`LedgerSQL` holds every statement once, written for the store's public API
(``ledger.store.base.Store``); ``ledger.store.sqlite`` and ``ledger.store.postgres``
add what each database does its own way (tracking, subject heads, notifications).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    Notification,
    StoredEvent,
    Tracking,
)

from events.recorded import RecordedEvent
from ledger import merkle
from ledger.store.audit_reads import STORED_MIN_LEVEL, AuditReads, chunks
from ledger.store.rows import COLUMNS, row_to_event, row_to_notification, stream_id
from ledger.store.sessions import Head, Prefetched, ReadSession, WriteSession
from ledger.store.tables import (
    CHECKPOINTS_TABLE,
    EVENTS_TABLE,
    HEAD_NODES_TABLE,
    HEADS_TABLE,
    MERKLE_TABLE,
    SNAPSHOTS_TABLE,
)

if TYPE_CHECKING:
    from ledger.store.base import Store

__all__ = ["STORED_MIN_LEVEL", "LedgerSQL"]


class LedgerSQL(AuditReads, ApplicationRecorder):
    """The ledger on a :class:`~ledger.store.base.Store`; the statements are the store's,
    the backends' subclasses add what each database does its own way."""

    store: Store
    """The database the recorder is on (``ledger.store.base``)."""
    events_table: str
    """The records table as statements write it (schema-qualified on PostgreSQL)."""
    merkle_table: str
    checkpoints_table: str
    heads_table: str
    head_nodes_table: str
    snapshots_table: str
    _frontier: tuple[int, dict[int, bytes]] | None = None

    def _bind(self, store: Store) -> None:
        """Attach the recorder to its store and name its tables as statements write them."""
        self.store = store
        self.events_table = store.table(EVENTS_TABLE)
        self.merkle_table = store.table(MERKLE_TABLE)
        self.checkpoints_table = store.table(CHECKPOINTS_TABLE)
        self.heads_table = store.table(HEADS_TABLE)
        self.head_nodes_table = store.table(HEAD_NODES_TABLE)
        self.snapshots_table = store.table(SNAPSHOTS_TABLE)
        self._frontier = None

    # -- what each database does its own way ------------------------------------------
    def record_tracking(self, cursor: Any, tracking: Tracking) -> None:
        """Record, in the transaction of ``cursor``, that ``tracking.application_name``
        has processed up to ``tracking.notification_id``; ``IntegrityError`` if that is
        not beyond what it had recorded."""
        raise NotImplementedError

    def select_heads(self, cursor: Any, size: int, after: int = 0) -> list[tuple[str, int, bytes]]:
        """Every subject's head ``(subject, seq, hash)`` among the records with
        ``after <= position < size``, sorted by subject code (code-point order)."""
        raise NotImplementedError

    notify_statement: str | None = None
    """The statement that wakes subscribers once a write transaction commits (if the
    database can): a write session sends it as it takes the lock, in the same round trip
    (a session that appends nothing wakes them for nothing, which costs them one read)."""

    # -- statements -----------------------------------------------------------------
    def _head(self, cursor: Any) -> Head:
        cursor.execute(
            f"SELECT notification_id, recorded_us FROM {self.events_table} "
            "ORDER BY notification_id DESC LIMIT 1"
        )
        row = cursor.fetchone()
        return Head(0, 0) if row is None else Head(row[0], row[1])

    def select_streams(
        self, cursor: Any, originator_ids: Sequence[UUID]
    ) -> dict[UUID, list[RecordedEvent]]:
        result: dict[UUID, list[RecordedEvent]] = {}
        for chunk in chunks(list(originator_ids), 500):
            pred, params = self.store.where_in(
                "originator_id", [self.store.id_param(i) for i in chunk]
            )
            cursor.execute(
                f"SELECT {COLUMNS} FROM {self.events_table} WHERE {pred} "
                "ORDER BY originator_id, originator_version",
                params,
            )
            for row in cursor.fetchall():
                event = row_to_event(row)
                result.setdefault(event.originator_id, []).append(event)
        return result

    def changed_since(self, cursor: Any, size: int, head: int) -> set[UUID]:
        # Both bounds: with only the lower one PostgreSQL may choose a sequential
        # scan when statistics are stale (measured: 124 ms at 300k rows vs 0.07 ms).
        cursor.execute(
            self.store.sql(
                f"SELECT DISTINCT originator_id FROM {self.events_table} "
                "WHERE notification_id > %s AND notification_id <= %s"
            ),
            (size, head),
        )
        return {stream_id(r[0]) for r in cursor.fetchall()}

    def select_tail(self, cursor: Any, originator_id: UUID, after: int) -> list[RecordedEvent]:
        cursor.execute(
            self.store.sql(
                f"SELECT {COLUMNS} FROM {self.events_table} WHERE originator_id = %s "
                "AND originator_version > %s ORDER BY originator_version"
            ),
            (self.store.id_param(originator_id), after),
        )
        return [row_to_event(r) for r in cursor.fetchall()]

    def select_by_keys(
        self, cursor: Any, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], RecordedEvent]:
        wanted = set(keys)
        found: dict[tuple[str, str], RecordedEvent] = {}
        for chunk in chunks(sorted({k[1] for k in wanted}), 500):
            pred, params = self.store.where_in("event_id", chunk)
            cursor.execute(f"SELECT {COLUMNS} FROM {self.events_table} WHERE {pred}", params)
            for row in cursor.fetchall():
                key = (row[6], row[7])
                if key in wanted:
                    found[key] = row_to_event(row)
        return found

    def select_snapshots(self, cursor: Any, originator_ids: Sequence[UUID]) -> dict[UUID, bytes]:
        """The stored decision-state snapshot of each given stream that has one whose
        record (seq and hash) the ledger still holds: id → snapshot bytes."""
        found: dict[UUID, bytes] = {}
        for chunk in chunks(list(originator_ids), 500):
            pred, params = self.store.where_in(
                "s.originator_id", [self.store.id_param(i) for i in chunk]
            )
            cursor.execute(
                f"SELECT s.originator_id, s.state FROM {self.snapshots_table} s "
                f"JOIN {self.events_table} r ON r.originator_id = s.originator_id "
                "AND r.originator_version = s.originator_version AND r.hash = s.head "
                f"WHERE {pred}",
                params,
            )
            for oid, state in cursor.fetchall():
                found[stream_id(oid)] = bytes(state)
        return found

    def put_snapshots(self, rows: Sequence[tuple[UUID, int, bytes, bytes]]) -> None:
        """Store (stream id, seq, head hash, snapshot) rows, each replacing an older
        snapshot of its stream, in one short transaction of its own (no write lock)."""
        if not rows:
            return
        with self.store.transaction() as cursor:
            cursor.executemany(
                self.store.sql(
                    f"INSERT INTO {self.snapshots_table} AS t (originator_id, "
                    "originator_version, head, state) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (originator_id) DO UPDATE SET "
                    "originator_version = excluded.originator_version, head = excluded.head, "
                    "state = excluded.state WHERE excluded.originator_version > t.originator_version"
                ),
                [(self.store.id_param(oid), seq, head, state) for oid, seq, head, state in rows],
            )

    # -- writing ----------------------------------------------------------------------
    RECENT_LIMIT = 1000
    """The most records a session reads with its head (``since``)."""

    KEYS_AT_OPENING = 64
    """Up to this many (source, id) keys, a session looks them up in the round trip that
    opens it (``keys``); more are looked up when asked (``ReadSession.existing``)."""

    def _opening(self, since: int | None, keys: Sequence[tuple[str, str]] = ()) -> list[str]:
        """What a session runs as it opens (in the round trip that starts it): prefer
        the indexes, then read the head — with ``since``, also every record after that
        position, up to ``RECENT_LIMIT`` + 1 of them, and the records of ``keys`` when
        the store can write them into the statement (``Store.literal_in``)."""
        statements = list(self.store.index_preference)
        if since is None:
            statements.append(
                f"SELECT notification_id, recorded_us FROM {self.events_table} "
                "ORDER BY notification_id DESC LIMIT 1"
            )
            return statements
        opened = (
            f"SELECT * FROM (SELECT {COLUMNS} FROM {self.events_table} "
            f"WHERE notification_id > {int(since)} ORDER BY notification_id "
            f"LIMIT {self.RECENT_LIMIT + 1}) AS recent UNION ALL SELECT * FROM "
            f"(SELECT {COLUMNS} FROM {self.events_table} "
            "ORDER BY notification_id DESC LIMIT 1) AS head"
        )
        pred = self._keys_predicate(keys)
        if pred is not None:
            # The key rows travel in the same result, told apart by a last column.
            opened = (
                f"SELECT *, 0 FROM ({opened}) AS opened UNION ALL "
                f"SELECT {COLUMNS}, 1 FROM {self.events_table} WHERE {pred}"
            )
        statements.append(opened)
        return statements

    def _keys_predicate(self, keys: Sequence[tuple[str, str]]) -> str | None:
        ids = sorted({k[1] for k in keys})
        if not ids or len(ids) > self.KEYS_AT_OPENING:
            return None
        return self.store.literal_in("event_id", ids)

    def _opened(
        self, cursor: Any, since: int | None, keys: Sequence[tuple[str, str]] = ()
    ) -> tuple[Head, list[RecordedEvent] | None, Prefetched | None]:
        """The head, recent records and records of ``keys`` (None when they were not
        looked up) :meth:`_opening`'s last statement returned."""
        rows = cursor.fetchall()
        if since is None:
            return (Head(0, 0) if not rows else Head(rows[0][0], rows[0][1])), None, None
        prefetched = None
        if self._keys_predicate(keys) is not None:
            wanted = frozenset(keys)
            found = {(r[6], r[7]): r for r in rows if r[-1] == 1}
            prefetched = Prefetched(
                wanted, {key: row_to_event(row) for key, row in found.items() if key in wanted}
            )
            rows = [r[:-1] for r in rows if r[-1] == 0]
        if not rows:
            return Head(0, 0), ([] if since == 0 else None), prefetched
        last = max(rows, key=lambda r: r[0])
        head = Head(last[0], last[10])
        after = sorted({r[0]: r for r in rows if r[0] > since}.values(), key=lambda r: r[0])
        if head.size < since or len(after) != head.size - since:
            return head, None, prefetched  # the ledger shrank, or more than RECENT_LIMIT
        frontier = self._frontier
        if after and frontier is not None and frontier[0] == since:
            leaves = [merkle.leaf_hash(bytes(r[12])) for r in after]
            self._frontier = (head.size, merkle.append(since, frontier[1], leaves)[1])
        return head, [row_to_event(r) for r in after], prefetched

    @contextlib.contextmanager
    def read(
        self, *, since: int | None = None, keys: Sequence[tuple[str, str]] = ()
    ) -> Iterator[ReadSession]:
        """A read session on one snapshot, without the write lock (see ``ReadSession``);
        with ``since``, it also holds the records after that position (``recent``), and
        the records of ``keys`` are looked up as it opens (``ReadSession.existing``)."""
        with self.store.read_transaction(then=self._opening(since, keys)) as cursor:
            head, recent, prefetched = self._opened(cursor, since, keys)
            yield ReadSession(self, cursor, head, recent, prefetched)

    @contextlib.contextmanager
    def write(
        self,
        now_us: int,
        tracking: Sequence[Tracking] = (),
        *,
        since: int | None = None,
        keys: Sequence[tuple[str, str]] = (),
    ) -> Iterator[WriteSession]:
        """Open a write session (see ``WriteSession``); commit what it appended, and the
        tracking records (positions consumed upstream, e.g. Kafka offsets), on exit.
        A tracking record not beyond the one already stored raises IntegrityError:
        the batch was already processed. ``since`` and ``keys`` as for :meth:`read`: the
        records other writers committed after ``since`` are read in the round trip that
        takes the lock (and advance the cached Merkle frontier without another read)."""
        opening = self._opening(since, keys)
        if self.notify_statement is not None:
            opening.insert(0, self.notify_statement)
        with self.store.locked_transaction(then=opening) as cursor:
            head, recent, prefetched = self._opened(cursor, since, keys)
            session = WriteSession(self, cursor, head, now_us, recent, prefetched)
            session.tracking = tracking
            yield session
            frontier = self._flush(cursor, session)
        # Committed: remember the frontier for the next write. It is trusted only
        # while the ledger size it belongs to is still the head (checked at load).
        if frontier is not None:
            self._frontier = (session.size, frontier)

    def _flush(self, cursor: Any, session: WriteSession) -> dict[int, bytes] | None:
        rows = session.rows
        for tracking in session.tracking:
            self.record_tracking(cursor, tracking)
        if not rows:
            return None
        size = session.head.size
        frontier = self._load_frontier(cursor, size)
        nodes, new_frontier = merkle.append(size, frontier, [merkle.leaf_hash(r[12]) for r in rows])
        stored = [(lvl, idx, h) for (lvl, idx, h) in nodes if lvl >= STORED_MIN_LEVEL]
        self.store.commit_rows(
            cursor, [(EVENTS_TABLE, COLUMNS, rows), (MERKLE_TABLE, "level, idx, hash", stored)]
        )
        return new_frontier

    def _load_frontier(self, cursor: Any, size: int) -> dict[int, bytes]:
        cached = self._frontier
        if cached is not None and cached[0] == size:
            return cached[1]
        nodes = merkle.frontier(size)
        found = self.tree_nodes(cursor, nodes)  # one statement, not one per node
        return {level: found[(level, idx)] for level, idx in nodes}

    # -- the tree -----------------------------------------------------------------------
    def _node(self, cursor: Any, level: int, idx: int) -> bytes:
        """The hash of perfect subtree (level, idx) of the committed tree."""
        if level >= STORED_MIN_LEVEL:
            cursor.execute(
                self.store.sql(
                    f"SELECT hash FROM {self.merkle_table} WHERE level = %s AND idx = %s"
                ),
                (level, idx),
            )
            row = cursor.fetchone()
            if row is None:
                msg = f"Merkle node ({level}, {idx}) is missing from {self.merkle_table}"
                raise LookupError(msg)
            return bytes(row[0])
        start = idx << level
        cursor.execute(
            self.store.sql(
                f"SELECT hash FROM {self.events_table} WHERE notification_id > %s "
                "AND notification_id <= %s ORDER BY notification_id"
            ),
            (start, start + (1 << level)),
        )
        leaves = [merkle.leaf_hash(bytes(r[0])) for r in cursor.fetchall()]
        if len(leaves) != 1 << level:
            msg = f"leaves {start}..{start + (1 << level) - 1} are not all in the ledger"
            raise LookupError(msg)
        return merkle.root(leaves)

    def tree_node_reader(self) -> contextlib.AbstractContextManager[Callable[[int, int], bytes]]:
        """A context yielding ``node(level, idx)`` over one consistent read snapshot."""

        @contextlib.contextmanager
        def reader() -> Iterator[Callable[[int, int], bytes]]:
            with self.store.read_transaction() as cursor:
                yield lambda level, idx: self._node(cursor, level, idx)

        return reader()

    # -- eventsourcing's recorder interface -------------------------------------------------
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Not supported: the ledger appends through ``write()``, which chains each record
        under the write lock. (Accepting pre-built stored events would let a caller
        choose positions and hashes.)"""
        msg = "append to the ledger with LedgerSQL.write(); insert_events cannot chain records"
        raise NotImplementedError(msg)

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        return [
            row_to_notification(r)
            for r in self.select_stream_rows(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        ]

    def select_stream_rows(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
        recorded_lte: int | None = None,
    ) -> list[tuple[Any, ...]]:
        """Rows (``COLUMNS`` order) of one stream, filtered by seq and recording time."""
        oid = originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
        sql = f"SELECT {COLUMNS} FROM {self.events_table} WHERE originator_id = %s"
        params: list[Any] = [self.store.id_param(oid)]
        if gt is not None:
            sql += " AND originator_version > %s"
            params.append(gt)
        if lte is not None:
            sql += " AND originator_version <= %s"
            params.append(lte)
        if recorded_lte is not None:
            sql += " AND recorded_us <= %s"
            params.append(recorded_lte)
        sql += " ORDER BY originator_version" + (" DESC" if desc else "")
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit)
        with self.store.read_transaction() as cursor:
            cursor.execute(self.store.sql(sql), params)
            return list(cursor.fetchall())

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        return [
            row_to_notification(r)
            for r in self.select_notification_rows(
                start, limit, stop, topics, inclusive_of_start=inclusive_of_start
            )
        ]

    def select_notification_rows(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> list[tuple[Any, ...]]:
        """Rows (``COLUMNS`` order) in notification order; the fast path for folds."""
        sql = f"SELECT {COLUMNS} FROM {self.events_table} WHERE TRUE"
        params: list[Any] = []
        if start is not None:
            sql += (
                " AND notification_id >= %s" if inclusive_of_start else " AND notification_id > %s"
            )
            params.append(start)
        if stop is not None:
            sql += " AND notification_id <= %s"
            params.append(stop)
        sql = self.store.sql(sql)
        if topics:
            pred, more = self.store.where_in("topic", list(topics))
            sql += f" AND {pred}"
            params += more
        sql += self.store.sql(" ORDER BY notification_id LIMIT %s")
        params.append(limit)
        with self.store.read_transaction() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def max_notification_id(self) -> int | None:
        with self.store.read_transaction() as cursor:
            head = self._head(cursor)
        return head.size or None

    def ledger_size(self, cursor: Any) -> int:
        """The number of records (= the highest ``notification_id``; 0 when empty)."""
        return self._head(cursor).size
