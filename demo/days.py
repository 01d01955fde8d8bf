"""The demo's clock: its "now", its first day, the working days of its years (asked of
the rule services' working calendar) and the instants events carry (China Standard
Time)."""

from __future__ import annotations

import bisect
from datetime import date, datetime, timedelta

from commands.calendar import WorkingCalendar
from events.instants import CST, to_us

DEMO_NOW = datetime(2026, 11, 20, 18, 0, tzinfo=CST)
"""The demo's "now": no event's time or recorded time is later."""
DEMO_START = date(2023, 5, 1)
"""The first day of the demo (Order 58 in force)."""

_NOW_US = to_us(DEMO_NOW)
_US = 1_000_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_CST_OFFSET_S = 8 * 3600


# -- calendar and instants -----------------------------------------------------------


class WorkingDays:
    """The working days of the demo's years (2023–2026) as the rule services' calendar
    states them (:class:`commands.calendar.WorkingCalendar`: the official calendar),
    held as sorted ordinals so a story can draw a random working day quickly.

    Built once per :func:`demo.generate` from ``rules.calendar``; the stories never
    read ``chinese_calendar`` themselves.
    """

    def __init__(self, calendar: WorkingCalendar) -> None:
        day = date(2023, 1, 1)
        out: list[int] = []
        while day.year <= 2026:
            if calendar.is_working_day(day):
                out.append(day.toordinal())
            day += timedelta(days=1)
        self.ordinals: tuple[int, ...] = tuple(out)
        """Ordinals of the working days of 2023–2026, ascending."""

    def add(self, day: date, n: int) -> date:
        """The n-th working day after ``day`` (n ≥ 1; the start day is not counted).

        Past the end of the known years it continues on calendar days (the demo never
        uses such a day: it ends on 2026-11-20, so an event on it is never emitted).
        """
        days = self.ordinals
        i = bisect.bisect_right(days, day.toordinal()) + n - 1
        if i < len(days):
            return date.fromordinal(days[i])
        return date.fromordinal(days[-1]) + timedelta(days=i - len(days) + 1)


def _us_at(day: date, seconds: int) -> int:
    """Microseconds UTC of ``seconds`` after midnight CST of ``day``."""
    return ((day.toordinal() - _EPOCH_ORDINAL) * 86_400 + seconds - _CST_OFFSET_S) * _US


def _day_of(us: int) -> date:
    """The CST calendar day of an instant."""
    return date.fromordinal(_EPOCH_ORDINAL + (us // _US + _CST_OFFSET_S) // 86_400)


def _rfc3339(us: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS+08:00`` of an instant (whole seconds)."""
    seconds = us // _US + _CST_OFFSET_S
    day = date.fromordinal(_EPOCH_ORDINAL + seconds // 86_400)
    s = seconds % 86_400
    return f"{day.isoformat()}T{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}+08:00"


def _add_months(day: date, months: int) -> date:
    """The same day ``months`` later (clamped to the month's last day)."""
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _money(cents: int) -> str:
    """Yuan as a decimal string with two decimals, e.g. ``"3000.00"``."""
    return f"{cents // 100}.{cents % 100:02d}"
