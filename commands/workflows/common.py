"""What the workflow rules share: days in China Standard Time, the live events
that follow a record, a record's data after its corrections, the region of a
subject code, the "is this step still open" check of every lifecycle, and the
valid time of an event the ledger issues for a deadline.

Everything here is pure and reads only the :class:`~commands.state.SubjectState`.
"Live" means not revoked by a ``credit.record.revoked`` (a revoked event was
wrong from the start: it never happened).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from commands.state import EventFacts, SubjectState
from events.envelope import Envelope
from events.instants import CST, from_us, to_us
from events.reasons import Reason, Rejection
from events.rfc3339 import format_time_us

__all__ = [
    "cst_day",
    "day_start_us",
    "effective_data",
    "followers",
    "is_live",
    "issued_time",
    "out_of_order",
    "region_of",
    "rfc3339_day_start",
    "still_open",
]

REGIONS: dict[str, str] = {"31": "shanghai", "33": "zhejiang", "36": "jiangxi"}
"""Province (code positions 3–4 of the region, GB/T 2260) → objection profile."""


def cst_day(us: int) -> date:
    """The calendar day in China Standard Time of an instant (microseconds UTC)."""
    return from_us(us).astimezone(CST).date()


def day_start_us(day: date) -> int:
    """00:00 China Standard Time of ``day``, in microseconds UTC."""
    return to_us(datetime.combine(day, time(0), tzinfo=CST))


def rfc3339_day_start(day: date) -> str:
    """``YYYY-MM-DDT00:00:00+08:00``: the start of ``day`` in China Standard Time."""
    return f"{day.isoformat()}T00:00:00+08:00"


def next_day(day: date) -> date:
    return day + timedelta(days=1)


def issued_time(day: date, not_before_us: int) -> str:
    """The ``time`` of an event the ledger issues from 00:00 CST of ``day`` (a
    breach after a deadline, an expiry after a planned end): that instant, or
    ``not_before_us`` — the valid time of the record the event refers to — when
    that is later, since nothing may refer to a record dated after it
    (``reference-dated-later``). The later case only arises when the deadline
    was already over when the record was made (a ``due`` or ``planned_end``
    before the record's own day)."""
    if day_start_us(day) >= not_before_us:
        return rfc3339_day_start(day)
    return format_time_us(not_before_us)


def is_live(state: SubjectState, event_id: str) -> bool:
    """Whether the event is in the stream and not revoked."""
    return event_id in state.events and event_id not in state.revoked


def followers(state: SubjectState, target: str, *types: str) -> list[EventFacts]:
    """The live events of the given types whose reference fields name ``target``,
    in stream order."""
    found: list[EventFacts] = []
    for event_id in state.referenced_by.get(target, ()):
        facts = state.events.get(event_id)
        if facts is None or facts.type not in types or event_id in state.revoked:
            continue
        if facts.id != event_id:  # pragma: no cover - an ambiguous id was reused
            continue
        found.append(facts)
    found.sort(key=lambda f: f.seq)
    return found


def effective_data(state: SubjectState, event_id: str) -> dict[str, Any]:
    """The event's ``data`` with the ``changes`` of its live corrections applied,
    earlier corrections first (a correction applies from the record's own time)."""
    data = dict(state.events[event_id].data)
    for correction in followers(state, event_id, "credit.record.corrected"):
        if correction.data.get("target") == event_id:
            changes = correction.data.get("changes")
            if isinstance(changes, dict):
                data.update(changes)
    return data


def out_of_order(message: str, **details: Any) -> Rejection:
    """An ``out-of-order`` rejection: the lifecycle step does not follow from the state."""
    return Rejection(Reason.OUT_OF_ORDER, message, details)


def still_open(
    state: SubjectState,
    event: Envelope,
    field: str,
    closers: tuple[str, ...],
    *,
    closed: str,
    closed_key: str,
    revoked: str | None,
    revoked_reason: Reason = Reason.OUT_OF_ORDER,
    **words: str,
) -> Rejection | None:
    """The check every lifecycle step makes of the step it follows: the record
    ``event.data[field]`` names is still open.

    * It must not be revoked (``credit.record.revoked``: it never happened) —
      else ``revoked_reason`` (``out-of-order`` unless given) with the message
      ``revoked``; ``revoked=None`` skips this check.
    * No live event of a ``closers`` type may name it yet (it was already
      resolved, decided, fulfilled, lifted …) — else ``out-of-order`` with the
      message ``closed`` and ``details[closed_key]`` = the id of the first closer
      in stream order.

    Details always carry ``field`` (``data.<field>``) and ``ref`` (the named id).
    Messages are ``str.format`` templates over ``ref``, ``action`` (this event's
    action, e.g. ``fulfilled``), ``by`` (the first closer, described),
    ``closer`` (its action) and ``outcome`` (its ``data.outcome``), plus
    ``words``. The structural checks (``commands.decide``) have resolved the
    reference already, so it names an event of the right type.
    """
    ref = event.data[field]
    where: dict[str, Any] = {"field": f"data.{field}", "ref": ref}
    action = event.type.rsplit(".", 1)[1]
    if revoked is not None and ref in state.revoked:
        return Rejection(revoked_reason, revoked.format(ref=ref, action=action, **words), where)
    done = followers(state, ref, *closers)
    if not done:
        return None
    first = done[0]
    message = closed.format(
        ref=ref,
        action=action,
        by=describe(first),
        closer=first.type.rsplit(".", 1)[1],
        outcome=first.data.get("outcome"),
        **words,
    )
    return out_of_order(message, **where, **{closed_key: first.id})


def region_of(subject: str) -> str:
    """The objection profile of a subject code: positions 3–8 are its region
    (GB/T 2260); 31… Shanghai, 33… Zhejiang, 36… Jiangxi, anything else the
    ``default`` profile."""
    return REGIONS.get(subject[2:4], "default")


def describe(facts: EventFacts) -> str:
    """``'<id>' (<type> of <day>)`` for messages."""
    return f"'{facts.id}' ({facts.type} of {cst_day(facts.time_us).isoformat()})"
