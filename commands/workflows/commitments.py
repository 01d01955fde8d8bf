"""Credit commitments (信用承诺) and conditional acceptance (容缺受理).

Rule: ``credit.commitment.fulfilled`` / ``.withdrawn`` / ``.breached`` only for
an open commitment — made, not revoked, and not yet fulfilled, withdrawn or
breached (``out-of-order`` otherwise).

Deadline (pure part of ``ledger tick``): a conditional acceptance carries
``due``, the date the missing materials are due. Interpretation of "the due
date passed": ``due`` is the last day (China Standard Time) to hand them in; a
``due`` that is not a working day moves to the next working day (DOMAIN.md,
"Working days": a deadline that falls on a holiday moves to the next working
day). The commitment is overdue once that day is over, and the ledger records
a ``credit.commitment.breached`` (kind ``unfulfilled``) issued by
``SYSTEM_SOURCE`` with the id ``breach-<commitment id>``, valid from 00:00 CST
of the day after the deadline — or from the commitment's own valid time when
that is later (a ``due`` already over when it was made), since no event may
refer to a record dated after it. Everything in it is derived from the stream,
so two runs produce the identical event and the second is a repeat. When the
calendar does not know the year, the commitment is reported, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from commands.calendar import CalendarUnknown, WorkingCalendar
from commands.decide import SYSTEM_SOURCE, Context, rule
from commands.state import SubjectState
from commands.workflows.common import (
    effective_data,
    followers,
    issued_time,
    next_day,
    still_open,
)
from events.envelope import Envelope, parse_event
from events.reasons import Rejection

__all__ = [
    "BREACH_BASIS",
    "Overdue",
    "breach_event",
    "commitment_deadline",
    "open_commitments",
    "overdue_commitments",
]

MADE = "credit.commitment.made"
ENDS = ("credit.commitment.fulfilled", "credit.commitment.withdrawn", "credit.commitment.breached")
BREACH_BASIS = (
    "《国务院办公厅关于加快推进社会信用体系建设构建以信用为基础的新型监管机制的指导意见》"
    "（国办发〔2019〕35号）第二条第（一）项：书面承诺在规定期限内提供材料"
)


@rule(*ENDS)
def only_an_open_commitment(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """A commitment ends once: fulfilled, withdrawn or breached."""
    return still_open(
        state,
        event,
        "commitment",
        ENDS,
        revoked="commitment: '{ref}' was revoked (credit.record.revoked); it was never "
        "made and cannot be {action}",
        closed="commitment: '{ref}' is no longer open — it was {closer} by {by}; only an "
        "open commitment can be {action}",
        closed_key="ended_by",
    )


def open_commitments(state: SubjectState) -> list[str]:
    """Ids of the live commitments not yet fulfilled, withdrawn or breached."""
    return [
        f.id
        for f in sorted(state.events.values(), key=lambda f: f.seq)
        if f.type == MADE and f.id not in state.revoked and not followers(state, f.id, *ENDS)
    ]


def commitment_deadline(due: date, calendar: WorkingCalendar) -> date:
    """The last day to fulfil a conditional acceptance due on ``due``: ``due``
    itself if it is a working day, else the next working day. Raises
    ``CalendarUnknown`` for a year whose calendar is not loaded."""
    if calendar.is_working_day(due):
        return due
    return calendar.add_working_days(due, 1)


@dataclass(frozen=True, slots=True)
class Overdue:
    """An open conditional acceptance whose deadline is over (``deadline`` set),
    or one the calendar cannot tell about (``unknown`` is the reason).
    ``made_us`` is the commitment's valid time (the breach is not dated before it)."""

    subject: str
    commitment: str
    agency: str
    due: date
    deadline: date | None = None
    unknown: str | None = None
    made_us: int = 0


def overdue_commitments(
    state: SubjectState, today: date, calendar: WorkingCalendar
) -> list[Overdue]:
    """The open commitments with a ``due`` date whose deadline ended before
    ``today`` (a day in China Standard Time), plus those whose deadline cannot be
    computed yet (``unknown``) although ``due`` is before ``today``."""
    found: list[Overdue] = []
    for commitment in open_commitments(state):
        raw = effective_data(state, commitment).get("due")
        if not isinstance(raw, str):
            continue
        due = date.fromisoformat(raw)
        if due >= today:
            continue
        facts = state.events[commitment]
        try:
            deadline = commitment_deadline(due, calendar)
        except CalendarUnknown as exc:
            found.append(
                Overdue(
                    state.subject,
                    commitment,
                    facts.source,
                    due,
                    unknown=str(exc),
                    made_us=facts.time_us,
                )
            )
            continue
        if deadline < today:
            found.append(
                Overdue(
                    state.subject, commitment, facts.source, due, deadline, made_us=facts.time_us
                )
            )
    return found


def breach_event(overdue: Overdue, source: str = SYSTEM_SOURCE) -> Envelope:
    """The ``credit.commitment.breached`` the ledger issues for an overdue
    conditional acceptance: id ``breach-<commitment>``, valid from 00:00 CST the
    day after the deadline (or from the commitment's own time when that is
    later: a ``due`` already over when it was made); ``data.agency`` names the
    agency that accepted it (the finding's agency for interviews and
    rectification)."""
    if overdue.deadline is None:
        raise ValueError("the deadline of this commitment is unknown; no breach is issued")
    return parse_event(
        {
            "specversion": "1.0",
            "id": f"breach-{overdue.commitment}",
            "source": source,
            "type": "credit.commitment.breached",
            "subject": overdue.subject,
            "time": issued_time(next_day(overdue.deadline), overdue.made_us),
            "data": {
                "commitment": overdue.commitment,
                "kind": "unfulfilled",
                "agency": overdue.agency,
                "due": overdue.due.isoformat(),
                "deadline": overdue.deadline.isoformat(),
                "basis": BREACH_BASIS,
                "reason": (
                    f"容缺受理所缺材料未在承诺期限（{overdue.deadline.isoformat()}）内补齐 / "
                    "missing materials not supplied by the conditional-acceptance deadline"
                ),
            },
        }
    )
