"""Read snapshots: where a cold as-of read of a long stream may start from.

Per subject stream one header row (table ``ledger_read_snapshots``) naming the stream
head it was taken at (seq and record hash) with a body, and its lines (table
``ledger_read_snapshot_lines``): one per record and stretch of valid time
``[from_us, until_us)`` (None: unbounded), each with the record's effective time, its
stretch's number and a body; a read gets the lines in force at the instant it asks.
The bodies, and what a stretch number means beyond ordering a record's lines, are
``projections.read_snapshot``'s (orjson data, never code). Both tables are declared in
``ledger.store.tables``.

Like the decision-state snapshots (``ledger.snapshots``) a snapshot is never trusted
blindly: :meth:`ReadSnapshots.read` returns one only while the ledger still holds the
record it was taken at with the same hash (the join), header and lines from one
consistent read; :meth:`ReadSnapshots.save` replaces a subject's snapshot in a short
transaction of its own, never under the write lock. Losing or refusing one costs only
a fold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.store.tables import EVENTS_TABLE, READ_SNAPSHOT_LINES_TABLE, READ_SNAPSHOTS_TABLE

if TYPE_CHECKING:
    from ledger.store.base import Store

__all__ = ["LINE_COLUMNS", "ReadSnapshot", "ReadSnapshots"]

LINE_COLUMNS = "originator_id, seq, stretch, effective_us, from_us, until_us, body"
"""The columns of a line, in the order :meth:`ReadSnapshots.save` takes them (without
``originator_id``)."""


@dataclass(frozen=True, slots=True)
class ReadSnapshot:
    """A stored snapshot as one read finds it: taken at record ``seq`` (hash ``head``),
    its ``body`` and the lines in force at the instant asked in (seq, stretch) order,
    each a row whose first two columns are its stretch and its body (bytes)."""

    seq: int
    head: bytes
    body: bytes
    lines: list[tuple[Any, ...]]


class ReadSnapshots:
    """The read snapshots on one store (module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.table = store.table(READ_SNAPSHOTS_TABLE)
        self.lines_table = store.table(READ_SNAPSHOT_LINES_TABLE)
        self.events_table = store.table(EVENTS_TABLE)

    def read(self, originator_id: UUID, at_us: int) -> ReadSnapshot | None:
        """The stream's snapshot with the lines whose record takes effect by ``at_us``
        and whose stretch holds ``at_us``, when the ledger still holds the record it
        was taken at with the same hash; else None. One statement (one consistent
        read, one round trip), rows in binary where the database has it, the lines'
        rows kept as they come."""
        key = self.store.id_param(originator_id)
        sql = self.store.sql(
            f"WITH found AS (SELECT s.originator_version, s.head, s.body FROM {self.table} s "
            f"JOIN {self.events_table} r ON r.originator_id = s.originator_id "
            "AND r.originator_version = s.originator_version AND r.hash = s.head "
            "WHERE s.originator_id = %s) "
            "SELECT NULL, body, -1, originator_version, head FROM found UNION ALL "
            f"SELECT stretch, body, seq, NULL, NULL FROM {self.lines_table} "
            "WHERE originator_id = %s AND EXISTS (SELECT 1 FROM found) "
            "AND effective_us <= %s AND (from_us IS NULL OR from_us <= %s) "
            "AND (until_us IS NULL OR until_us > %s) ORDER BY 3, 1"
        )
        with self.store.read_transaction(snapshot=False) as cursor:
            rows = self.store.fetch(cursor, sql, (key, key, at_us, at_us, at_us))
        if not rows or rows[0][0] is not None:
            return None  # no snapshot the ledger backs (the header row sorts first)
        _, body, _, seq, head = rows[0]
        del rows[0]
        return ReadSnapshot(int(seq), bytes(head), bytes(body), rows)

    def save(
        self,
        originator_id: UUID,
        seq: int,
        head: bytes,
        body: bytes,
        lines: Sequence[tuple[int, int, int, int | None, int | None, bytes]],
    ) -> None:
        """Replace the stream's snapshot by the one taken at record ``seq`` (hash
        ``head``) with ``lines`` ((seq, stretch, effective_us, from_us, until_us, body)
        each), in a transaction of its own; a snapshot taken at a later record is kept."""
        key = self.store.id_param(originator_id)
        with self.store.transaction() as cursor:
            cursor.execute(
                self.store.sql(
                    f"SELECT originator_version FROM {self.table} WHERE originator_id = %s"
                ),
                (key,),
            )
            found = cursor.fetchone()
            if found is not None and int(found[0]) > seq:
                return
            cursor.execute(
                self.store.sql(f"DELETE FROM {self.lines_table} WHERE originator_id = %s"), (key,)
            )
            cursor.execute(
                self.store.sql(f"DELETE FROM {self.table} WHERE originator_id = %s"), (key,)
            )
            cursor.execute(
                self.store.sql(
                    f"INSERT INTO {self.table} (originator_id, originator_version, head, body) "
                    "VALUES (%s, %s, %s, %s)"
                ),
                (key, seq, head, body),
            )
            if lines:
                rows: list[tuple[Any, ...]] = [(key, *line) for line in lines]
                self.store.insert_rows(cursor, READ_SNAPSHOT_LINES_TABLE, LINE_COLUMNS, rows)
