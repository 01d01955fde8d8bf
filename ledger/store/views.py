"""The materialised views' tables (prefix ``view_``), in the ledger's own database.

Written only by the projection runner (``projections.runner``), in one
transaction with the runner's tracking records; read by ``projections.reads``.

* ``view_standing``: one row per subject, the standing as of its last record
  (``as_of_us``) and ``next_change_us``, the instant it goes stale by the
  calendar alone; ``last_seq``/``notification_id`` name the last record folded.
* ``view_disclosure``: one row per disclosure item, the item's plan (periods,
  ends, texts: ``projections.disclosure_item.ItemPlan``) and its public span
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

The tables are declared in ``ledger.store.tables`` (``VIEWS``); the statements are
written once, for the store's public API. ``Store.views()`` builds the view store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Tracking

from events.recorded import RecordedEvent
from ledger.store import tables
from ledger.store.rows import COLUMNS, row_to_event

if TYPE_CHECKING:
    from ledger.store.base import Store

__all__ = [
    "LIST_NAMES",
    "VIEW_NAMES",
    "FoldFailure",
    "ListRow",
    "ViewStore",
    "tracking_name",
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
    """The view tables on one store (``Store.views()``).

    Writes happen through the cursor of :meth:`transaction`; every method taking
    a ``cursor`` runs inside that transaction. ``table``, ``sql``, ``transaction``
    ``read_cursor`` and ``one_statement`` are the store's (``ledger.store.base.Store``),
    for the projections' own reads of these tables.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.recorder = store.recorder
        self.table = store.table
        self.sql = store.sql
        self.transaction = store.transaction
        self.read_cursor = store.read_transaction
        self.one_statement = store.one_statement

    # -- schema ----------------------------------------------------------------------------
    def create_tables(self) -> None:
        """Create the view tables and indexes if they do not exist (``tables.VIEWS``;
        concurrent processes take turns, ``Store.create_tables``)."""
        self.store.create_tables(tables.VIEWS)

    def clear(self, cursor: Any, views: Iterable[str]) -> None:
        """Empty the tables of ``views`` and forget their tracking (a rebuild)."""
        for view in views:
            for table in _TABLES[view]:
                cursor.execute(f"DELETE FROM {self.table(table)}")
            cursor.execute(
                self.sql(f"DELETE FROM {self.store.tracking_table} WHERE application_name = %s"),
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
        self.recorder.record_tracking(cursor, Tracking(tracking_name(view), notification_id))

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
                pred, params = self.store.where_in(
                    "originator_id", [self.store.id_param(i) for i in chunk]
                )
                cursor.execute(
                    self.sql(
                        f"SELECT {COLUMNS} FROM {self.recorder.events_table} "
                        f"WHERE {pred} AND notification_id <= %s "
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
        sql = f"SELECT {COLUMNS} FROM {self.recorder.events_table} WHERE notification_id <= %s"
        params: list[Any] = [upto_notification_id]
        if after is not None:
            sql += " AND (originator_id, originator_version) > (%s, %s)"
            params += [self.store.id_param(after[0]), after[1]]
        if below is not None:
            sql += " AND originator_id < %s"
            params.append(self.store.id_param(below))
        sql += " ORDER BY originator_id, originator_version LIMIT %s"
        cursor.execute(self.sql(sql), [*params, limit])
        return [row_to_event(r) for r in cursor.fetchall()]

    def stream_head(self, originator_id: UUID) -> tuple[int, int, int] | None:
        """(last seq, its notification id, its recorded_us) of a stream, or None (one
        statement: every warm read of a subject asks it first)."""
        with self.one_statement() as cursor:
            cursor.execute(
                self.sql(
                    "SELECT originator_version, notification_id, recorded_us "
                    f"FROM {self.recorder.events_table} WHERE originator_id = %s "
                    "ORDER BY originator_version DESC LIMIT 1"
                ),
                (self.store.id_param(originator_id),),
            )
            row = cursor.fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def stream_rows(
        self, originator_id: UUID, after_seq: int, upto_notification_id: int | None = None
    ) -> list[RecordedEvent]:
        """A stream's records after ``after_seq`` (and up to a notification id)."""
        sql = (
            f"SELECT {COLUMNS} FROM {self.recorder.events_table} "
            "WHERE originator_id = %s AND originator_version > %s"
        )
        params: list[Any] = [self.store.id_param(originator_id), after_seq]
        if upto_notification_id is not None:
            sql += " AND notification_id <= %s"
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
                    "WHERE notification_id = %s"
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
                    "WHERE recorded_us > %s"
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
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (subject) DO UPDATE SET "
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
                    f"FROM {self.table('view_standing')} WHERE subject = %s"
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
                    "WHERE next_change_us IS NOT NULL AND next_change_us <= %s "
                    f"AND subject NOT IN (SELECT subject FROM {self.table('view_failed_subjects')}) "
                    "ORDER BY subject LIMIT %s"
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
                pred, params = self.store.where_in("subject", chunk)
                cursor.execute(
                    self.sql(
                        f"SELECT subject, seq, body FROM {self.table('view_disclosure')} "
                        f"WHERE {pred}"
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
                    "VALUES (%s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (subject, seq) DO UPDATE SET event_id = excluded.event_id, "
                    "kind = excluded.kind, public_from = excluded.public_from, "
                    "public_until = excluded.public_until, body = excluded.body"
                ),
                rows,
            )
        if deletes:
            cursor.executemany(
                self.sql(
                    f"DELETE FROM {self.table('view_disclosure')} WHERE subject = %s AND seq = %s"
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
        transaction, each key at most once (bulk inserts, no upsert: PostgreSQL copies;
        a key repeated fails the primary key, and the rebuild with it)."""
        for table, columns, rows in (
            (tables.STANDING_TABLE, STANDING_COLUMNS, standing),
            (tables.DISCLOSURE_TABLE, DISCLOSURE_COLUMNS, disclosure),
        ):
            if rows:
                self.store.insert_rows(cursor, table, columns, rows)

    # -- lists ---------------------------------------------------------------------------------
    def current_list_rows(
        self, subjects: Sequence[str]
    ) -> dict[str, dict[tuple[int, int], tuple[ListRow, int]]]:
        """Subject → key → (row, known_from_us) for the rows known now."""
        out: dict[str, dict[tuple[int, int], tuple[ListRow, int]]] = {s: {} for s in subjects}
        with self.read_cursor() as cursor:
            for start in range(0, len(subjects), 500):
                chunk = list(subjects[start : start + 500])
                pred, params = self.store.where_in("subject", chunk)
                cursor.execute(
                    self.sql(
                        "SELECT list_name, subject, event_id, seq, valid_from_us, "
                        f"valid_until_us, body, known_from_us FROM {self.table('view_list_members')} "
                        f"WHERE known_until_us IS NULL AND {pred}"
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
                    f"DELETE FROM {table} WHERE subject = %s AND seq = %s AND valid_from_us = %s "
                    "AND known_from_us = %s"
                ),
                [(r.subject, r.seq, r.valid_from_us, known) for r, known in deletes],
            )
        if closes:
            cursor.executemany(
                self.sql(
                    f"UPDATE {table} SET known_until_us = %s WHERE subject = %s AND seq = %s "
                    "AND valid_from_us = %s AND known_from_us = %s"
                ),
                [(until, r.subject, r.seq, r.valid_from_us, known) for r, known, until in closes],
            )
        if inserts:
            cursor.executemany(
                self.sql(
                    f"INSERT INTO {table} (list_name, subject, event_id, seq, valid_from_us, "
                    "valid_until_us, known_from_us, known_until_us, body) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
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
                    "WHERE list_name = %s AND valid_from_us <= %s "
                    "AND (valid_until_us IS NULL OR valid_until_us > %s) "
                    "AND known_from_us <= %s AND (known_until_us IS NULL OR known_until_us > %s) "
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
                "(subject, event_id, notification_id, error, failed_at_us) VALUES (%s, %s, %s, %s, %s) "
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
            cursor.execute(self.sql(f"DELETE FROM {table} WHERE subject = %s"), (subject,))

    def failed_among(self, subjects: Sequence[str]) -> set[str]:
        """Which of ``subjects`` are marked failed."""
        found: set[str] = set()
        with self.read_cursor() as cursor:
            for start in range(0, len(subjects), 500):
                pred, params = self.store.where_in("subject", list(subjects[start : start + 500]))
                cursor.execute(
                    self.sql(
                        f"SELECT subject FROM {self.table('view_failed_subjects')} WHERE {pred}"
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
                    f"FROM {table} ORDER BY subject LIMIT %s"
                ),
                (limit,),
            )
            rows = [FoldFailure(r[0], r[1], r[2], r[3], r[4]) for r in cursor.fetchall()]
        return count, rows

    def delete_subject(self, cursor: Any, subject: str) -> None:
        """Remove every view row of ``subject`` (before it is folded again)."""
        for table in ("view_standing", "view_disclosure", "view_list_members"):
            cursor.execute(
                self.sql(f"DELETE FROM {self.table(table)} WHERE subject = %s"), (subject,)
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
