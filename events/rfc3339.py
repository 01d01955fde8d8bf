"""RFC 3339 timestamps: parse with an offset, normalise to UTC microseconds.

The ledger's canonical form of an instant is ``YYYY-MM-DDTHH:MM:SSZ``, or
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (exactly 6 digits) when the microseconds are
non-zero, together with the integer microseconds since 1970-01-01T00:00:00Z.
"""

from __future__ import annotations

import re
from datetime import date

from events.dates import date_range
from events.reasons import InvalidEvent, Reason

__all__ = ["MAX_TIME_US", "format_time_us", "parse_time"]

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY_US = 86_400_000_000
MAX_TIME_US = (date(9999, 12, 31).toordinal() - _EPOCH_ORDINAL + 1) * _DAY_US - 1
"""9999-12-31T23:59:59.999999Z in microseconds since the epoch."""

_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))\Z"
)
_BARE_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_NAIVE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?\Z"
)
_EXAMPLE = "e.g. 2025-03-01T09:30:00+08:00 or 2025-03-01T01:30:00Z"
_MEMO_LIMIT = 100_000
"""At most this many days are remembered by each memo below (the accepted range of
250 years has ~91,000; beyond the limit nothing more is remembered)."""
_ordinals: dict[str, int] = {}
"""``YYYY-MM-DD`` → its proleptic ordinal, for real dates already parsed."""
_iso_days: dict[int, str] = {}
"""Days since the epoch → ``YYYY-MM-DD``, for days already formatted."""
_TWO_DIGITS = [f"{n:02d}" for n in range(60)]
_HOURS_MINUTES = [f"{m // 60:02d}:{m % 60:02d}" for m in range(1440)]
"""Minutes of the day → ``HH:MM`` (formatting each instant's clock is the costly part)."""


def _invalid(value: str, why: str) -> InvalidEvent:
    shown = value if len(value) <= 64 else value[:61] + "..."
    return InvalidEvent(Reason.INVALID_TIME, f"time {shown!r} {why}", attribute="time")


def parse_time(value: str) -> tuple[str, int]:
    """Parse an RFC 3339 date-time with an offset; return (normalised, microseconds).

    Requires ``Z`` or ``±hh:mm``; naive date-times and bare dates are refused
    with a message saying what is expected. Fractions beyond microseconds are
    truncated (not rounded). Leap seconds (``:60``) are refused. Raises
    ``InvalidEvent(INVALID_TIME)``, or ``InvalidEvent(DATE_OUT_OF_RANGE)`` for an
    instant outside :func:`events.dates.date_range` (before 1970 it is negative).
    """
    m = _RFC3339.match(value)
    if m is None:
        if _BARE_DATE.match(value):
            raise _invalid(
                value,
                f"is a bare date; time must be an RFC 3339 date-time with an offset, {_EXAMPLE}",
            )
        if _NAIVE.match(value):
            raise _invalid(
                value,
                "has no UTC offset; time must be an RFC 3339 date-time with 'Z' or ±hh:mm "
                f"(China Standard Time is +08:00), {_EXAMPLE}",
            )
        if " " in value and _RFC3339.match(value.replace(" ", "T", 1)):
            raise _invalid(value, f"separates date and time with a space; use 'T', {_EXAMPLE}")
        raise _invalid(value, f"is not an RFC 3339 date-time with an offset, {_EXAMPLE}")
    year, month, day, hour, minute, second, frac, sign, off_h, off_m = m.groups()
    ordinal = _ordinals.get(value[:10])  # the match starts with exactly YYYY-MM-DD
    if ordinal is None:
        try:
            ordinal = date(int(year), int(month), int(day)).toordinal()
        except ValueError:
            raise _invalid(value, "is not a real date") from None
        if len(_ordinals) < _MEMO_LIMIT:
            _ordinals[value[:10]] = ordinal
    h, mi, s = int(hour), int(minute), int(second)
    if s == 60:
        raise _invalid(value, "is a leap second, which the ledger cannot represent")
    if h > 23 or mi > 59 or s > 59:
        raise _invalid(value, "is not a real time of day")
    offset = 0
    if sign is not None:
        oh, om = int(off_h), int(off_m)
        if oh > 23 or om > 59:
            raise _invalid(value, "has an impossible UTC offset")
        offset = (oh * 60 + om) * 60 * (1 if sign == "+" else -1)
    micros = int(frac[:6].ljust(6, "0")) if frac else 0
    seconds = (ordinal - _EPOCH_ORDINAL) * 86_400 + h * 3_600 + mi * 60 + s - offset
    us = seconds * 1_000_000 + micros
    date_range().check_us("time", us, value)
    return format_time_us(us), us


def format_time_us(us: int) -> str:
    """The canonical UTC form of ``us`` microseconds since the epoch (years 1–9999)."""
    days, rest = divmod(us, _DAY_US)
    seconds, micros = divmod(rest, 1_000_000)
    minutes, s = divmod(seconds, 60)
    day = _iso_days.get(days)
    if day is None:
        day = date.fromordinal(days + _EPOCH_ORDINAL).isoformat()
        if len(_iso_days) < _MEMO_LIMIT:
            _iso_days[days] = day
    if micros:
        return f"{day}T{_HOURS_MINUTES[minutes]}:{_TWO_DIGITS[s]}.{micros:06d}Z"
    return f"{day}T{_HOURS_MINUTES[minutes]}:{_TWO_DIGITS[s]}Z"
