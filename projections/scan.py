"""One read of the whole ledger, subject by subject: what whole-ledger reads fold.

:func:`subject_streams` pages through the records up to a notification id in
stream order (``ViewStore.stream_page``, the rebuild's read) inside one read
transaction, and yields each subject's records (seq order) in turn, so a reader
folds one subject at a time and never holds the ledger in memory.
"""

from __future__ import annotations

from collections.abc import Iterator

from events.recorded import RecordedEvent
from ledger.store.views import ViewStore

__all__ = ["subject_streams"]


def subject_streams(store: ViewStore, upto: int, page: int = 5000) -> Iterator[list[RecordedEvent]]:
    """Every subject's records up to notification id ``upto``, one subject at a time."""
    with store.read_cursor() as cursor:
        after = None
        current: list[RecordedEvent] = []
        while True:
            rows = store.stream_page(cursor, upto, after, page)
            if not rows:
                break
            for record in rows:
                if current and current[0].originator_id != record.originator_id:
                    yield current
                    current = []
                current.append(record)
            after = (rows[-1].originator_id, rows[-1].seq)
        if current:
            yield current
