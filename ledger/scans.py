"""Reading the ledger in position order, filtered by event type: the cheap way for
jobs (deadlines, spot checks, person look-ups) to find the streams they need
without folding every subject.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from commands.state import SubjectState
from events.recorded import RecordedEvent
from ledger.app import Ledger, fold
from ledger.store.rows import row_to_event

__all__ = ["records", "states"]

PAGE = 5_000


def records(ledger: Ledger, types: Iterable[str] = (), page: int = PAGE) -> Iterator[RecordedEvent]:
    """Every record of the given types (all types if none), in position order,
    read in pages of ``page`` rows."""
    topics = list(types)
    start = 1
    while True:
        rows = ledger.recorder.select_notification_rows(start, page, topics=topics)
        if not rows:
            return
        for row in rows:
            yield row_to_event(row)
        start = rows[-1][0] + 1


def states(ledger: Ledger, subjects: Iterable[str]) -> Iterator[SubjectState]:
    """The decision state of each subject (sorted by code), read one stream at a time."""
    for subject in sorted(set(subjects)):
        yield fold(subject, ledger.stream(subject))
