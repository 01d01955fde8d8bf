"""Bitemporal selection: which of a subject's records a read sees, and their data.

DESIGN.md "Two clocks". A read names ``as_of`` (valid time) and ``known_at``
(recorded time). :func:`select` keeps, from a subject's records in seq order:

* those the ledger had recorded by ``known_at`` (``recorded_us <= known_at``);
* of those, the ones whose *effective* valid time is ``<= as_of``: a
  ``credit.record.corrected`` or ``credit.record.revoked`` takes effect at its
  TARGET's effective time (the record was wrong from the start); every other
  record at its own ``time``.

Corrections apply their ``changes`` onto the target's data, later corrections
over earlier ones in seq order; a revoked correction no longer applies, and a
correction may itself be corrected. Revocations mark their target
(:attr:`Entry.revoked_by`). References (the vocabulary's ref fields) are resolved
to :class:`Entry` objects when a record is added, to the latest earlier record
with that id, and re-resolved when a correction changes a ref field.

``as_of=known_at=D`` is what the ledger showed on D; ``as_of=D`` with
``known_at=None`` (now) is what we now know was true on D. ``None`` means no
limit on that clock. Pure: no I/O, no clock.

A :class:`Timeline` is also built incrementally (:meth:`Timeline.append`), which
is how the projection runner keeps a subject's fold warm between batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from types import MappingProxyType
from typing import Any

from events.dates import add_days
from events.instants import CST, from_us
from events.recorded import RecordedEvent
from events.vocabulary import ref_fields

__all__ = [
    "COMPENSATING_TYPES",
    "Entry",
    "Timeline",
    "day_start_us",
    "instant_text",
    "parse_day",
    "select",
    "valid_day",
]

COMPENSATING_TYPES = frozenset({"credit.record.corrected", "credit.record.revoked"})
"""Types that take effect at their target's valid time."""

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY_US = 86_400_000_000
_CST_OFFSET_US = 8 * 3_600_000_000


def valid_day(us: int) -> date:
    """The day in China Standard Time of an instant (microseconds UTC)."""
    return date.fromordinal(_EPOCH_ORDINAL + (us + _CST_OFFSET_US) // _DAY_US)


def day_start_us(day: date) -> int:
    """The first microsecond of ``day`` in China Standard Time."""
    return (day.toordinal() - _EPOCH_ORDINAL) * _DAY_US - _CST_OFFSET_US


def instant_text(us: int | None) -> str | None:
    """An instant as RFC 3339 in China Standard Time (None stays None)."""
    if us is None:
        return None
    return from_us(us).astimezone(CST).isoformat()


def day_after_start_us(day: date) -> int:
    """The first microsecond of the day after ``day`` (CST): the end of an
    inclusive "last day" such as a measure's ``until``. Saturates at 9999-12-31
    (records admitted before the accepted range existed may carry it)."""
    return day_start_us(add_days(day, 1))


def parse_day(value: object) -> date | None:
    """A ``YYYY-MM-DD`` data field as a date; None when absent or malformed
    (corrected data is not validated, so readers must not trust it)."""
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


_NO_REFS: Mapping[str, Any] = MappingProxyType({})


class Entry:
    """One selected record, as the read sees it.

    ``data`` is the record's data with every applicable correction applied
    (read-only: the record's own dict until a correction replaces it with a new
    one; the record's data is never modified). ``refs`` maps each
    reference field to the earlier entry it names (absent when it names nothing
    selected). ``referrers`` are the later entries whose ref fields name this one,
    ``corrections`` the ``credit.record.corrected`` entries targeting it (seq
    order), ``revoked_by`` the revocation targeting it, if any.
    """

    __slots__ = (
        "corrections",
        "data",
        "effective_us",
        "id",
        "record",
        "referrers",
        "refs",
        "revoked_by",
        "seq",
        "type",
    )

    def __init__(self, record: RecordedEvent, effective_us: int) -> None:
        self.record = record
        self.data: Mapping[str, Any] = record.data
        self.effective_us = effective_us
        self.id = record.id
        self.type = record.type
        self.seq = record.seq
        self.refs: Mapping[str, Entry] = _NO_REFS
        self.referrers: Sequence[Entry] = ()
        self.corrections: Sequence[Entry] = ()
        self.revoked_by: Entry | None = None

    def __repr__(self) -> str:
        return f"Entry(#{self.seq} {self.type} {self.id})"

    @property
    def source(self) -> str:
        return self.record.source

    @property
    def time_us(self) -> int:
        """The record's own valid time."""
        return self.record.time_us

    @property
    def recorded_us(self) -> int:
        return self.record.recorded_us

    @property
    def revoked(self) -> bool:
        return self.revoked_by is not None

    @property
    def day(self) -> date:
        """The record's own valid date (CST)."""
        return valid_day(self.record.time_us)

    def referring(
        self, type_name: str, field_name: str | None = None, as_of_us: int | None = None
    ) -> list[Entry]:
        """Non-revoked entries of ``type_name`` whose ref field (``field_name``, or
        any) names this entry, in seq order; with ``as_of_us``, only those in
        effect by then."""
        found = []
        for other in self.referrers:
            if other.type != type_name or other.revoked_by is not None:
                continue
            if as_of_us is not None and other.effective_us > as_of_us:
                continue
            if field_name is None or other.refs.get(field_name) is self:
                found.append(other)
        return found


class Timeline:
    """The records of one subject a read selects (see module docstring).

    ``entries`` are in seq order. ``by_type`` groups them by type. ``last_seq`` is
    the seq of the last record offered to :meth:`append` (selected or not) and
    ``recorded_us`` the recording time of the last one known.
    """

    def __init__(
        self, subject: str, as_of_us: int | None = None, known_at_us: int | None = None
    ) -> None:
        self.subject = subject
        self.as_of_us = as_of_us
        self.known_at_us = known_at_us
        self.entries: list[Entry] = []
        self.by_type: dict[str, list[Entry]] = {}
        self.last_seq = 0
        self.recorded_us = 0
        self.max_time_us = 0
        """The latest valid time among the known records."""
        self.subject_name: str | None = None
        """``data.subject_name`` of the first known record that carries one."""
        self.memo: dict[Any, Any] = {}
        """Facts derived from the entries (lifecycles …), cleared whenever an entry
        is added: readers memoise what does not depend on ``as_of`` here."""
        self._by_id: dict[str, Entry] = {}
        self._effective: dict[str, int] = {}  # id → effective time, every known record

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, event_id: str) -> Entry | None:
        """The selected entry with this id (the latest, if an id was reused)."""
        return self._by_id.get(event_id)

    def of_type(self, type_name: str) -> list[Entry]:
        """Selected entries of one type, in seq order (revoked ones included)."""
        return self.by_type.get(type_name, [])

    def knows(self, record: RecordedEvent) -> bool:
        """Whether ``record`` lies within ``known_at``."""
        return self.known_at_us is None or record.recorded_us <= self.known_at_us

    def effective_us(self, record: RecordedEvent) -> int:
        """When ``record`` takes effect in valid time (module docstring)."""
        if record.type in COMPENSATING_TYPES:
            target = record.data.get("target")
            if isinstance(target, str) and target in self._effective:
                return self._effective[target]
        return record.time_us

    def append(self, record: RecordedEvent) -> Entry | None:
        """Offer the subject's next record (``seq == last_seq + 1``).

        Returns its entry when selected, None when it lies beyond ``known_at``
        or ``as_of``. Records must come in seq order; a record beyond ``known_at``
        is ignored (later ones are too, being recorded no earlier).
        """
        if not self.knows(record):
            return None
        self.last_seq = record.seq
        self.recorded_us = max(self.recorded_us, record.recorded_us)
        self.max_time_us = max(self.max_time_us, record.time_us)
        if self.subject_name is None:
            name = record.data.get("subject_name")
            if isinstance(name, str) and name.strip():
                self.subject_name = name
        effective = self.effective_us(record)
        self._effective[record.id] = effective
        if self.as_of_us is not None and effective > self.as_of_us:
            return None
        entry = Entry(record, effective)
        if self.memo:
            self.memo = {}
        self._resolve(entry)
        self.entries.append(entry)
        self.by_type.setdefault(record.type, []).append(entry)
        self._by_id[record.id] = entry
        if record.type == "credit.record.corrected":
            target = entry.refs.get("target")
            if target is not None:
                target.corrections = [*target.corrections, entry]
                self._recompute(target)
        elif record.type == "credit.record.revoked":
            target = entry.refs.get("target")
            if target is not None and target.revoked_by is None:
                target.revoked_by = entry
                if target.type == "credit.record.corrected":
                    corrected = target.refs.get("target")
                    if corrected is not None:
                        self._recompute(corrected)
        return entry

    def extend(self, records: Iterable[RecordedEvent]) -> Timeline:
        """Append every record in turn; returns self."""
        for record in records:
            self.append(record)
        return self

    # -- corrections ---------------------------------------------------------------
    def _resolve(self, entry: Entry) -> None:
        """(Re)bind ``entry.refs`` from its current data; maintain referrers."""
        for old in entry.refs.values():
            if entry in old.referrers:
                old.referrers = [e for e in old.referrers if e is not entry]
        names = ref_fields(entry.type)
        if not names:
            return
        refs: dict[str, Entry] = {}
        for name in names:
            value = entry.data.get(name)
            if not isinstance(value, str):
                continue
            target = self._by_id.get(value)
            if target is None or target is entry or target.seq >= entry.seq:
                continue
            refs[name] = target
            if entry not in target.referrers:
                referrers = target.referrers if isinstance(target.referrers, list) else []
                referrers.append(entry)
                if len(referrers) > 1 and referrers[-2].seq > entry.seq:
                    referrers.sort(key=lambda e: e.seq)
                target.referrers = referrers
        entry.refs = refs if refs else _NO_REFS

    def _recompute(self, target: Entry, depth: int = 0) -> None:
        """Rebuild ``target.data`` from its record and its live corrections."""
        data = dict(target.record.data)
        for correction in target.corrections:
            if correction.revoked_by is not None:
                continue
            changes = correction.data.get("changes")
            if isinstance(changes, dict):
                data.update(changes)
        if data == target.data:
            return
        target.data = data
        if any(isinstance(data.get(n), str) for n in ref_fields(target.type)):
            self._resolve(target)
        if target.type == "credit.record.corrected" and depth < 16:
            corrected = target.refs.get("target")
            if corrected is not None:
                self._recompute(corrected, depth + 1)


def select(
    subject: str,
    records: Iterable[RecordedEvent],
    as_of_us: int | None = None,
    known_at_us: int | None = None,
) -> Timeline:
    """The timeline a read at (``as_of_us``, ``known_at_us``) sees of ``records``
    (one subject's stream in seq order; None = no limit on that clock)."""
    return Timeline(subject, as_of_us, known_at_us).extend(records)
