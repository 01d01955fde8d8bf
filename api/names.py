"""The subject index: subjects' names for the public search page, and which
subjects carry personal data (for the access log).

Agencies put the subject's registered name in ``data.subject_name`` (the demo
does it on each subject's first event). The index scans the ledger once at
start-up and then, on each search, only the records appended since
(:meth:`NameIndex.refresh`): it is a small in-memory materialised view kept by
ledger position. The latest name recorded for a subject wins. Names are public
information (信用中国 shows them).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import orjson

from ledger.app import Ledger

__all__ = ["Match", "NameIndex"]

_TOPIC = 3  # the type column in recorders.COLUMNS order
_DATA = 4  # the state column
_SUBJECT = 5
PERSON_TYPE = "credit.person.linked"
_PAGE = 5000


@dataclass(frozen=True, slots=True)
class Match:
    """One search hit."""

    subject: str
    name: str | None


class NameIndex:
    """Subject code → name, kept up to date by ledger position. Thread-safe."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._names: dict[str, str | None] = {}
        self._persons: set[str] = set()
        self._synced = 0  # records read so far (= the next notification id − 1)
        self._lock = threading.Lock()

    def refresh(self) -> int:
        """Read the records appended since the last refresh; returns how many."""
        with self._lock:
            read = 0
            while True:
                rows = self.ledger.recorder.select_notification_rows(
                    self._synced + 1, _PAGE
                )
                for row in rows:
                    subject = row[_SUBJECT]
                    if row[_TOPIC] == PERSON_TYPE:
                        self._persons.add(subject)
                    name = _name_in(row[_DATA])
                    if name is not None or subject not in self._names:
                        self._names[subject] = name or self._names.get(subject)
                if rows:
                    self._synced = rows[-1][0]
                    read += len(rows)
                if len(rows) < _PAGE:
                    return read

    def name(self, subject: str) -> str | None:
        """The subject's name, or None (unknown subject or no name recorded)."""
        return self._names.get(subject)

    def knows(self, subject: str) -> bool:
        return subject in self._names

    def has_person(self, subject: str) -> bool:
        """Whether the subject has responsible persons (personal data) on record;
        reads the records appended since the last refresh first."""
        self.refresh()
        return subject in self._persons

    def search(self, query: str, limit: int | None = 50) -> list[Match]:
        """Subjects whose code starts with, or whose name contains, ``query``
        (case-insensitive), exact code first, then by code; at most ``limit``
        (None: every match)."""
        self.refresh()
        q = query.strip()
        if not q:
            return []
        upper = q.upper()
        folded = q.casefold()
        hits = [
            Match(code, name)
            for code, name in self._names.items()
            if code.startswith(upper) or (name is not None and folded in name.casefold())
        ]
        hits.sort(key=lambda m: (m.subject != upper, m.subject))
        return hits[:limit]

    def __len__(self) -> int:
        return len(self._names)


def _name_in(state: bytes | memoryview | str) -> str | None:
    raw = bytes(state) if not isinstance(state, str) else state.encode()
    if b"subject_name" not in raw:
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    name = data.get("subject_name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name.strip() else None
