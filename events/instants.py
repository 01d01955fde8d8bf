"""Instants in queries: ``as_of`` and ``known_at`` (DESIGN.md "Two clocks").

An RFC 3339 date-time, or a date ``YYYY-MM-DD`` meaning the END of that day in
China Standard Time (UTC+8), i.e. the last microsecond of it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from events.dates import date_range
from events.reasons import Reason

CST = timezone(timedelta(hours=8), "CST")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InvalidInstant(ValueError):
    """The text is neither an RFC 3339 date-time with offset nor a YYYY-MM-DD date
    (``reason`` ``INVALID_INSTANT``), or it names an instant outside the accepted
    range (``reason`` ``DATE_OUT_OF_RANGE``, :mod:`events.dates`)."""

    def __init__(self, message: str, reason: Reason = Reason.INVALID_INSTANT) -> None:
        super().__init__(message)
        self.reason = reason


def to_us(moment: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    """The aware UTC datetime of microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=us)


def end_of_day_us(day: date) -> int:
    """The last microsecond of ``day`` in China Standard Time."""
    start_next = datetime(day.year, day.month, day.day, tzinfo=CST) + timedelta(days=1)
    return to_us(start_next) - 1


def parse_instant(text: str) -> int:
    """Microseconds UTC of a query instant (see module docstring).

    Raises :class:`InvalidInstant` for text that is not an instant, or one outside
    :func:`events.dates.date_range`; the message starts with the text itself, the
    caller prefixes the parameter's name.
    """
    text = text.strip()
    dates = date_range()
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError as e:
            raise InvalidInstant(f"{text!r} is not a date YYYY-MM-DD") from e
        if not dates.contains_day(day):
            raise _out_of_range(text)
        return end_of_day_us(day)
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError as e:
        raise InvalidInstant(
            f"{text!r} is not an RFC 3339 date-time (e.g. 2025-03-01T12:00:00+08:00) "
            "nor a date (2025-03-01 = end of that day, China Standard Time)"
        ) from e
    if moment.tzinfo is None:
        raise InvalidInstant(f"{text!r} has no UTC offset; add Z or +08:00")
    try:
        us = to_us(moment)
    except OverflowError:  # beyond year 1 or 9999 once the offset is applied
        raise _out_of_range(text) from None
    if not dates.contains_us(us):
        raise _out_of_range(text)
    return us


def _out_of_range(text: str) -> InvalidInstant:
    return InvalidInstant(date_range().outside(text), Reason.DATE_OUT_OF_RANGE)


def cst_text(us: int) -> str:
    """``YYYY-MM-DD HH:MM`` in China Standard Time, for people."""
    return from_us(us).astimezone(CST).strftime("%Y-%m-%d %H:%M")
