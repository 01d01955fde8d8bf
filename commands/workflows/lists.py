"""Lists (名单), measures (惩戒措施) and bans (市场和行业禁入).

Rules (reason codes):

* ``credit.list.designated``: the proposal is not revoked (``target-revoked``),
  not yet designated (``out-of-order``), has no pending objection
  (``out-of-order``: it is decided first), and its notice and objection window
  is over: the designation's day (CST) must come after the n-th working day
  after the proposal's day, n = ``Procedures.list_notice`` (default 5 working
  days, commands/rules/procedures.json) — else ``designation-too-early`` with
  ``details.earliest``; ``calendar-unknown`` if that day cannot be computed.
  A designation naming no proposal is the structural ``unknown-reference`` /
  ``wrong-reference-type``.
* ``credit.list.removed``: an active designation (not removed, not revoked).
* ``credit.ban.lifted``: an active ban (not lifted, not revoked, and not ended
  by its ``until`` day before the lift).
* ``credit.measure.lifted``: an active measure (same).

Expiry (pure part of ``ledger tick``): an active designation whose proposal's
``planned_end`` is over is removed by the ledger (``SYSTEM_SOURCE``, reason
``expired``, id ``expiry-<designation id>``, valid from 00:00 CST of the day
after ``planned_end``, the last listed day, or from the designation's own time
when that is later).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from commands.calendar import CalendarUnknown
from commands.decide import SYSTEM_SOURCE, Context, referenced, rule
from commands.state import EventFacts, SubjectState
from commands.workflows.common import (
    cst_day,
    describe,
    effective_data,
    followers,
    issued_time,
    next_day,
    out_of_order,
    still_open,
)
from commands.workflows.objections import pending_objections
from events.envelope import Envelope, parse_event
from events.reasons import Reason, Rejection

__all__ = [
    "Expiry",
    "active_designations",
    "designation_earliest",
    "expired_designations",
    "removal_event",
]

DESIGNATED = "credit.list.designated"
REMOVED = "credit.list.removed"


def designation_earliest(
    state: SubjectState, proposal: EventFacts, context: Context
) -> date | None:
    """The first day a proposal may be designated (the day after its notice
    window closes), or None when no window is configured. Raises
    ``CalendarUnknown``."""
    if context.rules is None:
        return None
    notice = context.rules.procedures.list_notice
    if notice is None:
        return None
    closes = context.rules.calendar.add_working_days(cst_day(proposal.time_us), notice.working_days)
    return next_day(closes)


@rule(DESIGNATED)
def designates_a_proposal_once_after_its_notice(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """A proposal is designated once, after its notice window and objections."""
    proposal = referenced(state, event, "proposal")
    where = {"field": "data.proposal", "ref": proposal.id}
    rejection = still_open(
        state,
        event,
        "proposal",
        (DESIGNATED,),
        revoked="list: proposal '{ref}' was revoked; it can no longer be designated",
        revoked_reason=Reason.TARGET_REVOKED,
        closed="list: proposal '{ref}' was already designated by {by}",
        closed_key="designation",
    )
    if rejection is not None:
        return rejection
    pending = pending_objections(state, proposal.id)
    if pending:
        return out_of_order(
            f"list: an objection against proposal '{proposal.id}' is pending "
            f"({describe(pending[0])}); it is decided before the designation",
            **where,
            pending=pending[0].id,
        )
    try:
        earliest = designation_earliest(state, proposal, context)
    except CalendarUnknown as exc:
        return Rejection(
            Reason.CALENDAR_UNKNOWN,
            f"list: the notice window of proposal '{proposal.id}' cannot be computed: {exc}",
            {**where, "year": exc.year},
        )
    if earliest is not None and cst_day(event.time_us) < earliest:
        assert context.rules is not None and context.rules.procedures.list_notice is not None
        notice = context.rules.procedures.list_notice
        return Rejection(
            Reason.DESIGNATION_TOO_EARLY,
            f"list: the notice and objection window of proposal '{proposal.id}' "
            f"({notice.working_days} working days after {cst_day(proposal.time_us)}; "
            f"{notice.source}) is not over; it may be designated from {earliest.isoformat()}",
            {**where, "earliest": earliest.isoformat()},
        )
    return None


def _ended_before(state: SubjectState, applied: EventFacts, day: date) -> date | None:
    """The ``until`` day of a ban or measure if it is before ``day``, else None."""
    until = effective_data(state, applied.id).get("until")
    if isinstance(until, str) and date.fromisoformat(until) < day:
        return date.fromisoformat(until)
    return None


def _lifts_an_active(
    state: SubjectState, event: Envelope, field: str, lift_type: str, what: str
) -> Rejection | None:
    rejection = still_open(
        state,
        event,
        field,
        (lift_type,),
        revoked="{what}: '{ref}' was revoked; there is nothing to lift",
        closed="{what}: '{ref}' was already lifted by {by}",
        closed_key="lifted_by",
        what=what,
    )
    if rejection is not None:
        return rejection
    applied = referenced(state, event, field)
    where = {"field": f"data.{field}", "ref": applied.id}
    ended = _ended_before(state, applied, cst_day(event.time_us))
    if ended is not None:
        return out_of_order(
            f"{what}: '{applied.id}' ended by itself after its last day {ended.isoformat()}; "
            "there is nothing to lift",
            **where,
            until=ended.isoformat(),
        )
    return None


@rule("credit.ban.lifted")
def lifts_an_active_ban(state: SubjectState, event: Envelope, context: Context) -> Rejection | None:
    """Only an active ban can be lifted."""
    return _lifts_an_active(state, event, "ban", "credit.ban.lifted", "ban")


@rule("credit.measure.lifted")
def lifts_an_active_measure(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """Only an active measure can be lifted."""
    return _lifts_an_active(state, event, "application", "credit.measure.lifted", "measure")


@rule(REMOVED)
def removes_an_active_designation(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """Only an active designation can be removed."""
    return still_open(
        state,
        event,
        "designation",
        (REMOVED,),
        revoked="list: designation '{ref}' was revoked; there is nothing to remove",
        closed="list: designation '{ref}' was already removed by {by}",
        closed_key="removed_by",
    )


# -- expiry --------------------------------------------------------------------------------


def active_designations(state: SubjectState) -> list[EventFacts]:
    """Live designations not yet removed, in stream order."""
    return [
        f
        for f in sorted(state.events.values(), key=lambda f: f.seq)
        if f.type == DESIGNATED
        and f.id not in state.revoked
        and not followers(state, f.id, REMOVED)
    ]


@dataclass(frozen=True, slots=True)
class Expiry:
    """An active designation whose planned end (its last listed day) is over;
    ``designated_us`` is the designation's valid time (the removal is not dated
    before it)."""

    subject: str
    designation: str
    list: str
    planned_end: date
    designated_us: int = 0


def expired_designations(state: SubjectState, today: date) -> list[Expiry]:
    """The active designations whose proposal's ``planned_end`` is before
    ``today`` (a day in China Standard Time)."""
    found = []
    for designation in active_designations(state):
        proposal = effective_data(state, designation.data["proposal"])
        raw = proposal.get("planned_end")
        if not isinstance(raw, str):
            continue
        planned_end = date.fromisoformat(raw)
        if planned_end < today:
            found.append(
                Expiry(
                    state.subject,
                    designation.id,
                    str(proposal.get("list")),
                    planned_end,
                    designation.time_us,
                )
            )
    return found


def removal_event(expiry: Expiry, source: str = SYSTEM_SOURCE) -> Envelope:
    """The ``credit.list.removed`` (reason ``expired``) the ledger issues:
    id ``expiry-<designation>``, valid from 00:00 CST the day after the planned end,
    or from the designation's own time when that is later (a planned end already
    over when it was designated)."""
    return parse_event(
        {
            "specversion": "1.0",
            "id": f"expiry-{expiry.designation}",
            "source": source,
            "type": REMOVED,
            "subject": expiry.subject,
            "time": issued_time(next_day(expiry.planned_end), expiry.designated_us),
            "data": {
                "designation": expiry.designation,
                "reason": "expired",
                "planned_end": expiry.planned_end.isoformat(),
                "list": expiry.list,
            },
        }
    )
