"""The decision: accept a submitted event for a subject, or reject it with a reason.

``decide(state, event, context)`` is pure: no I/O, no clock (``context.now_us``
is the moment the ledger will record the event). Rules are small functions
registered per event type in ``RULES``; the structural rules below apply to
every type, reading what each type's declaration says (its references, the
field only the finding's agency may name, the field that must not name a
revoked record: :mod:`events.catalogue`); the workflow rules (objections,
repair, deadlines …) register themselves in the same table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from commands.agencies import SYSTEM_SOURCE
from commands.services import RuleServices
from commands.state import EventFacts, SubjectState
from events.envelope import Envelope
from events.reasons import Reason, Rejection
from events.rfc3339 import format_time_us
from events.vocabulary import EVENT_TYPES

CLOCK_SKEW_US = 60_000_000
"""How far ``time`` may lie ahead of the recording moment (DESIGN.md: one minute)."""

@dataclass(frozen=True, slots=True)
class Context:
    """What a decision may know besides the state: the recording moment, and the
    rule services (calendar, rule book, procedures) loaded at start-up."""

    now_us: int
    rules: RuleServices | None = None


@dataclass(frozen=True, slots=True)
class Accepted:
    """The event is accepted; ``derived`` are events the ledger issues with it."""

    event: Envelope
    derived: tuple[Envelope, ...] = ()


Decision = Accepted | Rejection
Rule = Callable[[SubjectState, Envelope, Context], Rejection | None]
Deriver = Callable[[SubjectState, Envelope, Context], tuple[Envelope, ...]]

EVERY_TYPE = "*"
"""The key of :data:`RULES` whose rules apply to every type, declared now or
later (the authority check), before the type's own."""

RULES: dict[str, list[Rule]] = {}
"""Per event type, the rules checked after the structural ones, in order
(those of :data:`EVERY_TYPE` first)."""

DERIVERS: dict[str, list[Deriver]] = {}
"""Per event type, the functions naming the events the ledger issues with an
accepted one (``Accepted.derived``), called only once every rule passed."""

# SYSTEM_SOURCE (commands.agencies): the ``source`` of the events the ledger issues
# itself (deadline job, spot checks). A system finding names, in ``data.agency``,
# the agency it acts for.


def rule(*types: str) -> Callable[[Rule], Rule]:
    """Register a rule for the given event types (:data:`EVERY_TYPE` for all)."""

    def register(fn: Rule) -> Rule:
        for name in types:
            RULES.setdefault(name, []).append(fn)
        return fn

    return register


def derives(*types: str) -> Callable[[Deriver], Deriver]:
    """Register a function naming the events derived from an accepted event."""

    def register(fn: Deriver) -> Deriver:
        for name in types:
            DERIVERS.setdefault(name, []).append(fn)
        return fn

    return register


def responsible_agency(facts: EventFacts) -> str:
    """The agency answerable for an earlier event: its ``source``, or for an event
    the ledger issued itself (``SYSTEM_SOURCE``) the agency named in
    ``data.agency`` (e.g. the agency that accepted a conditional commitment)."""
    if facts.source == SYSTEM_SOURCE:
        agency = facts.data.get("agency")
        if isinstance(agency, str) and agency:
            return agency
    return facts.source


def referenced(state: SubjectState, event: Envelope, name: str) -> EventFacts:
    """The earlier event a reference field names (call only after the structural
    checks passed)."""
    return state.events[event.data[name]]


def check_references(state: SubjectState, event: Envelope) -> Rejection | None:
    """The structural reference checks of :func:`decide`, for rules that judge a
    record as it would be recorded (a corrected record's changed references,
    ``commands.workflows.corrections``)."""
    return _check_references(state, event)


def decide(state: SubjectState, event: Envelope, context: Context) -> Decision:
    """Accept ``event`` onto the stream whose fold is ``state``, or say why not.

    Guarantees: a ``Rejection`` means nothing of the event may be written; an
    ``Accepted`` names every event to append, in order.
    """
    if event.time_us > context.now_us + CLOCK_SKEW_US:
        return Rejection(
            Reason.TIME_IN_FUTURE,
            f"time {event.time} is later than the moment the ledger records it; "
            "a decision is reported after it is made (a later start belongs in data)",
            {"field": "time"},
        )
    rejection = _check_references(state, event)
    if rejection is not None:
        return rejection
    for checks in (RULES.get(EVERY_TYPE, ()), RULES.get(event.type, ())):
        for check in checks:
            rejection = check(state, event, context)
            if rejection is not None:
                return rejection
    derived = tuple(
        envelope
        for derive in DERIVERS.get(event.type, ())
        for envelope in derive(state, event, context)
    )
    return Accepted(event, derived)


def _check_references(state: SubjectState, event: Envelope) -> Rejection | None:
    """Every ``references`` field of the event's type (DOMAIN.md: a ``ref`` is the
    id of an EARLIER event of the same subject) names exactly one event of this
    stream (``unknown-reference``), of a type the field allows
    (``wrong-reference-type``), whose valid time is not later than the event's own
    (``reference-dated-later``, ``details.target_time``; an equal time is
    accepted: a decision and what follows from it are often dated the same
    instant), that is not revoked where that matters (``target-revoked``), and,
    for the agency-bound types, from the submitting agency (``wrong-agency``).

    This is the one place references are resolved, so every lifecycle step that
    names its predecessor (a resolution its objection, an approval its request,
    a removal its designation, a fulfilment its commitment, a correction its
    target …) is dated no earlier than it.
    """
    spec = EVENT_TYPES[event.type]
    for name, allowed in spec.references.items():
        target = event.data.get(name)
        if not isinstance(target, str):
            continue
        where = {"field": f"data.{name}", "ref": target}
        if target in state.ambiguous:
            return Rejection(
                Reason.UNKNOWN_REFERENCE,
                f"data.{name} names '{target}', an id two agencies used on subject "
                f"{state.subject}; the reference cannot be resolved",
                where,
            )
        facts = state.events.get(target)
        if facts is None:
            return Rejection(
                Reason.UNKNOWN_REFERENCE,
                f"data.{name} names '{target}', which is not an earlier event of "
                f"subject {state.subject}",
                where,
            )
        if facts.type not in allowed:
            return Rejection(
                Reason.WRONG_REFERENCE_TYPE,
                f"data.{name} names '{target}', a {facts.type}; {event.type} must "
                f"point at one of: {', '.join(sorted(allowed))}",
                {**where, "found": facts.type},
            )
        if facts.time_us > event.time_us:
            return Rejection(
                Reason.REFERENCE_DATED_LATER,
                f"data.{name} names '{target}', a {facts.type} valid from "
                f"{format_time_us(facts.time_us)}, later than this event's time {event.time}; "
                "an event cannot refer to a record dated after it (the same instant is fine)",
                {**where, "target_time": format_time_us(facts.time_us)},
            )
        if spec.not_after_revocation == name and target in state.revoked:
            return Rejection(
                Reason.TARGET_REVOKED,
                f"'{target}' was revoked (credit.record.revoked); it can no longer be "
                f"the target of {event.type}",
                where,
            )
        agency = responsible_agency(facts)
        if spec.agency_bound == name and agency != event.source:
            return Rejection(
                Reason.WRONG_AGENCY,
                f"only {agency}, the agency that made finding '{target}', may "
                f"submit {event.type} for it (谁认定、谁约谈); this came from {event.source}",
                {**where, "expected_source": agency},
            )
    return None


# The authority check (who may record what) registers first, so an unauthorised
# source hears that before any lifecycle rule; the workflow rules (objections,
# repair, commitments, lists …) register themselves in RULES and DERIVERS when
# their modules are imported.
from commands import authority, workflows  # noqa: E402, F401
