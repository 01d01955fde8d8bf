"""Calendar-month arithmetic and the spans of time the credit rules give.

A disclosure rule set (:mod:`commands.rulesets`) says how long a record is public
(`DisclosurePeriod`, adjusted per sector by a `PeriodOverride`), how long a notice
stays up (`NoticePeriod`) and how fast an act must be published or withdrawn
(`Deadline`, in working days); the procedures (:mod:`commands.procedures`) give the
list notice window as a `Deadline` too. Every period in months is counted with
`add_months`; deadlines in working days are counted by :mod:`commands.calendar`.

All values are frozen and pure: nothing here reads a clock or a file. `DeadlineEntry`
is how a deadline is written in the rules files (``{"working_days": 7, "source": …}``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from pydantic import Field

from commands.parsing import Strict, Text

__all__ = [
    "Deadline",
    "DeadlineEntry",
    "DisclosurePeriod",
    "NoticePeriod",
    "PeriodOverride",
    "add_months",
]


def add_months(d: date, months: int) -> date:
    """`d` plus `months` calendar months (negative allowed), clamped to the month's end.

    2026-01-31 + 1 → 2026-02-28; 2024-01-31 + 1 → 2024-02-29; 2026-03-31 − 1 →
    2026-02-28. Raises `ValueError` if the result is outside the years 1–9999.
    """
    if isinstance(months, bool) or not isinstance(months, int):
        raise TypeError(f"months must be an integer, not {months!r}")
    total = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(total, 12)
    month = month0 + 1
    if not 1 <= year <= 9999:
        raise ValueError(f"{d.isoformat()} + {months} months is outside the years 1–9999")
    last = 31 if month == 12 else (date(year, month + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(d.day, last))


@dataclass(frozen=True)
class DisclosurePeriod:
    """How a record is disclosed under one rule set.

    `publish` false means the record is normally not published at all (minor
    penalties from 2026-04-01); `max_months` then bounds an exceptional
    publication. Repair may be requested once `min_months` have passed since the
    decision; disclosure stops by itself after `max_months`.
    """

    publish: bool
    min_months: int
    max_months: int
    rule_set: str
    """The id of the rule set this comes from, e.g. "ndrc-order-36"."""
    rule_title: str
    """The rule set's title for people ("中文 / English")."""

    def repair_from(self, decided: date) -> date:
        """The first day repair may be requested for a record decided on `decided`."""
        return add_months(decided, self.min_months)

    def ends_by(self, decided: date) -> date:
        """The day disclosure ends by itself (the maximum period is over)."""
        return add_months(decided, self.max_months)


@dataclass(frozen=True)
class PeriodOverride:
    """A partial period for a sector: the fields that are not None replace the base."""

    publish: bool | None = None
    min_months: int | None = None
    max_months: int | None = None

    def apply(self, base: DisclosurePeriod) -> DisclosurePeriod:
        return replace(
            base,
            publish=base.publish if self.publish is None else self.publish,
            min_months=base.min_months if self.min_months is None else self.min_months,
            max_months=base.max_months if self.max_months is None else self.max_months,
        )


@dataclass(frozen=True)
class Deadline:
    """A deadline in working days (the start day not counted) and its legal source."""

    working_days: int
    source: str


@dataclass(frozen=True)
class NoticePeriod:
    """A period in months during which a notice stays public, and its source."""

    months: int
    source: str


class DeadlineEntry(Strict):
    """A deadline as the rules files write it: ``working_days`` (at least 1) and its
    legal ``source``."""

    working_days: int = Field(ge=1)
    source: Text

    def deadline(self) -> Deadline:
        """The domain value."""
        return Deadline(self.working_days, self.source)
