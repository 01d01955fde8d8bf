"""The materialised views' tables (prefix ``view_``), in the ledger's own database.

Written only by the projection runner (``projections.runner``), in one
transaction with the runner's tracking records; read by ``projections.reads``.

* ``view_standing``: one row per subject, the standing as of its last record
  (``as_of_us``) and ``next_change_us``, the instant it goes stale by the
  calendar alone; ``last_seq``/``notification_id`` name the last record folded.
* ``view_disclosure``: one row per disclosure item, the item's plan (periods,
  ends, texts: ``projections.disclosure.ItemPlan``) and its public span
  (``public_from``/``public_until``, days), so "what is public today" stays
  right as days pass without events.
* ``view_list_members``: bitemporal membership of the public lists
  (``serious-dishonesty``, ``focus``) and the market-ban register (``bans``):
  each row is one period of membership in valid time (``valid_from_us`` ..
  ``valid_until_us``) as the ledger knew it from ``known_from_us`` until
  ``known_until_us`` (the recording time of the record that changed it), so a
  list can be read as of any date and as known at any moment.
* ``view_failed_subjects``: the subjects whose fold raised (one row each: the
  record it failed at, the error, when). The runner leaves their views as they
  were and skips them until ``ledger rebuild --subject CODE`` folds them again;
  reads do not serve their stale rows (``projections.reads``).

The SQL is shared; :class:`SQLiteViewStore` and :class:`PostgresViewStore` hold
the dialect (placeholders, qualified names, transactions), and
:func:`view_store_for` picks one from the recorder the settings built.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Tracking
from psycopg.rows import tuple_row

from events.recorded import RecordedEvent
from ledger.recorders import (
    COLUMNS,
    LedgerSQL,
    PostgresLedgerRecorder,
    SQLiteLedgerRecorder,
    row_to_event,
)

__all__ = [
    "LIST_NAMES",
    "VIEW_NAMES",
    "FoldFailure",
    "ListRow",
    "PostgresViewStore",
    "SQLiteViewStore",
    "ViewStore",
    "tracking_name",
    "view_store_for",
]

VIEW_NAMES: tuple[str, ...] = ("standing", "disclosure", "lists")
"""The views the runner maintains, each with its own tracking record."""

LIST_NAMES: tuple[str, ...] = ("serious-dishonesty", "focus", "bans")
"""The registers ``list_members`` answers for (``bans``: the market-ban register)."""

_TABLES: dict[str, tuple[str, ...]] = {
    "standing": ("view_standing",),
    "disclosure": ("view_disclosure",),
    "lists": ("view_list_members",),
}


def tracking_name(view: str) -> str:
    """The tracking application name of a view (``views/standing`` …)."""
    return f"views/{view}"


def dumps(obj: Any) -> str:
    """Compact JSON text for a view row body."""
    return orjson.dumps(obj).decode()


@dataclass(frozen=True, slots=True)
class FoldFailure:
    """A subject whose fold raised: at which record (its CloudEvents id and ledger
    notification id) and with what error (``Type: message``), at ``failed_at_us``."""

    subject: str
    event_id: str
    notification_id: int
    error: str
    failed_at_us: int

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "event_id": self.event_id,
            "position": self.notification_id - 1,
            "error": self.error,
            "failed_at_us": self.failed_at_us,
        }


@dataclass(frozen=True, slots=True)
class ListRow:
    """One period of one membership, as known from ``known_from_us``."""

    list_name: str
    subject: str
    event_id: str
    seq: int
    valid_from_us: int
    valid_until_us: int | None
    body: str

    @property
    def key(self) -> tuple[int, int]:
        return (self.seq, self.valid_from_us)


STANDING_COLUMNS = (
    "subject, last_seq, notification_id, as_of_us, next_change_us, grade, score, body"
)
"""The columns of a ``view_standing`` row, in the order the writers pass them."""
DISCLOSURE_COLUMNS = "subject, seq, event_id, kind, public_from, public_until, body"
"""The columns of a ``view_disclosure`` row, in the order the writers pass them."""


class ViewStore:
    """The view tables on one database; subclasses supply the dialect.

    Writes happen through the cursor of :meth:`transaction`; every method taking
    a ``cursor`` runs inside that transaction.
    """

    placeholder = "?"
    bigint = "INTEGER"

    def __init__(self, recorder: LedgerSQL) -> None:
        self.recorder = recorder

    # -- dialect --------------------------------------------------------------------------
    def table(self, name: str) -> str:
        """A table's name as statements write it."""
        return name

    def tracking_table(self) -> str:
        raise NotImplementedError

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        """A cursor in one write transaction, committed on a clean exit."""
        raise NotImplementedError

    def read_cursor(self) -> contextlib.AbstractContextManager[Any]:
        """A cursor for reads (one snapshot)."""
        raise NotImplementedError

    def _in(self, values: Sequence[Any]) -> tuple[str, list[Any]]:
        raise NotImplementedError

    def sql(self, text: str) -> str:
        """``text`` with ``?`` placeholders in this dialect."""
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    # -- schema ----------------------------------------------------------------------------
    def create_tables(self) -> None:
        """Create the view tables and indexes if they do not exist."""
        b = self.bigint
        statements = [
            f"CREATE TABLE IF NOT EXISTS {self.table('view_standing')} ("
            f"subject TEXT PRIMARY KEY, last_seq {b} NOT NULL, notification_id {b} NOT NULL, "
            f"as_of_us {b} NOT NULL, next_change_us {b}, grade TEXT NOT NULL, "
            f"score {b} NOT NULL, body TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.table('view_disclosure')} ("
            f"subject TEXT NOT NULL, seq {b} NOT NULL, event_id TEXT NOT NULL, "
            "kind TEXT NOT NULL, public_from TEXT, public_until TEXT, body TEXT NOT NULL, "
            "PRIMARY KEY (subject, seq))",
            f"CREATE INDEX IF NOT EXISTS view_disclosure_public "
            f"ON {self.table('view_disclosure')} (public_from, public_until)",
            f"CREATE TABLE IF NOT EXISTS {self.table('view_list_members')} ("
            f"list_name TEXT NOT NULL, subject TEXT NOT NULL, event_id TEXT NOT NULL, "
            f"seq {b} NOT NULL, valid_from_us {b} NOT NULL, valid_until_us {b}, "
            f"known_from_us {b} NOT NULL, known_until_us {b}, body TEXT NOT NULL, "
            "PRIMARY KEY (subject, seq, valid_from_us, known_from_us))",
            f"CREATE INDEX IF NOT EXISTS view_list_members_by_list "
            f"ON {self.table('view_list_members')} (list_name, valid_from_us)",
            f"CREATE TABLE IF NOT EXISTS {self.table('view_failed_subjects')} ("
            f"subject TEXT PRIMARY KEY, event_id TEXT NOT NULL, notification_id {b} NOT NULL, "
            f"error TEXT NOT NULL, failed_at_us {b} NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS ledger_records_subject_time "
            f"ON {self.recorder.events_table} (originator_id, recorded_us)",
        ]
        with self.transaction() as cursor:
            self._serialise_schema_changes(cursor)
            for statement in statements:
                cursor.execute(statement)

    def _serialise_schema_changes(self, cursor: Any) -> None:
        """Make concurrent :meth:`create_tables` of several processes wait for each other
        (SQLite: the write transaction already does)."""

    def clear(self, cursor: Any, views: Iterable[str]) -> None:
        """Empty the tables of ``views`` and forget their tracking (a rebuild)."""
        for view in views:
            for table in _TABLES[view]:
                cursor.execute(f"DELETE FROM {self.table(table)}")
            cursor.execute(
                self.sql(f"DELETE FROM {self.tracking_table()} WHERE application_name = ?"),
                (tracking_name(view),),
            )

    # -- tracking --------------------------------------------------------------------------
    def positions(self) -> dict[str, int]:
        """View → the last notification id it has processed (0: none)."""
        return {
            view: self.recorder.max_tracking_id(tracking_name(view)) or 0  # type: ignore[attr-defined]
            for view in VIEW_NAMES
        }

    def track(self, cursor: Any, view: str, notification_id: int) -> None:
        """Record that ``view`` has processed up to ``notification_id`` (raises
        ``IntegrityError`` if that is not beyond what it had recorded)."""
        self.recorder._insert_tracking(  # type: ignore[attr-defined]
            cursor, Tracking(tracking_name(view), notification_id)
        )

    # -- the ledger, read for folding ------------------------------------------------------
    def streams(
        self, originator_ids: Sequence[UUID], upto_notification_id: int
    ) -> dict[UUID, list[RecordedEvent]]:
        """The records of the given streams up to a notification id, in seq order."""
        out: dict[UUID, list[RecordedEvent]] = {}
        ids = list(originator_ids)
        with self.read_cursor() as cursor:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                pred, params = self._in([self.recorder._id_param(i) for i in chunk])
                cursor.execute(
                    self.sql(
                        f"SELECT {COLUMNS} FROM {self.recorder.events_table} "
                        f"WHERE originator_id {pred} AND notification_id <= ? "
                        "ORDER BY originator_id, originator_version"
                    ),
                    [*params, upto_notification_id],
                )
                for row in cursor.fetchall():
                    event = row_to_event(row)
                    out.setdefault(event.originator_id, []).append(event)
        return out

    def stream_page(
        self,
        cursor: Any,
        upto_notification_id: int,
        after: tuple[UUID, int] | None,
        limit: int,
        below: UUID | None = None,
    ) -> list[RecordedEvent]:
        """Up to ``limit`` records in stream order (originator, seq) after the
        record ``after`` names (None: from the first) and of streams whose id is
        below ``below`` (None: all), none beyond a notification id: a scan of the
        ledger stream by stream (the rebuild's read), on the caller's ``cursor``."""
        sql = f"SELECT {COLUMNS} FROM {self.recorder.events_table} WHERE notification_id <= ?"
        params: list[Any] = [upto_notification_id]
        if after is not None:
            sql += " AND (originator_id, originator_version) > (?, ?)"
            params += [self.recorder._id_param(after[0]), after[1]]
        if below is not None:
            sql += " AND originator_id < ?"
            params.append(self.recorder._id_param(below))
        sql += " ORDER BY originator_id, originator_version LIMIT ?"
        cursor.execute(self.sql(sql), [*params, limit])
        return [row_to_event(r) for r in cursor.fetchall()]

    def stream_head(self, originator_id: UUID) -> tuple[int, int, int] | None:
        """(last seq, its notification id, its recorded_us) of a stream, or None."""
        with self.read_cursor() as cursor:
            cursor.execute(
                self.sql(
                    "SELECT originator_version, notification_id, recorded_us "
                    f"FROM {self.recorder.events_table} WHERE originator_id = ? "
                    "ORDER BY originator_version DESC LIMIT 1"
                ),
                (self.recorder._id_param(originator_id),),
            )
            row = cursor.fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def stream_rows(
        self, originator_id: UUID, after_seq: int, upto_notification_id: int | None = None
    ) -> list[RecordedEvent]:
        """A stream's records after ``after_seq`` (and up to a notification id)."""
        sql = (
            f"SELECT {COLUMNS} FROM {self.recorder.events_table} "
            "WHERE originator_id = ? AND originator_version > ?"
        )
        params: list[Any] = [self.recorder._id_param(originator_id), after_seq]
        if upto_notification_id is not None:
            sql += " AND notification_id <= ?"
            params.append(upto_notification_id)
        with self.read_cursor() as cursor:
            cursor.execute(self.sql(sql + " ORDER BY originator_version"), params)
            return [row_to_event(r) for r in cursor.fetchall()]

    def recorded_at(self, notification_id: int) -> int | None:
        """The recording time of the record with this notification id."""
        if notification_id <= 0:
            return None
        with self.read_cursor() as cursor:
            cursor.execute(
                self.sql(
                    f"SELECT recorded_us FROM {self.recorder.events_table} "
                    "WHERE notification_id = ?"
                ),
                (notification_id,),
            )
            row = cursor.fetchone()
        return None if row is None else int(row[0])

    def first_recorded_after(self, known_at_us: int) -> int | None:
        """The notification id of the first record recorded after ``known_at_us``."""
        with self.read_cursor() as cursor:
            cursor.execute(
                self.sql(
                    f"SELECT MIN(notification_id) FROM {self.recorder.events_table} "
                    "WHERE recorded_us > ?"
                ),
                (known_at_us,),
            )
            row = cursor.fetchone()
        return None if row is None or row[0] is None else int(row[0])

    # -- standing ----------------------------------------------------------------------------
    def put_standing(self, cursor: Any, rows: Sequence[tuple[Any, ...]]) -> None:
        """Upsert (subject, last_seq, notification_id, as_of_us, next_change_us,
        grade, score, body) rows."""
        if not rows:
            return
        cursor.executemany(
            self.sql(
                f"INSERT INTO {self.table('view_standing')} ({STANDING_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subject) DO UPDATE SET "
                "last_seq = excluded.last_seq, notification_id = excluded.notification_id, "
                "as_of_us = excluded.as_of_us, next_change_us = excluded.next_change_us, "
                "grade = excluded.grade, score = excluded.score, body = excluded.body"
            ),
            rows,
        )

    def standing_row(self, subject: str) -> tuple[int, int, int, int | None, str] | None:
        """(last_seq, notification_id, as_of_us, next_change_us, body) of a subject."""
        with self.read_cursor() as cursor:
            cursor.execute(
                self.sql(
                    "SELECT last_seq, notification_id, as_of_us, next_change_us, body "
                    f"FROM {self.table('view_standing')} WHERE subject = ?"
                ),
                (subject,),
            )
            row = cursor.fetchone()
        return None if row is None else (row[0], row[1], row[2], row[3], row[4])

    def stale_standings(self, now_us: int, limit: int) -> list[str]:
        """Subjects whose stored standing went stale by ``now_us`` (failed ones left out)."""
        with self.read_cursor() as cursor:
            cursor.execute(
                self.sql(
                    f"SELECT subject FROM {self.table('view_standing')} "
                    "WHERE next_change_us IS NOT NULL AND next_change_us <= ? "
                    f"AND subject NOT IN (SELECT subject FROM {self.table('view_failed_subjects')}) "
                    "ORDER BY subject LIMIT ?"
                ),
                (now_us, limit),
            )
            return [r[0] for r in cursor.fetchall()]

    # -- disclosure ---------------------------------------------------------------------------
    def disclosure_bodies(self, subjects: Sequence[str]) -> dict[str, dict[int, str]]:
        """Subject → seq → stored plan body."""
        out: dict[str, dict[int, str]] = {s: {} for s in subjects}
        with self.read_cursor() as cursor:
            for start in range(0, len(subjects), 500):
                chunk = list(subjects[start : start + 500])
                pred, params = self._in(chunk)
                cursor.execute(
                    self.sql(
                        f"SELECT subject, seq, body FROM {self.table('view_disclosure')} "
                        f"WHERE subject {pred}"
                    ),
                    params,
                )
                for subject, seq, body in cursor.fetchall():
                    out[subject][seq] = body
        return out

    def put_disclosure(
        self, cursor: Any, rows: Sequence[tuple[Any, ...]], deletes: Sequence[tuple[str, int]]
    ) -> None:
        """Upsert (subject, seq, event_id, kind, public_from, public_until, body) rows
        and delete (subject, seq) keys."""
        if rows:
            cursor.executemany(
                self.sql(
                    f"INSERT INTO {self.table('view_disclosure')} ({DISCLOSURE_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (subject, seq) DO UPDATE SET event_id = excluded.event_id, "
                    "kind = excluded.kind, public_from = excluded.public_from, "
                    "public_until = excluded.public_until, body = excluded.body"
                ),
                rows,
            )
        if deletes:
            cursor.executemany(
                self.sql(
                    f"DELETE FROM {self.table('view_disclosure')} WHERE subject = ? AND seq = ?"
                ),
                deletes,
            )

    def load_fresh(
        self,
        cursor: Any,
        standing: Sequence[tuple[Any, ...]],
        disclosure: Sequence[tuple[Any, ...]],
    ) -> None:
        """Insert standing and disclosure rows into tables a rebuild emptied in this
        transaction, each key at most once (no upsert needed; PostgreSQL copies)."""
        self.put_standing(cursor, standing)
        self.put_disclosure(cursor, disclosure, ())

    # -- lists ---------------------------------------------------------------------------------
    def current_list_rows(
        self, subjects: Sequence[str]
    ) -> dict[str, dict[tuple[int, int], tuple[ListRow, int]]]:
        """Subject → key → (row, known_from_us) for the rows known now."""
        out: dict[str, dict[tuple[int, int], tuple[ListRow, int]]] = {s: {} for s in subjects}
        with self.read_cursor() as cursor:
            for start in range(0, len(subjects), 500):
                chunk = list(subjects[start : start + 500])
                pred, params = self._in(chunk)
                cursor.execute(
                    self.sql(
                        "SELECT list_name, subject, event_id, seq, valid_from_us, "
                        f"valid_until_us, body, known_from_us FROM {self.table('view_list_members')} "
                        f"WHERE known_until_us IS NULL AND subject {pred}"
                    ),
                    params,
                )
                for r in cursor.fetchall():
                    row = ListRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6])
                    out[row.subject][row.key] = (row, r[7])
        return out

    def put_list_changes(
        self,
        cursor: Any,
        inserts: Sequence[tuple[ListRow, int, int | None]],
        closes: Sequence[tuple[ListRow, int, int]],
        deletes: Sequence[tuple[ListRow, int]],
    ) -> None:
        """Delete (row, known_from_us) versions that lasted no time; close (row,
        known_from_us, known_until_us); insert (row, known_from_us, known_until_us
        or None) — in that order."""
        table = self.table("view_list_members")
        if deletes:
            cursor.executemany(
                self.sql(
                    f"DELETE FROM {table} WHERE subject = ? AND seq = ? AND valid_from_us = ? "
                    "AND known_from_us = ?"
                ),
                [(r.subject, r.seq, r.valid_from_us, known) for r, known in deletes],
            )
        if closes:
            cursor.executemany(
                self.sql(
                    f"UPDATE {table} SET known_until_us = ? WHERE subject = ? AND seq = ? "
                    "AND valid_from_us = ? AND known_from_us = ?"
                ),
                [(until, r.subject, r.seq, r.valid_from_us, known) for r, known, until in closes],
            )
        if inserts:
            cursor.executemany(
                self.sql(
                    f"INSERT INTO {table} (list_name, subject, event_id, seq, valid_from_us, "
                    "valid_until_us, known_from_us, known_until_us, body) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                [
                    (
                        r.list_name,
                        r.subject,
                        r.event_id,
                        r.seq,
                        r.valid_from_us,
                        r.valid_until_us,
                        known,
                        until,
                        r.body,
                    )
                    for r, known, until in inserts
                ],
            )

    def list_rows(self, name: str, as_of_us: int, known_at_us: int) -> list[tuple[str, str]]:
        """(subject, body) of the members of list ``name`` at ``as_of_us`` as known
        at ``known_at_us``, by subject then record."""
        with self.read_cursor() as cursor:
            cursor.execute(
                self.sql(
                    f"SELECT subject, body FROM {self.table('view_list_members')} "
                    "WHERE list_name = ? AND valid_from_us <= ? "
                    "AND (valid_until_us IS NULL OR valid_until_us > ?) "
                    "AND known_from_us <= ? AND (known_until_us IS NULL OR known_until_us > ?) "
                    "ORDER BY subject, seq, valid_from_us"
                ),
                (name, as_of_us, as_of_us, known_at_us, known_at_us),
            )
            return [(r[0], r[1]) for r in cursor.fetchall()]

    # -- failed subjects -----------------------------------------------------------------------
    def mark_failed(self, cursor: Any, failures: Sequence[FoldFailure]) -> None:
        """Record (or update) the failure of each subject."""
        if not failures:
            return
        cursor.executemany(
            self.sql(
                f"INSERT INTO {self.table('view_failed_subjects')} "
                "(subject, event_id, notification_id, error, failed_at_us) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (subject) DO UPDATE SET event_id = excluded.event_id, "
                "notification_id = excluded.notification_id, error = excluded.error, "
                "failed_at_us = excluded.failed_at_us"
            ),
            [
                (f.subject, f.event_id, f.notification_id, f.error[:2000], f.failed_at_us)
                for f in failures
            ],
        )

    def clear_failed(self, cursor: Any, subject: str | None = None) -> None:
        """Forget the failure of ``subject`` (None: of every subject)."""
        table = self.table("view_failed_subjects")
        if subject is None:
            cursor.execute(f"DELETE FROM {table}")
        else:
            cursor.execute(self.sql(f"DELETE FROM {table} WHERE subject = ?"), (subject,))

    def failed_among(self, subjects: Sequence[str]) -> set[str]:
        """Which of ``subjects`` are marked failed."""
        found: set[str] = set()
        with self.read_cursor() as cursor:
            for start in range(0, len(subjects), 500):
                pred, params = self._in(list(subjects[start : start + 500]))
                cursor.execute(
                    self.sql(
                        f"SELECT subject FROM {self.table('view_failed_subjects')} "
                        f"WHERE subject {pred}"
                    ),
                    params,
                )
                found.update(r[0] for r in cursor.fetchall())
        return found

    def failed_subjects(self, limit: int = 20) -> tuple[int, list[FoldFailure]]:
        """How many subjects are marked failed, and the first ``limit`` of them."""
        table = self.table("view_failed_subjects")
        with self.read_cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            count = int(cursor.fetchone()[0])
            cursor.execute(
                self.sql(
                    "SELECT subject, event_id, notification_id, error, failed_at_us "
                    f"FROM {table} ORDER BY subject LIMIT ?"
                ),
                (limit,),
            )
            rows = [FoldFailure(r[0], r[1], r[2], r[3], r[4]) for r in cursor.fetchall()]
        return count, rows

    def delete_subject(self, cursor: Any, subject: str) -> None:
        """Remove every view row of ``subject`` (before it is folded again)."""
        for table in ("view_standing", "view_disclosure", "view_list_members"):
            cursor.execute(
                self.sql(f"DELETE FROM {self.table(table)} WHERE subject = ?"), (subject,)
            )

    # -- comparison (tests, audits) -----------------------------------------------------------
    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every view row, ordered by key (to compare two builds)."""
        queries = {
            "view_standing": "SELECT subject, last_seq, notification_id, as_of_us, "
            "next_change_us, grade, score, body FROM {t} ORDER BY subject",
            "view_disclosure": "SELECT subject, seq, event_id, kind, public_from, "
            "public_until, body FROM {t} ORDER BY subject, seq",
            "view_list_members": "SELECT list_name, subject, event_id, seq, valid_from_us, "
            "valid_until_us, known_from_us, known_until_us, body FROM {t} "
            "ORDER BY subject, seq, valid_from_us, known_from_us",
        }
        out: dict[str, list[tuple[Any, ...]]] = {}
        with self.read_cursor() as cursor:
            for table, query in queries.items():
                cursor.execute(query.format(t=self.table(table)))
                out[table] = [tuple(r) for r in cursor.fetchall()]
        return out


class SQLiteViewStore(ViewStore):
    """The view tables on SQLite: writes take ``BEGIN IMMEDIATE`` like the ledger's."""

    recorder: SQLiteLedgerRecorder

    def tracking_table(self) -> str:
        return "tracking"

    def _in(self, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return f"IN ({','.join('?' * len(values))})", list(values)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.recorder._write_cursor() as cursor:
            yield cursor

    @contextlib.contextmanager
    def read_cursor(self) -> Iterator[Any]:
        with self.recorder._read_cursor() as cursor:
            yield cursor


class PostgresViewStore(ViewStore):
    """The view tables on PostgreSQL, in the ledger's schema."""

    placeholder = "%s"
    bigint = "bigint"
    recorder: PostgresLedgerRecorder

    def __init__(self, recorder: PostgresLedgerRecorder) -> None:
        super().__init__(recorder)
        self.schema = recorder.datastore.schema

    def table(self, name: str) -> str:
        return f'"{self.schema}".{name}'

    def tracking_table(self) -> str:
        return f'"{self.schema}"."{self.recorder.tracking_table_name}"'

    def _in(self, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return "= ANY(%s)", [list(values)]

    def _serialise_schema_changes(self, cursor: Any) -> None:
        # CREATE TABLE IF NOT EXISTS is not safe against itself in two sessions: services
        # started together (serve, project, feed …) failed on pg_type's unique index. A
        # transaction-level advisory lock per schema makes them take turns.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{self.schema}/views",))

    def load_fresh(
        self,
        cursor: Any,
        standing: Sequence[tuple[Any, ...]],
        disclosure: Sequence[tuple[Any, ...]],
    ) -> None:
        # COPY: a key repeated would fail the primary key, and the rebuild with it.
        for table, columns, rows in (
            ("view_standing", STANDING_COLUMNS, standing),
            ("view_disclosure", DISCLOSURE_COLUMNS, disclosure),
        ):
            if rows:
                with cursor.copy(f"COPY {self.table(table)} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        with (
            self.recorder.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row) as cursor,
        ):
            yield cursor

    @contextlib.contextmanager
    def read_cursor(self) -> Iterator[Any]:
        with self.recorder._read_cursor() as cursor:
            yield cursor


def view_store_for(recorder: LedgerSQL, *, create: bool = True) -> ViewStore:
    """The view store on the same database as ``recorder`` (the one the settings'
    ``LEDGER_DATABASE_URL`` chose), its tables created unless ``create`` is false
    (a rebuild worker: the rebuilding transaction holds the tables, and creating
    an index would wait for it)."""
    store: ViewStore
    if isinstance(recorder, PostgresLedgerRecorder):
        store = PostgresViewStore(recorder)
    elif isinstance(recorder, SQLiteLedgerRecorder):
        store = SQLiteViewStore(recorder)
    else:  # pragma: no cover - only the two stores exist
        raise TypeError(f"no view store for {type(recorder).__name__}")
    if create:
        store.create_tables()
    return store
