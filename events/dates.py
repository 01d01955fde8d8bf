"""The one range of dates and instants the ledger accepts (DOMAIN.md, Clarifications).

Every ``time`` of an event, every date field of its ``data`` (also inside the
``changes`` of a correction or an objection's resolution) and every query
instant (``as_of``, ``known_at``) must fall within :data:`DEFAULT_RANGE`,
1949-10-01 … 2199-12-31 inclusive, unless the settings name another range
(``LEDGER_DATE_FIRST`` / ``LEDGER_DATE_LAST``). A day bound is a day in China
Standard Time: the first instant accepted is 1949-10-01T00:00:00+08:00, the
last 2199-12-31T23:59:59.999999+08:00. Indefinite periods are ``null``, never a
far-future date.

Everything outside is refused with ``Reason.DATE_OUT_OF_RANGE`` and a message
naming the field and the range. The check lives here and only here; the
parsers (:mod:`events.fields`, :mod:`events.vocabulary` for ``changes``,
:mod:`events.rfc3339`, :mod:`events.instants`) call it. Within the range the
folds' date arithmetic stays far inside the years 1–9999 (a property test holds
them to it); records admitted before the range was enforced may still carry
e.g. 9999-12-31, so the folds' day arithmetic saturates (:func:`add_days`).

The range in force is process-wide: :func:`use_date_range` is called once by
the composition root (``entrypoints.bootstrap``) from the settings, before any
parsing; until then the default applies. A module-level setting rather than a
parameter, because the parsers are reached from a dozen doors (HTTP, Kafka,
CLI, the ledger's own jobs) that must all apply the same range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from events.reasons import InvalidEvent, Reason

__all__ = [
    "DEFAULT_RANGE",
    "WIDEST_RANGE",
    "DateRange",
    "add_days",
    "date_range",
    "use_date_range",
]

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY_US = 86_400_000_000
_CST_OFFSET_US = 8 * 3_600 * 1_000_000
_LOWEST = date(1900, 1, 1)
_HIGHEST = date(9000, 12, 31)


def _day_start_us(day: date) -> int:
    """Microseconds UTC of 00:00 China Standard Time on ``day``."""
    return (day.toordinal() - _EPOCH_ORDINAL) * _DAY_US - _CST_OFFSET_US


@dataclass(frozen=True, slots=True)
class DateRange:
    """The inclusive range ``first`` … ``last`` of accepted days (China Standard Time).

    ``first`` ≤ ``last``, both within 1900-01-01 … 9000-12-31 so that a fold's
    arithmetic of a few centuries either side stays in Python's years 1–9999.
    """

    first: date
    last: date
    _bounds_us: tuple[int, int] = field(init=False, repr=False, compare=False)
    """(first_us, last_us), computed once: every parsed instant is checked against them."""

    def __post_init__(self) -> None:
        if not _LOWEST <= self.first <= self.last <= _HIGHEST:
            raise ValueError(
                f"the accepted date range {self.first} … {self.last} must be ordered and lie "
                f"within {_LOWEST} … {_HIGHEST}"
            )
        bounds = (_day_start_us(self.first), _day_start_us(self.last) + _DAY_US - 1)
        object.__setattr__(self, "_bounds_us", bounds)

    @property
    def text(self) -> str:
        """The range for people: ``1949-10-01 … 2199-12-31``."""
        return f"{self.first.isoformat()} … {self.last.isoformat()}"

    @property
    def first_us(self) -> int:
        """The first accepted instant, microseconds UTC."""
        return self._bounds_us[0]

    @property
    def last_us(self) -> int:
        """The last accepted instant, microseconds UTC."""
        return self._bounds_us[1]

    def contains_day(self, day: date) -> bool:
        return self.first <= day <= self.last

    def contains_us(self, us: int) -> bool:
        first, last = self._bounds_us
        return first <= us <= last

    def outside(self, value: str) -> str:
        """``'value' is outside the dates the ledger accepts (…)``: the words of a refusal."""
        shown = value if len(value) <= 64 else value[:61] + "..."
        return (
            f"{shown!r} is outside the dates the ledger accepts ({self.text}, China Standard Time)"
        )

    def refusal(self, field: str, value: str, *, period: bool = False) -> InvalidEvent:
        """The ``DATE_OUT_OF_RANGE`` refusal of ``value`` given for ``field`` (``period``:
        a date field of ``data``, whose message adds that an open end is null)."""
        note = "; an indefinite period is null, not a far-future date" if period else ""
        return InvalidEvent(
            Reason.DATE_OUT_OF_RANGE,
            f"{field} {self.outside(value)}{note}",
            field=field,
            first=self.first.isoformat(),
            last=self.last.isoformat(),
        )

    def check_day(self, field: str, day: date) -> None:
        """Raise :meth:`refusal` unless ``day`` (a date field of ``data``) is within the range."""
        if not self.contains_day(day):
            raise self.refusal(field, day.isoformat(), period=True)

    def check_us(self, field: str, us: int, text: str) -> None:
        """Raise :meth:`refusal` (showing ``text``) unless instant ``us`` is within the range."""
        if not self.contains_us(us):
            raise self.refusal(field, text)


DEFAULT_RANGE = DateRange(date(1949, 10, 1), date(2199, 12, 31))
"""DOMAIN.md: dates and instants outside 1949-10-01 … 2199-12-31 are refused."""
WIDEST_RANGE = DateRange(_LOWEST, _HIGHEST)
"""The widest range the settings may name (the folds are tested over it too)."""

_active = [DEFAULT_RANGE]


def use_date_range(dates: DateRange) -> None:
    """Make ``dates`` the range every parser applies (the composition root calls this)."""
    _active[0] = dates


def date_range() -> DateRange:
    """The range in force."""
    return _active[0]


def add_days(day: date, days: int) -> date:
    """``day + days``, saturating at Python's date.min and date.max instead of raising.

    Folds compute ends and deadlines from admitted dates; within the accepted
    range this is plain addition, and the saturation only guarantees that no
    arithmetic on a date can raise ``OverflowError``.
    """
    ordinal = day.toordinal() + days
    if ordinal < 1:
        return date.min
    if ordinal > date.max.toordinal():
        return date.max
    return date.fromordinal(ordinal)
