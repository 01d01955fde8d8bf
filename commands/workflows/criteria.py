"""The criteria that guard the serious acts (DOMAIN.md "Criteria that guard the
serious acts" and its Clarifications), decided from the rule set in force.

The configuration is data (:mod:`commands.criteria`): the ``minor_definition``
and ``criteria`` of the disclosure rule set in force on the event's valid day
(for a repair request: on its target's day, like the periods), and the
measures list of the rule services. Without rule services in the context (a
bare ``Ledger``), or on a day no rule set covers, these checks are skipped.

Rules (reason codes):

* ``credit.penalty.decided`` claiming ``severity: minor``: the procedure the
  definition names, only its penalty kinds, and a fine within the limit for a
  person (subject codes with a configured prefix: 个体工商户 ``92``) or an
  organisation — else ``not-minor``. Where the rule set in force gives no
  definition (Order 58), the declared minor is accepted and
  :func:`unchecked_minor` flags it for the read side.
* ``credit.list.proposed``: the finding's (corrected) severity is one the list
  may rest on, or its behaviour one named for the list (a court's
  失信被执行人) — else ``listing-grounds``; ``planned_end`` no later than
  ``max_months`` (per list and region) after the day the notice window closes
  — else ``planned-end-too-late`` (``details.latest``); ``planned_end: null``
  only on a basis the rule set names — else ``open-ended-not-allowed``.
* ``credit.ban.imposed`` with ``until: null``: only on a basis the rule set
  names as allowing a permanent ban — else ``permanent-ban-not-allowed``.
* ``credit.measure.applied``: a code of the measures list — else
  ``unknown-measure``; not a measure already in force on the same finding
  (applied, not lifted, not revoked, not past its ``until``) — else
  ``duplicate-measure``.
* ``credit.evaluation.published``: ``scheme`` without a year (the period goes
  in ``period``) — else ``invalid-field``.
* ``credit.repair.requested``: every method the rule set requires for the
  target's kind of record is named and no other than it allows — else
  ``repair-methods``.

Derived: a ``credit.commitment.breached`` of a repair commitment revokes every
standing repair approval whose request's commitment it is (:func:`repair_commitment`:
the subject's latest repair-type commitment made before the request): one
``credit.repair.revoked`` each, from ``SYSTEM_SOURCE``, so the record's
disclosure, measures and listing resume.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from decimal import Decimal
from typing import Any

from commands.calendar import CalendarUnknown
from commands.criteria import RECORD_KINDS
from commands.decide import (
    SYSTEM_SOURCE,
    Context,
    derives,
    referenced,
    responsible_agency,
    rule,
)
from commands.periods import add_months
from commands.rulesets import NoRuleSet, RuleSet
from commands.state import EventFacts, SubjectState
from commands.workflows.common import cst_day, describe, effective_data, followers
from commands.workflows.repair import KIND_OF_TYPE, repair_basis, repair_commitment
from events.envelope import MAX_ID_LENGTH, Envelope
from events.reasons import Reason, Rejection
from events.rfc3339 import format_time_us
from events.vocabulary import EVENT_TYPES

__all__ = [
    "REPAIR_REVOCATION_BASIS",
    "record_kind",
    "rule_set_on",
    "unchecked_minor",
]

REPAIR_REVOCATION_BASIS = (
    "国家发展改革委令第58号：信用主体违反信用修复承诺的，撤销信用修复决定，恢复公示"
)


def rule_set_on(context: Context, day: date) -> RuleSet | None:
    """The rule set in force on ``day``, or None (no rule services, or none covers it)."""
    if context.rules is None:
        return None
    try:
        return context.rules.rulebook.in_force(day)
    except NoRuleSet:
        return None


def unchecked_minor(rule_set: RuleSet | None, data: dict[str, Any]) -> bool:
    """Whether a record claims ``minor`` under a rule set that gives no minor
    definition (accepted as declared; the read side flags it)."""
    return data.get("severity") == "minor" and (
        rule_set is None or rule_set.minor_definition is None
    )


def record_kind(facts: EventFacts) -> str:
    """The kind of record a repair may target (one of ``RECORD_KINDS``)."""
    kind = KIND_OF_TYPE[facts.type]
    assert kind in RECORD_KINDS
    return kind


def _citing(rule_set: RuleSet) -> str:
    return f"{rule_set.id} ({rule_set.title_en})"


# -- minor ------------------------------------------------------------------------------


@rule("credit.penalty.decided")
def minor_only_within_the_definition(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """A penalty is minor only inside the rule set's minor definition."""
    data = event.data
    if data.get("severity") != "minor":
        return None
    rule_set = rule_set_on(context, cst_day(event.time_us))
    if rule_set is None or rule_set.minor_definition is None:
        return None
    definition = rule_set.minor_definition
    limit, whom = definition.fine_max(event.subject)
    problems: list[str] = []
    if data.get("procedure") != definition.procedure:
        problems.append(f"procedure {data.get('procedure')} (it requires {definition.procedure})")
    kinds = [str(k) for k in data.get("kinds", ())]
    extra = sorted(set(kinds) - definition.kinds)
    if extra:
        problems.append(
            f"penalty kinds {', '.join(extra)} (only {', '.join(sorted(definition.kinds))})"
        )
    amount = data.get("amount")
    if "fine" in kinds and amount is None:
        problems.append("a fine without an amount")
    elif isinstance(amount, str) and Decimal(amount) > limit:
        problems.append(f"an amount of {amount} yuan (a fine of at most {limit} yuan for {whom})")
    if not problems:
        return None
    return Rejection(
        Reason.NOT_MINOR,
        f"penalty: severity minor is not what {_citing(rule_set)} defines as minor "
        f"({definition.source}: {definition.procedure} procedure, "
        f"{' or '.join(sorted(definition.kinds))}, a fine of at most {limit} yuan for {whom}); "
        f"this penalty has {'; '.join(problems)}",
        {
            "field": "data.severity",
            "rule_set": rule_set.id,
            "problems": problems,
            "fine_max": str(limit),
        },
    )


# -- lists ------------------------------------------------------------------------------


def _finding_severity(state: SubjectState, finding: EventFacts) -> tuple[str, str | None]:
    """(severity, behaviour) of a finding after its corrections; a breached
    commitment without a severity counts as ``general``."""
    data = effective_data(state, finding.id)
    severity = data.get("severity")
    behaviour = data.get("behaviour")
    return (
        severity if isinstance(severity, str) else "general",
        behaviour if isinstance(behaviour, str) else None,
    )


def _names_one(basis: object, bases: tuple[str, ...]) -> str | None:
    if not isinstance(basis, str):
        return None
    return next((b for b in bases if b in basis), None)


@rule("credit.list.proposed")
def listing_rests_on_its_grounds_for_a_bounded_time(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """A list rests on a finding of a severity it allows, for a bounded time."""
    day = cst_day(event.time_us)
    rule_set = rule_set_on(context, day)
    if rule_set is None or rule_set.criteria is None or context.rules is None:
        return None
    name = str(event.data["list"])
    criteria = rule_set.criteria.lists[name]  # type: ignore[index]
    finding = referenced(state, event, "finding")
    severity, behaviour = _finding_severity(state, finding)
    if severity not in criteria.severities and behaviour not in criteria.behaviours:
        grounds = f"a finding of severity {' or '.join(criteria.severities)}"
        if criteria.behaviours:
            grounds += f" (or of behaviour {' / '.join(criteria.behaviours)})"
        return Rejection(
            Reason.LISTING_GROUNDS,
            f"list: the {name} list rests on {grounds} under {_citing(rule_set)} "
            f"({criteria.source}); {describe(finding)} is of severity {severity}",
            {
                "field": "data.finding",
                "ref": finding.id,
                "severity": severity,
                "allowed": list(criteria.severities),
                "rule_set": rule_set.id,
            },
        )
    planned = event.data.get("planned_end")
    if planned is None:
        if _names_one(event.data.get("basis"), criteria.open_ended_bases) is not None:
            return None
        allowed = "; ".join(criteria.open_ended_bases) or "none"
        return Rejection(
            Reason.OPEN_ENDED_NOT_ALLOWED,
            f"list: a {name} listing without planned_end needs a legal basis that requires it; "
            f"{rule_set.id} names: {allowed}; this basis is {event.data.get('basis')!r}",
            {"field": "data.planned_end", "rule_set": rule_set.id, "allowed_bases": allowed},
        )
    notice = context.rules.procedures.list_notice
    try:
        closes = (
            day
            if notice is None
            else context.rules.calendar.add_working_days(day, notice.working_days)
        )
    except CalendarUnknown as exc:
        return Rejection(
            Reason.CALENDAR_UNKNOWN,
            f"list: the notice window of this proposal cannot be computed, so neither can the "
            f"bound of its planned_end: {exc}",
            {"field": "data.planned_end", "year": exc.year},
        )
    months = criteria.max_months_for(event.subject)
    latest = add_months(closes, months)
    if date.fromisoformat(str(planned)) > latest:
        return Rejection(
            Reason.PLANNED_END_TOO_LATE,
            f"list: planned_end {planned} is later than {rule_set.id} allows for a {name} "
            f"listing of subject region {event.subject[2:8]}: at most {months} months after "
            f"the notice window closes ({closes.isoformat()}), i.e. {latest.isoformat()}",
            {
                "field": "data.planned_end",
                "latest": latest.isoformat(),
                "max_months": months,
                "rule_set": rule_set.id,
            },
        )
    return None


# -- evaluations ------------------------------------------------------------------------

_YEAR = re.compile(r"(?<!\d)(19|20)\d{2}(?!\d)")


@rule("credit.evaluation.published")
def scheme_without_the_year(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """``scheme`` names the scheme, not its edition: the year goes in ``period``,
    so a newer grade replaces the same scheme's older one."""
    scheme = str(event.data["scheme"])
    found = _YEAR.search(scheme)
    if found is None:
        return None
    return Rejection(
        Reason.INVALID_FIELD,
        f"evaluation: scheme {scheme!r} names a year ({found.group(0)}); scheme names the "
        "scheme without the year (e.g. national-comprehensive, tax) and the period goes in "
        "data.period, so a newer grade replaces only the same scheme's",
        {"field": "data.scheme"},
    )


# -- bans -------------------------------------------------------------------------------


@rule("credit.ban.imposed")
def permanent_ban_only_on_a_named_basis(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """A ban without an end only where the law the rule set names allows one."""
    if event.data.get("until") is not None:
        return None
    rule_set = rule_set_on(context, cst_day(event.time_us))
    if rule_set is None or rule_set.criteria is None:
        return None
    bans = rule_set.criteria.bans
    if _names_one(event.data.get("basis"), bans.permanent_bases) is not None:
        return None
    allowed = "; ".join(bans.permanent_bases) or "none"
    return Rejection(
        Reason.PERMANENT_BAN_NOT_ALLOWED,
        f"ban: a permanent ban (until null) needs a legal basis that allows one; "
        f"{rule_set.id} names: {allowed}; this basis is {event.data.get('basis')!r} "
        "(give the ban's last day in until)",
        {"field": "data.until", "rule_set": rule_set.id, "allowed_bases": allowed},
    )


# -- measures ---------------------------------------------------------------------------


def _in_force_on(state: SubjectState, applied: EventFacts, day: date) -> bool:
    if applied.id in state.revoked or followers(state, applied.id, "credit.measure.lifted"):
        return False
    until = effective_data(state, applied.id).get("until")
    return not (isinstance(until, str) and date.fromisoformat(until) < day)


@rule("credit.measure.applied")
def measure_from_the_list_once_per_finding(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """A measure comes from the measures list, once per finding."""
    if context.rules is None:
        return None
    code = str(event.data["measure"])
    measures = context.rules.measures
    if measures.get(code) is None:
        return Rejection(
            Reason.UNKNOWN_MEASURE,
            f"measure: {code!r} is not on the measures list (惩戒措施清单 {measures.version}); "
            f"known codes: {', '.join(measures.codes())}",
            {"field": "data.measure", "known": list(measures.codes())},
        )
    finding = event.data["finding"]
    day = cst_day(event.time_us)
    for other in followers(state, finding, "credit.measure.applied"):
        data = effective_data(state, other.id)
        if data.get("finding") != finding or data.get("measure") != code:
            continue
        if _in_force_on(state, other, day):
            return Rejection(
                Reason.DUPLICATE_MEASURE,
                f"measure: {code} is already applied on finding '{finding}' by "
                f"{describe(other)} and not lifted; the same measure is applied once per finding",
                {"field": "data.measure", "ref": finding, "application": other.id},
            )
    return None


# -- repair methods and the repair commitment ------------------------------------------------


@rule("credit.repair.requested")
def repair_methods_of_the_rule_set(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """The request names every method the rule set requires, and only allowed ones."""
    target = state.events[event.data["target"]]
    basis = repair_basis(state, target.id)
    rule_set = rule_set_on(context, basis.decided)
    if rule_set is None or rule_set.criteria is None:
        return None
    kind = record_kind(target)
    methods = rule_set.criteria.methods_for(kind)
    named = [str(m) for m in event.data.get("methods", ())]
    missing = [m for m in methods.required if m not in named]
    stray = [m for m in named if m not in methods.permitted()]
    if not missing and not stray:
        return None
    problems = []
    if missing:
        problems.append(f"it requires {', '.join(missing)}")
    if stray:
        problems.append(f"it does not allow {', '.join(stray)}")
    return Rejection(
        Reason.REPAIR_METHODS,
        f"repair: for a {kind} record, {_citing(rule_set)} requires the methods "
        f"[{', '.join(methods.required) or 'none'}] and allows "
        f"[{', '.join(sorted(methods.permitted()))}] ({rule_set.criteria.repair_methods_source}); "
        + "; ".join(problems),
        {
            "field": "data.methods",
            "rule_set": rule_set.id,
            "required": list(methods.required),
            "missing": missing,
            "not_allowed": stray,
        },
    )


def _revocation_id(breach: str, approval: str) -> str:
    """``<breach>/revokes/<approval>``, or a digest of it when that would exceed the
    id length limit (the id must stay referable, like every other)."""
    plain = f"{breach}/revokes/{approval}"
    if len(plain) <= MAX_ID_LENGTH:
        return plain
    return f"repair-revoked-{hashlib.sha256(plain.encode()).hexdigest()[:40]}"


@derives("credit.commitment.breached")
def breach_revokes_the_repairs_it_promised(
    state: SubjectState, event: Envelope, context: Context
) -> tuple[Envelope, ...]:
    """The ``credit.repair.revoked`` of every standing approval whose request's
    commitment is the breached one."""
    commitment = state.events[event.data["commitment"]]
    if effective_data(state, commitment.id).get("commitment_type") != "repair":
        return ()
    derived: list[Envelope] = []
    requests = sorted(
        (
            f
            for f in state.events.values()
            if f.type == "credit.repair.requested" and f.id not in state.revoked
        ),
        key=lambda f: f.seq,
    )
    for request in requests:
        promised = repair_commitment(state, request.time_us, request.seq)
        if promised is None or promised.id != commitment.id:
            continue
        for approval in followers(state, request.id, "credit.repair.approved"):
            if followers(state, approval.id, "credit.repair.revoked"):
                continue
            time_us = max(event.time_us, approval.time_us)
            type_ = "credit.repair.revoked"
            derived.append(
                Envelope(
                    id=_revocation_id(event.id, approval.id),
                    source=SYSTEM_SOURCE,
                    type=type_,
                    subject=event.subject,
                    time=event.time if time_us == event.time_us else format_time_us(time_us),
                    time_us=time_us,
                    data={
                        "approval": approval.id,
                        "reason": (
                            f"信用修复承诺 {commitment.id} 被违反（{event.id}），撤销修复，恢复公示 / "
                            f"the repair commitment {commitment.id} was breached ({event.id}); "
                            "the repair is revoked and disclosure resumes"
                        ),
                        "breach": event.id,
                        "commitment": commitment.id,
                        "agency": responsible_agency(approval),
                        "basis": REPAIR_REVOCATION_BASIS,
                    },
                    schema_version=EVENT_TYPES[type_].version,
                )
            )
    return tuple(derived)
