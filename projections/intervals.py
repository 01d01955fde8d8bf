"""When a record is in force, as intervals of valid time, and how to read them at an instant.

The algebra under every lifecycle (:mod:`projections.lifecycles`), knowing nothing of
record types or rules:

* `Interval`: ``[start_us, end_us)`` in microseconds of valid time (start inclusive,
  end exclusive, ``None`` = open), with the cause and event of each end.
* `Cut`: a later event that ends a record's force from its time, for good or until a
  restoring event; `subtract` takes one out of a list of intervals.
* `Lifecycle`: a record's own intervals (``base``) and the cuts made to them, read
  *as known* at an instant: a cut counts only once it has happened, so an as-of read
  never shows what a later event did.
* `Reading`, `marks`, `read_at`: a lifecycle read at an instant, the same for every
  instant between two marks and memoised per stretch on the timeline; `NextChange`
  gathers the earliest instant after a read at which some reading changes.

Pure: nothing here reads a clock; every instant comes in as an argument.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from projections.timeline import Timeline, day_after_start_us

__all__ = [
    "Cut",
    "Interval",
    "Lifecycle",
    "NextChange",
    "Reading",
    "active_at",
    "marks",
    "read_at",
    "subtract",
]


@dataclass(frozen=True, slots=True)
class Interval:
    """``[start_us, end_us)`` in valid time; ``end_us`` None = open-ended.

    ``start_cause`` says why it starts ("decided", "repair revoked" …);
    ``end_cause``/``end_event`` why and by which event id it ends (``end_event``
    None for an end by date: a maximum period, an ``until``).
    """

    start_us: int
    end_us: int | None
    start_cause: str
    end_cause: str | None = None
    end_event: str | None = None
    start_event: str | None = None

    def contains(self, us: int) -> bool:
        return self.start_us <= us and (self.end_us is None or us < self.end_us)


@dataclass(frozen=True, slots=True)
class Cut:
    """An event that ends a record's force from ``start_us`` until ``end_us``
    (None = for good), e.g. an approved repair until its revocation."""

    start_us: int
    end_us: int | None
    cause: str
    event: str
    restore_cause: str | None = None
    restore_event: str | None = None


def subtract(intervals: Iterable[Interval], cut: Cut) -> list[Interval]:
    """``intervals`` without ``[cut.start_us, cut.end_us)``; the piece before the
    cut ends with the cut's cause, the piece after starts with its restore cause.
    Empty pieces are dropped."""
    out: list[Interval] = []
    for iv in intervals:
        before_cut = iv.end_us is not None and iv.end_us <= cut.start_us
        after_cut = cut.end_us is not None and iv.start_us >= cut.end_us
        if before_cut or after_cut:
            out.append(iv)
            continue
        if iv.start_us < cut.start_us:
            out.append(
                Interval(
                    iv.start_us, cut.start_us, iv.start_cause, cut.cause, cut.event, iv.start_event
                )
            )
        if cut.end_us is not None and (iv.end_us is None or iv.end_us > cut.end_us):
            out.append(
                Interval(
                    cut.end_us,
                    iv.end_us,
                    cut.restore_cause or "restored",
                    iv.end_cause,
                    iv.end_event,
                    cut.restore_event,
                )
            )
    return out


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """When one record is in force, as known from a timeline, read at any instant.

    ``base`` are the intervals the record itself sets (its time to its natural
    end: a maximum period, an ``until``); ``cuts`` the later events that end it
    (each from its own time, some until a restoring event). Read at ``as_of``
    only the cuts that had happened by then count (:meth:`intervals_at`), so an
    as-of read never shows what a later event did, while whether the record is
    in force at ``as_of`` is the same either way. ``never`` (a reason) is set
    when it never was in force (revoked, or its grounds revoked).
    """

    base: tuple[Interval, ...]
    cuts: tuple[Cut, ...] = ()
    never: str | None = None

    def intervals_at(self, us: int) -> Sequence[Interval]:
        """The intervals as known at ``us``: the base minus every cut that had
        started by ``us`` (a restore later than ``us`` is not yet known)."""
        if not self.cuts or self.cuts[0].start_us > us:
            return self.base
        intervals: Sequence[Interval] = self.base
        for cut in self.cuts:
            if cut.start_us > us:
                continue
            if cut.end_us is not None and cut.end_us > us:
                cut = Cut(cut.start_us, None, cut.cause, cut.event)
            intervals = subtract(intervals, cut)
        return intervals

    def at(self, us: int) -> Interval | None:
        """The interval containing ``us`` (as known at ``us``), if any."""
        if self.never is not None or not self.base or self.base[0].start_us > us:
            return None
        for iv in self.intervals_at(us):
            if iv.contains(us):
                return iv
        return None

    def ended(self, us: int) -> tuple[int, str, str | None] | None:
        """(when, why, by which event) the record stopped being in force, as
        known at ``us``, if it is not in force at ``us`` but was before."""
        found: tuple[int, str, str | None] | None = None
        for iv in self.intervals_at(us):
            if iv.end_us is not None and iv.end_us <= us:
                found = (iv.end_us, iv.end_cause or "ended", iv.end_event)
        if found is None:
            for cut in self.cuts:
                if self.base and cut.start_us <= us and cut.start_us <= self.base[0].start_us:
                    return (cut.start_us, cut.cause, cut.event)
        return found

    def boundaries(self, us: int) -> list[int]:
        """The instants after ``us`` at which being in force changes by the
        calendar alone (no new event)."""
        out: list[int] = []
        for iv in self.intervals_at(us):
            if iv.start_us > us:
                out.append(iv.start_us)
            if iv.end_us is not None and iv.end_us > us:
                out.append(iv.end_us)
        return out

    def final(self) -> list[Interval]:
        """The intervals with every known cut applied (all of valid time)."""
        intervals = list(self.base)
        for cut in self.cuts:
            intervals = subtract(intervals, cut)
        return intervals

    @classmethod
    def of(cls, base: Iterable[Interval], cuts: Iterable[Cut]) -> Lifecycle:
        """The lifecycle of ``base`` intervals and ``cuts`` (ordered here by time,
        then event id)."""
        ordered = tuple(sorted(cuts, key=lambda c: (c.start_us, c.event)))
        return cls(tuple(base), ordered)


def active_at(lifecycle: Lifecycle, us: int) -> bool:
    """Whether the record is in force at ``us``."""
    return lifecycle.at(us) is not None


@dataclass(frozen=True, slots=True)
class Reading:
    """A lifecycle read at an instant: the interval in force (None: not in force),
    why it ended (when it did) and the later calendar boundaries. The same for
    every instant between two of the lifecycle's marks."""

    current: Interval | None
    ended: tuple[int, str, str | None] | None
    boundaries: tuple[int, ...]
    key: tuple[int, int] = (0, 0)
    """(seq, stretch): equal keys, equal readings."""

    @property
    def next(self) -> int | None:
        """The first of ``boundaries`` (None: none)."""
        return min(self.boundaries) if self.boundaries else None


def marks(lifecycle: Lifecycle) -> tuple[int, ...]:
    """Every instant at which a reading of ``lifecycle`` may change."""
    points: set[int] = set()
    for iv in lifecycle.base:
        points.add(iv.start_us)
        if iv.end_us is not None:
            points.add(iv.end_us)
    for cut in lifecycle.cuts:
        points.add(cut.start_us)
        if cut.end_us is not None:
            points.add(cut.end_us)
    return tuple(sorted(points))


def read_at(timeline: Timeline, seq: int, lifecycle: Lifecycle, us: int) -> Reading:
    """``lifecycle`` (of the record ``seq`` of ``timeline``) read at ``us``,
    memoised on the timeline per stretch between two marks."""
    found_marks = timeline.memo.setdefault("marks", {})
    points = found_marks.get(seq)
    if points is None:
        points = found_marks[seq] = marks(lifecycle)
    cache = timeline.memo.setdefault("readings", {})
    key = (seq, bisect_right(points, us))
    reading = cache.get(key)
    if reading is None:
        current = lifecycle.at(us)
        reading = cache[key] = Reading(
            current,
            None if current is not None else lifecycle.ended(us),
            tuple(lifecycle.boundaries(us)),
            key,
        )
    return reading


class NextChange:
    """The earliest calendar-driven change after ``as_of``: each reader of a
    subject's state at ``as_of`` adds the instants at which its answer changes
    by the calendar alone; ``first`` is the earliest after ``as_of`` (None: none).
    A standing's ``next_change_us``."""

    def __init__(self, as_of_us: int) -> None:
        self.as_of_us = as_of_us
        self.first: int | None = None

    def add(self, us: int | None) -> None:
        if us is not None and us > self.as_of_us and (self.first is None or us < self.first):
            self.first = us

    def add_lifecycle(self, lifecycle: Lifecycle) -> None:
        for us in lifecycle.boundaries(self.as_of_us):
            self.add(us)

    def add_all(self, instants: Iterable[int]) -> None:
        for us in instants:
            self.add(us)

    def add_day_end(self, day: date | None) -> None:
        if day is not None:
            self.add(day_after_start_us(day))
