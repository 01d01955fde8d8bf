"""The ledger's rows as the recorder reads and writes them, and what they become.

``COLUMNS`` is the order of every row the recorder reads or writes; ``AUDIT_COLUMNS``
the order of the rows the audit reads (``LedgerSQL.audit_rows``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Notification

from events.recorded import RecordedEvent

__all__ = [
    "AUDIT_COLUMNS",
    "COLUMNS",
    "LedgerNotification",
    "row_to_event",
    "row_to_notification",
    "stream_id",
]

COLUMNS = (
    "notification_id, originator_id, originator_version, topic, state, subject, "
    "source, event_id, time, time_us, recorded_us, schema_version, hash, prev"
)
"""The column order of every row read or written (see ``row_to_event``)."""

AUDIT_COLUMNS = (
    "notification_id, subject, originator_id, originator_version, event_id, source, topic, "
    "time, time_us, recorded_us, state, hash, prev"
)
"""The column order of the rows the audit reads (``audit_rows``): no JSON decoding, the
record's fields in the order ``ledger.audit`` hashes them. ``originator_id`` comes in the
cheapest form: 16 raw bytes on PostgreSQL (``audit_reader`` loads uuid as bytes), the hex
string on SQLite."""


@dataclass(frozen=True, slots=True)
class LedgerNotification(Notification):
    """A notification (``id`` = position + 1) carrying the ledger's columns."""

    subject: str
    source: str
    event_id: str
    time: str
    time_us: int
    recorded_us: int
    schema_version: int
    hash: bytes
    prev: bytes


def row_to_event(row: Sequence[Any]) -> RecordedEvent:
    """Build a ``RecordedEvent`` from a row in ``COLUMNS`` order."""
    originator_id = row[1] if isinstance(row[1], UUID) else UUID(row[1])
    return RecordedEvent(
        originator_id=originator_id,
        originator_version=row[2],
        subject=row[5],
        id=row[7],
        source=row[6],
        type=row[3],
        time=row[8],
        time_us=row[9],
        recorded_us=row[10],
        data=orjson.loads(row[4]),
        schema_version=row[11],
        position=row[0] - 1,
        hash=bytes(row[12]).hex(),
        prev=bytes(row[13]).hex(),
    )


def row_to_notification(row: Sequence[Any]) -> LedgerNotification:
    originator_id = row[1] if isinstance(row[1], UUID) else UUID(row[1])
    return LedgerNotification(
        id=row[0],
        originator_id=originator_id,
        originator_version=row[2],
        topic=row[3],
        state=bytes(row[4]),
        subject=row[5],
        source=row[6],
        event_id=row[7],
        time=row[8],
        time_us=row[9],
        recorded_us=row[10],
        schema_version=row[11],
        hash=bytes(row[12]),
        prev=bytes(row[13]),
    )


def stream_id(value: Any) -> UUID:
    """A stream id as a column returns it (a ``UUID`` on PostgreSQL, hex text on SQLite)."""
    return value if isinstance(value, UUID) else UUID(value)
