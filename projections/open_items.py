"""What is open about a subject at an instant: commitments (信用承诺) not yet
fulfilled, breached or withdrawn; rectification orders not yet completed (or whose
penalty was withdrawn); objections filed and not yet resolved, with their
deadlines in working days (the objection profile of the subject's region).

:func:`open_items` lists commitments or rectification orders with the instants
they close and fall due, once per timeline (memoised); :func:`open_at` reads them
at an instant. Each reader adds the calendar instants at which its answer changes
to a :class:`projections.intervals.NextChange`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from commands.calendar import CalendarUnknown
from commands.services import RuleServices
from projections.intervals import NextChange
from projections.lifecycles import day_text
from projections.timeline import Entry, Timeline, day_after_start_us, parse_day

__all__ = ["OpenItem", "objection_json", "open_at", "open_items", "pending_objections"]


def pending_objections(timeline: Timeline, as_of_us: int) -> list[Entry]:
    """The objections filed and in effect at ``as_of_us`` not resolved by then
    (revoked ones left out), in seq order."""
    pending = []
    for objection in timeline.of_type("credit.objection.filed"):
        if objection.revoked_by is not None or objection.effective_us > as_of_us:
            continue
        if objection.referring("credit.objection.resolved", "objection", as_of_us):
            continue
        pending.append(objection)
    return pending


_COMMITMENT_ENDS = (
    "credit.commitment.fulfilled",
    "credit.commitment.breached",
    "credit.commitment.withdrawn",
)


@dataclass(frozen=True, slots=True)
class OpenItem:
    """A commitment or rectification order, with when it stops being open.

    ``entry`` is None for an item read back from a read snapshot
    (``projections.read_snapshot``), which keeps ``effective_us`` and the rest."""

    entry: Entry | None
    effective_us: int
    """When the order or commitment takes effect (its entry's)."""
    closed_us: int | None
    """When a closing record takes effect (None: never, as known)."""
    due_end_us: int | None
    """The first instant it is overdue (None: no due date)."""
    body: dict[str, Any]


def open_items(timeline: Timeline, kind: str) -> list[OpenItem]:
    """Commitments or rectification orders with their closing instants (memoised)."""
    memo_key = ("open", kind)
    found = timeline.memo.get(memo_key)
    if found is not None:
        return list(found)
    out: list[OpenItem] = []
    if kind == "commitments":
        for entry in timeline.of_type("credit.commitment.made"):
            if entry.revoked_by is not None:
                continue
            closers = [
                c.effective_us for t in _COMMITMENT_ENDS for c in entry.referring(t, "commitment")
            ]
            due = parse_day(entry.data.get("due"))
            out.append(
                OpenItem(
                    entry,
                    entry.effective_us,
                    min(closers) if closers else None,
                    None if due is None else day_after_start_us(due),
                    {
                        "event_id": entry.id,
                        "commitment_type": entry.data.get("commitment_type"),
                        "matter": entry.data.get("matter"),
                        "made": day_text(entry.time_us),
                        "due": entry.data.get("due"),
                    },
                )
            )
    else:
        for entry in timeline.of_type("credit.rectification.ordered"):
            if entry.revoked_by is not None:
                continue
            finding = entry.refs.get("finding")
            if finding is not None and finding.revoked_by is not None:
                continue
            closers = [
                c.effective_us
                for c in entry.referring("credit.rectification.completed", "rectification")
            ]
            if finding is not None:
                closers += [
                    w.effective_us for w in finding.referring("credit.penalty.withdrawn", "penalty")
                ]
            deadline = parse_day(entry.data.get("deadline"))
            out.append(
                OpenItem(
                    entry,
                    entry.effective_us,
                    min(closers) if closers else None,
                    None if deadline is None else day_after_start_us(deadline),
                    {
                        "event_id": entry.id,
                        "finding": entry.data.get("finding"),
                        "ordered": day_text(entry.time_us),
                        "deadline": entry.data.get("deadline"),
                        "agency": entry.source,
                    },
                )
            )
    timeline.memo[memo_key] = tuple(out)
    return out


def open_at(
    timeline: Timeline, kind: str, as_of_us: int, edges: NextChange
) -> list[dict[str, Any]]:
    """The commitments or rectification orders open at ``as_of_us``, each with
    ``overdue``."""
    out = []
    for item in open_items(timeline, kind):
        if item.effective_us > as_of_us:
            continue
        if item.closed_us is not None and item.closed_us <= as_of_us:
            continue
        edges.add(item.due_end_us)
        body = dict(item.body)
        body["overdue"] = item.due_end_us is not None and as_of_us >= item.due_end_us
        out.append(body)
    return out


def objection_json(
    objection: Entry,
    region: str,
    rules: RuleServices,
    as_of_us: int,
    edges: NextChange,
) -> dict[str, Any]:
    """A pending objection with its flag and decision deadlines (working days of
    the ``region``'s objection profile; null with ``deadline_note`` when the
    calendar does not cover them) and whether it is overdue at ``as_of_us``."""
    profile = rules.procedures.objection_profile(region)
    filed = objection.day
    target = objection.refs.get("target")
    flag_by: date | None = None
    decide_by: date | None = None
    note: str | None = None
    try:
        flag_by = rules.calendar.add_working_days(filed, profile.flag_working_days)
        decide_by = rules.calendar.add_working_days(filed, profile.decide_working_days)
    except CalendarUnknown as exc:
        note = str(exc)
    edges.add_day_end(decide_by)
    return {
        "event_id": objection.id,
        "target": objection.data.get("target"),
        "target_type": target.type if target is not None else None,
        "grounds": objection.data.get("grounds"),
        "filed": filed.isoformat(),
        "region": region,
        "flag_by": flag_by.isoformat() if flag_by else None,
        "decide_by": decide_by.isoformat() if decide_by else None,
        "overdue": decide_by is not None and as_of_us >= day_after_start_us(decide_by),
        "extensions_allowed": profile.extensions_allowed,
        "deadline_note": note,
        "rule": profile.source,
    }
