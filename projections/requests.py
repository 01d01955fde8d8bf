"""A subject's requests — objections (异议) and repair requests (信用修复) — and how far
each has come: 受理 (accepted, the filing is recorded), 核实 (under verification),
决定 (decided), with the deadlines the region's procedures set.

A fold on demand (LIVE) over the decision state of one stream
(:class:`commands.state.SubjectState`): the stages and deadlines come from the
same functions the rules and the overdue report use
(:func:`commands.workflows.objections.objection_status`,
:func:`~commands.workflows.objections.objection_deadlines`), never computed again
here. A repair decision has no deadline in the rule sets: its ``decide_by`` is null
with a ``deadline_note`` saying so. A deadline in a year whose official calendar is
not loaded is null with the calendar's reason (never guessed).

Each request (``to_json`` shape)::

    {"kind": "objection" | "repair", "id", "seq", "filed" (YYYY-MM-DD), "by" (source),
     "target", "target_type", "grounds" | "methods",
     "stage": "verifying" | "decided" | "withdrawn",
     "outcome": "upheld" | "rejected" | "approved" | "awaiting-correction" | null,
     "decided" (date or null), "decision" (event id or null), "reasons",
     "flag_by", "decide_by" (dates or null), "overdue" (bool), "deadline_note",
     "steps": [{"step": "accepted" | "verifying" | "decided", "done": bool,
                "on": date or null, "by": deadline or null}, …]}
"""

from __future__ import annotations

from datetime import date
from typing import Any

from commands.calendar import CalendarUnknown
from commands.services import RuleServices
from commands.state import EventFacts, SubjectState
from commands.workflows.common import cst_day, followers
from commands.workflows.objections import objection_deadlines, objection_status

__all__ = ["STEPS", "requests_of"]

OBJECTION = "credit.objection.filed"
REPAIR = "credit.repair.requested"
REPAIR_DECISIONS = ("credit.repair.approved", "credit.repair.rejected")

STEPS = ("accepted", "verifying", "decided")
"""The steps of a request, in order (受理, 核实, 决定)."""


def requests_of(state: SubjectState, rules: RuleServices, today: date) -> list[dict[str, Any]]:
    """Every objection and repair request of the subject, in stream order, with its
    stage on ``today`` (China Standard Time) and its deadlines (module docstring)."""
    found: list[dict[str, Any]] = []
    for facts in sorted(state.events.values(), key=lambda f: f.seq):
        if facts.type == OBJECTION:
            found.append(_objection(state, facts, rules, today))
        elif facts.type == REPAIR:
            found.append(_repair(state, facts))
    return found


def _base(state: SubjectState, facts: EventFacts, kind: str) -> dict[str, Any]:
    target = str(facts.data.get("target"))
    targeted = state.events.get(target)
    return {
        "kind": kind,
        "id": facts.id,
        "seq": facts.seq,
        "filed": cst_day(facts.time_us).isoformat(),
        "by": facts.source,
        "target": target,
        "target_type": targeted.type if targeted is not None else None,
    }


def _steps(
    filed: str, decided: str | None, flag_by: str | None, decide_by: str | None
) -> list[dict[str, Any]]:
    return [
        {"step": "accepted", "done": True, "on": filed, "by": None},
        {"step": "verifying", "done": decided is not None, "on": filed, "by": flag_by},
        {"step": "decided", "done": decided is not None, "on": decided, "by": decide_by},
    ]


def _objection(
    state: SubjectState, facts: EventFacts, rules: RuleServices, today: date
) -> dict[str, Any]:
    body = _base(state, facts, "objection")
    status = objection_status(state, facts.id)
    flag_by: date | None = None
    decide_by: date | None = None
    note: str | None = None
    try:
        flag_by, decide_by = objection_deadlines(state, facts.id, rules)
    except CalendarUnknown as e:
        note = str(e)
    resolution = state.events.get(status.resolution) if status.resolution else None
    decided = cst_day(resolution.time_us).isoformat() if resolution is not None else None
    stage = {"pending": "verifying", "withdrawn": "withdrawn"}.get(status.stage, "decided")
    body.update(
        grounds=facts.data.get("grounds"),
        stage=stage,
        outcome=None if stage != "decided" else status.stage,
        decided=decided,
        decision=status.resolution,
        correction=status.compensation,
        reasons=resolution.data.get("reasons") if resolution is not None else None,
        flag_by=flag_by.isoformat() if flag_by else None,
        decide_by=decide_by.isoformat() if decide_by else None,
        overdue=stage == "verifying" and decide_by is not None and today > decide_by,
        deadline_note=note,
        steps=_steps(
            body["filed"],
            decided,
            flag_by.isoformat() if flag_by else None,
            decide_by.isoformat() if decide_by else None,
        ),
    )
    return body


def _repair(state: SubjectState, facts: EventFacts) -> dict[str, Any]:
    body = _base(state, facts, "repair")
    decisions = [
        d for d in followers(state, facts.id, *REPAIR_DECISIONS) if d.data.get("request") == facts.id
    ]
    decision = decisions[0] if decisions else None
    withdrawn = facts.id in state.revoked
    decided = cst_day(decision.time_us).isoformat() if decision is not None else None
    stage = "withdrawn" if withdrawn else "decided" if decision is not None else "verifying"
    body.update(
        methods=list(facts.data.get("methods") or ()),
        stage=stage,
        outcome=decision.type.rsplit(".", 1)[1] if decision is not None else None,
        decided=decided,
        decision=decision.id if decision is not None else None,
        correction=None,
        reasons=decision.data.get("reasons") if decision is not None else None,
        flag_by=None,
        decide_by=None,
        overdue=False,
        deadline_note="the rule set names no deadline for a repair decision",
        steps=_steps(body["filed"], decided, None, None),
    )
    return body
