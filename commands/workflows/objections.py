"""Objections (异议): filed → under verification → upheld (record corrected or
revoked) or rejected (measures resume).

Rules (reason codes):

* ``credit.objection.filed``: one pending objection per record — a second one
  against the same target while the first is unresolved is ``out-of-order``.
* ``credit.objection.resolved``: only a filed, unresolved objection —
  ``out-of-order`` if the filing was revoked ("never filed") or it was already
  resolved. (A reference to no event at all is ``unknown-reference``, a
  reference to another type ``wrong-reference-type``: the structural checks.)
  An upheld resolution may carry the correction itself: ``data.changes`` (the
  corrected fields) or ``data.revoke: true``; the ledger then records the
  ``credit.record.corrected`` / ``credit.record.revoked`` with it (derived,
  same source and time, id ``<resolution id>/correction`` or
  ``/revocation``). Carrying either with ``outcome: rejected``, or both, is
  ``invalid-field``.
* Who may resolve, correct or revoke is the authority check
  (:mod:`commands.authority`, ``not-authorised``): an upheld objection no longer
  lets its handler correct or revoke what the responsible agency alone may.

Deadlines (flag within, decide within, in working days after the filing day)
come from ``Procedures`` per region; :func:`objection_deadlines` computes them
for projections and the overdue report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from commands.decide import Context, derives, referenced, rule
from commands.services import RuleServices
from commands.state import EventFacts, SubjectState
from commands.workflows.common import (
    cst_day,
    describe,
    followers,
    out_of_order,
    region_of,
    still_open,
)
from events.envelope import Envelope
from events.reasons import Reason, Rejection
from events.vocabulary import EVENT_TYPES

__all__ = [
    "ObjectionStatus",
    "objection_deadlines",
    "objection_region",
    "objection_status",
    "pending_objections",
]

FILED = "credit.objection.filed"
RESOLVED = "credit.objection.resolved"
COMPENSATING = ("credit.record.corrected", "credit.record.revoked")


def resolutions(state: SubjectState, objection_id: str) -> list[EventFacts]:
    """The live resolutions of an objection, in stream order (at most one once
    the rules are in force)."""
    return [
        r
        for r in followers(state, objection_id, RESOLVED)
        if r.data.get("objection") == objection_id
    ]


def pending_objections(state: SubjectState, target: str | None = None) -> list[EventFacts]:
    """Live, unresolved objections (of ``target`` only, if given), in stream order."""
    found = []
    for facts in state.events.values():
        if facts.type != FILED or facts.id in state.revoked:
            continue
        if target is not None and facts.data.get("target") != target:
            continue
        if not resolutions(state, facts.id):
            found.append(facts)
    found.sort(key=lambda f: f.seq)
    return found


@rule(FILED)
def one_pending_objection_per_record(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """An objection cannot be filed twice against a record while one is pending."""
    target = event.data["target"]
    pending = pending_objections(state, target)
    if pending:
        first = pending[0]
        return out_of_order(
            f"objection: '{target}' already has a pending objection, {describe(first)}; "
            "a record is verified once at a time — resolve that one first",
            field="data.target",
            pending=first.id,
        )
    return None


@rule(RESOLVED)
def resolves_a_filed_unresolved_objection(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """Only a filed (not revoked), unresolved objection can be resolved; what an
    upheld resolution carries must be one correction or one revocation."""
    rejection = still_open(
        state,
        event,
        "objection",
        (RESOLVED,),
        revoked="objection: '{ref}' was never filed (its filing was revoked by "
        "credit.record.revoked); there is nothing to resolve",
        closed="objection: '{ref}' was already resolved ({outcome}) by {by}",
        closed_key="resolution",
    )
    return rejection or _carried_correction_is_sound(state, event)


def _carried_correction_is_sound(state: SubjectState, event: Envelope) -> Rejection | None:
    changes = event.data.get("changes")
    revoke = event.data.get("revoke")
    if changes is None and not revoke:
        return None
    if event.data["outcome"] != "upheld":
        return Rejection(
            Reason.INVALID_FIELD,
            "objection: only an upheld resolution can carry a correction "
            "(data.changes) or a revocation (data.revoke); this one is rejected",
            {"field": "data.changes" if changes is not None else "data.revoke"},
        )
    if changes is not None and revoke:
        return Rejection(
            Reason.INVALID_FIELD,
            "objection: an upheld resolution carries either data.changes (a correction) "
            "or data.revoke (a revocation), not both",
            {"field": "data.revoke"},
        )
    filed = referenced(state, event, "objection")
    target = filed.data.get("target")
    if isinstance(target, str) and target in state.revoked:
        return out_of_order(
            f"objection: its target '{target}' is already revoked; "
            "the resolution cannot correct or revoke it again",
            field="data.objection",
            target=target,
        )
    return None


@derives(RESOLVED)
def carried_correction(
    state: SubjectState, event: Envelope, context: Context
) -> tuple[Envelope, ...]:
    """The ``credit.record.corrected`` / ``.revoked`` an upheld resolution carries."""
    changes = event.data.get("changes")
    revoke = event.data.get("revoke") is True
    if event.data["outcome"] != "upheld" or (changes is None and not revoke):
        return ()
    target = referenced(state, event, "objection").data["target"]
    link = {"objection": event.data["objection"], "resolution": event.id}
    data: dict[str, Any]
    if revoke:
        type_, suffix = "credit.record.revoked", "revocation"
        data = {"target": target, "reason": event.data["reasons"], **link}
    else:
        type_, suffix = "credit.record.corrected", "correction"
        data = {"target": target, "changes": changes, "reason": event.data["reasons"], **link}
    return (
        Envelope(
            id=f"{event.id}/{suffix}",
            source=event.source,
            type=type_,
            subject=event.subject,
            time=event.time,
            time_us=event.time_us,
            data=data,
            schema_version=EVENT_TYPES[type_].version,
        ),
    )


# -- deadlines and status (for projections and the overdue report) ----------------------


def objection_region(subject: str, rules: RuleServices) -> str:
    """The objection profile of a subject: its province's (Shanghai 31, Zhejiang 33,
    Jiangxi 36) when the procedures define it, else ``default``."""
    region = region_of(subject)
    return region if region in rules.procedures.regions() else "default"


def objection_deadlines(
    state: SubjectState, objection_id: str, rules: RuleServices
) -> tuple[date, date]:
    """``(flag_by, decide_by)``: the last days to flag the targeted record and to
    decide the objection — the n-th working days after the filing day (China
    Standard Time), n from the region's objection profile.

    Raises ``KeyError`` if ``objection_id`` is not in the stream, ``ValueError``
    if it is not an objection, and ``CalendarUnknown`` when a day falls in a year
    whose official calendar is not loaded (never guessed).
    """
    filed = state.events[objection_id]
    if filed.type != FILED:
        raise ValueError(f"'{objection_id}' is a {filed.type}, not {FILED}")
    flag_days, decide_days = rules.procedures.objection_deadlines(
        objection_region(state.subject, rules)
    )
    day = cst_day(filed.time_us)
    return (
        rules.calendar.add_working_days(day, flag_days),
        rules.calendar.add_working_days(day, decide_days),
    )


@dataclass(frozen=True, slots=True)
class ObjectionStatus:
    """Where an objection stands.

    ``stage`` is ``pending`` (under verification: the target's measures are
    suspended where the region says so), ``awaiting-correction`` (upheld, but no
    live correction or revocation of the target recorded after the filing yet),
    ``upheld`` (corrected or revoked: ``compensation`` names the event),
    ``rejected`` (measures resume), or ``withdrawn`` (the filing was revoked).
    """

    objection: str
    target: str
    stage: str
    resolution: str | None = None
    compensation: str | None = None


def objection_status(state: SubjectState, objection_id: str) -> ObjectionStatus:
    """The stage of one objection (see :class:`ObjectionStatus`); ``KeyError`` if unknown."""
    filed = state.events[objection_id]
    target = str(filed.data.get("target"))
    if objection_id in state.revoked:
        return ObjectionStatus(objection_id, target, "withdrawn")
    done = resolutions(state, objection_id)
    if not done:
        return ObjectionStatus(objection_id, target, "pending")
    resolution = done[0]
    if resolution.data.get("outcome") != "upheld":
        return ObjectionStatus(objection_id, target, "rejected", resolution.id)
    for facts in followers(state, target, *COMPENSATING):
        if facts.seq > filed.seq and facts.data.get("target") == target:
            return ObjectionStatus(objection_id, target, "upheld", resolution.id, facts.id)
    return ObjectionStatus(objection_id, target, "awaiting-correction", resolution.id)
