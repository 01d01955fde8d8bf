"""The course of a subject's standing: its score and grade at the end of each of a
set of days, as the ledger knows it now (the auditor's timeline draws it).

One standing per day, each read from the same records (no store access here); the
caller picks the days (those of the subject's records and of the ends of its periods,
where the score can change).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from commands.services import RuleServices
from events.instants import end_of_day_us
from events.recorded import RecordedEvent
from projections.standing import standing

__all__ = ["CoursePoint", "score_course"]


@dataclass(frozen=True, slots=True)
class CoursePoint:
    """The standing at the end of ``day``."""

    day: date
    score: int
    grade: str


def score_course(
    subject: str, records: Sequence[RecordedEvent], days: Iterable[date], rules: RuleServices
) -> list[CoursePoint]:
    """The score and grade of ``subject`` at the end of each of ``days`` (sorted, once
    each), from ``records`` (its stream, seq order) as recorded now."""
    points = []
    for day in sorted(set(days)):
        found = standing(subject, records, end_of_day_us(day), None, rules)
        points.append(CoursePoint(day, found.score, found.grade))
    return points
