"""The official working-day calendar (工作日), and deadlines counted in working days.

Deadlines in working days (publication within 7 working days, withdrawal within 3,
objection decisions within 5 …) skip statutory holidays and count the make-up
working days (调休) on Saturdays and Sundays. The start day is never counted: the
deadline is the n-th working day *after* the act, so a deadline that would fall on
a holiday is naturally the next working day (DOMAIN.md, "Working days").

Where the calendar comes from:

* the `chinese_calendar` package, which holds the State Council's notices for the
  years it knows (2004–2026 in version 1.11);
* `YearCalendar` data files (`YYYY.json`, format in `YearCalendar`) for other
  years, loaded by an operator once the State Council publishes the year's
  holiday notice. A file takes precedence over the package for its whole year.

For a year neither knows, every computation that needs a day of that year raises
`CalendarUnknown`: a deadline is never guessed from weekdays alone.

Everything here is pure: the data files (the package's `commands/calendars/*.json` and
`LEDGER_CALENDAR_DIR`) are read once at start-up by `entrypoints.rule_files`, which
hands the parsed `YearCalendar`s to `WorkingCalendar`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import chinese_calendar
from pydantic import ValidationInfo, field_validator

from commands.parsing import Day, Strict, parse
from events.reasons import Reason

__all__ = [
    "CalendarUnknown",
    "WorkingCalendar",
    "YearCalendar",
]


class CalendarUnknown(Exception):
    """A working-day computation needs `year`, whose official calendar is not loaded.

    `reason` is `Reason.CALENDAR_UNKNOWN`; `str(exc)` is one line a person
    understands, saying how to load the missing year.
    """

    reason: Reason = Reason.CALENDAR_UNKNOWN

    def __init__(self, year: int) -> None:
        self.year: int = year
        super().__init__(
            f"the official working-day calendar for {year} is not loaded; load it with "
            f"`ledger calendar load {year}.json` (the State Council's holiday notice for "
            f"{year}, into LEDGER_CALENDAR_DIR) — deadlines in {year} are not guessed"
        )

    def __reduce__(self) -> tuple[type[CalendarUnknown], tuple[int]]:
        return (type(self), (self.year,))


class _YearCalendarFile(Strict):
    """The file format of one year (see :class:`YearCalendar`)."""

    year: int
    source: str
    holidays: tuple[Day, ...]
    workdays: tuple[Day, ...]

    @field_validator("holidays", "workdays")
    @classmethod
    def _once(cls, days: tuple[date, ...], info: ValidationInfo) -> tuple[date, ...]:
        seen: set[date] = set()
        for d in days:
            if d in seen:
                raise ValueError(f"{d.isoformat()} is listed twice in `{info.field_name}`")
            seen.add(d)
        return days


@dataclass(frozen=True)
class YearCalendar:
    """The official working-day calendar of one year, from the State Council's notice.

    * `holidays`: statutory days off that would otherwise be working days (Mon–Fri).
      Weekend days inside a holiday block may be listed too; they change nothing.
    * `workdays`: make-up working days (调休) that fall on a Saturday or Sunday.
    * `source`: the notice the data comes from, e.g.
      "国务院办公厅关于2027年部分节假日安排的通知".

    Every other Monday–Friday is a working day; every other Saturday and Sunday is
    not. Construct through `from_json` (which validates) or directly with
    already-checked values; `__post_init__` validates either way and raises
    `ValueError` with a message naming the offending date.

    File format (one file per year, UTF-8 JSON)::

        {"year": 2027,
         "source": "国务院办公厅关于2027年部分节假日安排的通知",
         "holidays": ["2027-01-01", ...],
         "workdays": ["2027-02-07", ...]}
    """

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str

    def __post_init__(self) -> None:
        if isinstance(self.year, bool) or not isinstance(self.year, int):
            raise ValueError(f"year: {self.year!r} is not an integer year")
        if not 1900 <= self.year <= 9998:
            raise ValueError(f"year: {self.year} is out of range")
        if not isinstance(self.source, str) or not self.source.strip():
            raise ValueError(
                f"calendar {self.year}: `source` must name the official notice "
                "(e.g. 国务院办公厅关于2027年部分节假日安排的通知)"
            )
        for d in sorted(self.holidays | self.workdays):
            if d.year != self.year:
                raise ValueError(f"calendar {self.year}: {d.isoformat()} is not in {self.year}")
        if not self.holidays:
            raise ValueError(
                f"calendar {self.year}: no holidays listed; every year has at least "
                "New Year's Day — is this the right file?"
            )
        for d in sorted(self.workdays):
            if d.weekday() < 5:
                raise ValueError(
                    f"calendar {self.year}: make-up working day {d.isoformat()} is a "
                    f"{d.strftime('%A')}; `workdays` lists only Saturdays and Sundays "
                    "that are worked (调休)"
                )
        both = sorted(self.holidays & self.workdays)
        if both:
            raise ValueError(
                f"calendar {self.year}: {both[0].isoformat()} is listed both as a "
                "holiday and as a make-up working day"
            )

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "calendar") -> YearCalendar:
        """Parse and validate the file format above; raises `ValueError` on any defect
        (``where``, e.g. the file name, starts the message).

        Unknown keys, duplicated dates, dates outside `year`, weekday entries in
        `workdays` and dates in both lists are all rejected.
        """
        parsed = parse(_YearCalendarFile, obj, where)
        try:
            return cls(
                year=parsed.year,
                holidays=frozenset(parsed.holidays),
                workdays=frozenset(parsed.workdays),
                source=parsed.source,
            )
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None

    def to_json(self) -> dict[str, Any]:
        """The file format above, dates sorted; `from_json(to_json())` round-trips."""
        return {
            "year": self.year,
            "source": self.source,
            "holidays": [d.isoformat() for d in sorted(self.holidays)],
            "workdays": [d.isoformat() for d in sorted(self.workdays)],
        }

    def is_working_day(self, d: date) -> bool:
        """Whether `d` (a day of this year) is a working day under this notice."""
        if d in self.workdays:
            return True
        return d.weekday() < 5 and d not in self.holidays


def _package_is_working_day(d: date) -> bool:
    """`chinese_calendar.is_workday` without its per-call range check (same rule)."""
    if d in chinese_calendar.workdays:
        return True
    return d.weekday() < 5 and d not in chinese_calendar.holidays


def _package_years() -> frozenset[int]:
    """The years the installed `chinese_calendar` holds data for."""
    years = [d.year for d in chinese_calendar.holidays]
    return frozenset(range(min(years), max(years) + 1))


class WorkingCalendar:
    """Working days for every known year; refuses (`CalendarUnknown`) for the others.

    Known years are those of the installed `chinese_calendar` package plus those of
    the `YearCalendar`s given; a given `YearCalendar` replaces the package's data
    for its whole year. Two different `YearCalendar`s for one year are an error
    (`ValueError`) — identical duplicates are accepted.

    Thread-safe for reading: per-year caches are filled lazily and idempotently.
    """

    def __init__(self, extra: Iterable[YearCalendar] = ()) -> None:
        self._extra: dict[int, YearCalendar] = {}
        for cal in extra:
            other = self._extra.get(cal.year)
            if other is not None and other != cal:
                raise ValueError(
                    f"two different calendars for {cal.year} "
                    f"({other.source!r} and {cal.source!r}); keep one file per year"
                )
            self._extra[cal.year] = cal
        self._package_years = _package_years()
        self._known = frozenset(self._package_years | self._extra.keys())
        # year -> sorted ordinals of that year's working days
        self._working: dict[int, list[int]] = {}

    # -- what is known ------------------------------------------------------------

    def known_years(self) -> frozenset[int]:
        """Every year for which working days can be computed."""
        return self._known

    def knows(self, d: date) -> bool:
        """Whether the year of `d` is known (so `is_working_day(d)` will not raise)."""
        return d.year in self._known

    def source(self, year: int) -> str:
        """Where the data for `year` comes from (the notice, or the package)."""
        if year in self._extra:
            return self._extra[year].source
        if year in self._package_years:
            return f"chinese_calendar {chinese_calendar.__version__}"
        raise CalendarUnknown(year)

    # -- the predicate ------------------------------------------------------------

    def _year(self, year: int) -> list[int]:
        days = self._working.get(year)
        if days is None:
            days = self._build(year)
            self._working[year] = days
        return days

    def _build(self, year: int) -> list[int]:
        if year in self._extra:
            predicate = self._extra[year].is_working_day
        elif year in self._package_years:
            predicate = _package_is_working_day
        else:
            raise CalendarUnknown(year)
        first = date(year, 1, 1).toordinal()
        last = date(year, 12, 31).toordinal()
        return [o for o in range(first, last + 1) if predicate(date.fromordinal(o))]

    def is_working_day(self, d: date) -> bool:
        """Whether `d` is a working day. Raises `CalendarUnknown` for an unknown year."""
        _check_date(d, "d")
        days = self._year(d.year)
        o = d.toordinal()
        i = bisect_right(days, o)
        return i > 0 and days[i - 1] == o

    # -- deadlines ------------------------------------------------------------------

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (n ≥ 1); `start` itself is not counted.

        `add_working_days(act, 7)` is the 7-working-day deadline of an act done on
        `act`, whatever kind of day `act` is (a holiday, a weekend, a make-up
        working day). Raises `CalendarUnknown` for the first unknown year among the
        days it has to examine (those after `start` up to the result) and
        `ValueError` if n < 1.
        """
        _check_date(start, "start")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be an integer ≥ 1, not {n!r}")
        o = start.toordinal()
        year = start.year
        if start.month == 12 and start.day == 31:
            year += 1
        while True:
            days = self._year(year)
            i = bisect_right(days, o)
            available = len(days) - i
            if n <= available:
                return date.fromordinal(days[i + n - 1])
            n -= available
            year += 1

    def working_days_between(self, a: date, b: date) -> int:
        """The number of working days d with a < d ≤ b (negative if b < a).

        Consistent with `add_working_days`: `working_days_between(a,
        add_working_days(a, n)) == n`. Raises `CalendarUnknown` if a day in
        the range (a, b] lies in an unknown year.
        """
        _check_date(a, "a")
        _check_date(b, "b")
        if b < a:
            return -self.working_days_between(b, a)
        if a == b:
            return 0
        lo, hi = a.toordinal(), b.toordinal()
        first_year = a.year + 1 if (a.month == 12 and a.day == 31) else a.year
        count = 0
        for year in range(first_year, b.year + 1):
            days = self._year(year)
            count += bisect_right(days, hi) - bisect_right(days, lo)
        return count


def _check_date(d: object, name: str) -> None:
    """Reject datetimes and non-dates (cheap on the hot path: one type check)."""
    if type(d) is date:
        return
    # A datetime is a date too, but its calendar day depends on its time zone:
    # the caller must first take the day in China Standard Time.
    if isinstance(d, datetime):
        raise TypeError(f"{name} must be a date (the day in China Standard Time), not a datetime")
    if not isinstance(d, date):
        raise TypeError(f"{name} must be a datetime.date, not {type(d).__name__}")
