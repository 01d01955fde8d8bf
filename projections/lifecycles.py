"""Lifecycles (DOMAIN.md): when a finding, a listing, a ban or a measure is in force.

Derived state, never stored in place: from a :class:`~projections.timeline.Timeline`
these functions compute, for one record, the *intervals* (in microseconds of valid
time, start inclusive, end exclusive, ``None`` = open) during which it is in force,
each end with its cause and the event that caused it. Standing, disclosure and
the list register all read these intervals at their ``as_of``; the materialised
views store them so "current" stays right as days pass without events.

Ends, by kind of record (a revoked record never was; revoked events in between
are ignored everywhere):

* finding (penalty, violation): the maximum disclosure period of the rule set in
  force on its own valid date (and the archive limit), ``credit.penalty.withdrawn``
  from its time, an approved repair from its time until a ``credit.repair.revoked``
  (which restores it).
* list designation: ``credit.list.removed``; its grounds withdrawn; an approved
  repair of the designation itself (restored by repair revocation). Repair is
  per record: the repair of the finding it rests on ends the finding's
  disclosure, not the listing, which ends only by its own removal (reason
  ``repaired``) or expiry (DOMAIN.md, Clarifications).
  The proposal's ``planned_end`` does not end it by itself (removal "expired" is
  an event agencies record); it is reported.
* ban: ``credit.ban.lifted``; the day after ``until``; its grounds withdrawn.
  Repair does not lift a ban (a ban is imposed by law, not a joint measure).
* measure: ``credit.measure.lifted``; the day after ``until``; its grounds
  withdrawn; the record it rests on directly (a finding, or a designation)
  repaired (restored by repair revocation) — a measure on a designation is not
  lifted by the repair of the designation's finding.
* licence (行政许可): ``credit.license.revoked``; the day after ``valid_until``.
* incentive (守信激励): ``credit.incentive.ended``; the day after ``until``.

A sanction whose grounds (finding, or designation and its finding) were revoked
never was in force.

The intervals, cuts and their reading at an instant are :mod:`projections.intervals`;
this module says, per kind of record, which intervals and cuts its events make.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache

from commands.periods import DisclosurePeriod, add_months
from commands.rulesets import NoRuleSet, RuleSet, period_for
from commands.services import RuleServices
from projections.intervals import Cut, Interval, Lifecycle
from projections.timeline import (
    Entry,
    Timeline,
    day_after_start_us,
    day_start_us,
    parse_day,
    valid_day,
)

__all__ = [
    "FINDING_FAMILIES",
    "Lifecycles",
    "RulesFor",
    "ban_lifecycle",
    "breach_lifecycle",
    "day_text",
    "designation_lifecycle",
    "finding_end_day",
    "finding_lifecycle",
    "grounds",
    "incentive_lifecycle",
    "licence_lifecycle",
    "lifecycles",
    "list_name",
    "measure_lifecycle",
    "registration_lifecycle",
    "repair_cuts",
    "revoked_text",
    "withdrawal",
]

FINDING_FAMILIES: dict[str, str] = {
    "credit.penalty.decided": "penalty",
    "credit.violation.recorded": "violation",
}
"""Record types with disclosure periods → their family in the rule sets."""


# -- references ------------------------------------------------------------------------


def repair_cuts(target: Entry) -> list[Cut]:
    """Approved repairs of ``target`` (requests → approvals), each until its
    revocation. Revoked requests, approvals and revocations do not count."""
    cuts: list[Cut] = []
    for request in target.referring("credit.repair.requested", "target"):
        for approval in request.referring("credit.repair.approved", "request"):
            revocations = approval.referring("credit.repair.revoked", "approval")
            end = revocations[0] if revocations else None
            cuts.append(
                Cut(
                    start_us=approval.time_us,
                    end_us=None if end is None else max(end.time_us, approval.time_us),
                    cause="repair approved",
                    event=approval.id,
                    restore_cause=None if end is None else "repair revoked",
                    restore_event=None if end is None else end.id,
                )
            )
    return cuts


def withdrawal(finding: Entry) -> Entry | None:
    """The live ``credit.penalty.withdrawn`` of a penalty that takes effect first.

    Earliest by valid time, not by stream order: a withdrawal recorded later may be
    dated earlier, and every reading (a fold of everything known read at an
    ``as_of``, or a fold of what was in effect at it) must pick the same one."""
    found = finding.referring("credit.penalty.withdrawn", "penalty")
    return min(found, key=lambda e: (e.effective_us, e.seq)) if found else None


def grounds(entry: Entry) -> list[Entry]:
    """What a sanction rests on, nearest first: a measure or ban names a finding
    or a designation; a designation its proposal's finding. Stops at a missing
    reference."""
    chain: list[Entry] = []
    current: Entry | None = entry
    seen: set[int] = set()
    while current is not None and current.seq not in seen:
        seen.add(current.seq)
        if current is not entry:
            chain.append(current)
        if current.type in ("credit.measure.applied", "credit.ban.imposed"):
            current = current.refs.get("finding")
        elif current.type == "credit.list.designated":
            proposal = current.refs.get("proposal")
            current = proposal.refs.get("finding") if proposal is not None else None
        else:
            current = None
    return chain


def list_name(designation: Entry) -> str | None:
    """The list a designation puts the subject on (its proposal's ``list``)."""
    proposal = designation.refs.get("proposal")
    name = proposal.data.get("list") if proposal is not None else None
    return name if isinstance(name, str) else None


def revoked_text(entry: Entry) -> str | None:
    """ "record revoked by ID: reason" when ``entry`` is revoked, else None."""
    revocation = entry.revoked_by
    if revocation is None:
        return None
    why = revocation.data.get("reason")
    return f"record revoked by {revocation.id}" + (f": {why}" if isinstance(why, str) else "")


def _grounds_never(entry: Entry) -> str | None:
    own = revoked_text(entry)
    if own is not None:
        return own
    for ground in grounds(entry):
        if ground.revoked_by is not None:
            return f"the record it rests on ({ground.id}) was revoked by {ground.revoked_by.id}"
    return None


def _grounds_cuts(entry: Entry, *, repairs: bool) -> list[Cut]:
    """Cuts from what ``entry`` rests on: withdrawals and list removals all along
    the chain; with ``repairs``, the approved repairs of the nearest ground only
    (repair is per record)."""
    cuts: list[Cut] = []
    for i, ground in enumerate(grounds(entry)):
        w = withdrawal(ground) if ground.type == "credit.penalty.decided" else None
        if w is not None:
            cuts.append(Cut(w.time_us, None, "the decision it rests on was withdrawn", w.id))
        if repairs and i == 0:
            for cut in repair_cuts(ground):
                cuts.append(replace(cut, cause=f"repair of {ground.id} approved"))
        if ground.type == "credit.list.designated":
            for removal in ground.referring("credit.list.removed", "designation"):
                cuts.append(
                    Cut(removal.time_us, None, "the listing it rests on was removed", removal.id)
                )
    return cuts


# -- findings -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RulesFor:
    """The disclosure rules that govern one finding (by its own valid date).

    ``problem`` says why they cannot be told (no rule set in force, an unknown
    severity …); the other fields are then None.
    """

    family: str
    severity: str | None
    sector: str | None
    rule_set: RuleSet | None
    period: DisclosurePeriod | None
    problem: str | None = None

    @staticmethod
    def of(finding: Entry, rules: RuleServices) -> RulesFor:
        family = FINDING_FAMILIES[finding.type]
        severity = finding.data.get("severity")
        sector = finding.data.get("sector")
        sev = severity if isinstance(severity, str) else None
        sec = sector if isinstance(sector, str) else None
        try:
            rule_set, period = period_for(rules.rulebook, finding.day, family, sev or "", sec)
        except NoRuleSet as exc:
            return RulesFor(family, sev, sec, None, None, str(exc))
        except ValueError as exc:  # an unknown severity: the rule set still applies
            return RulesFor(family, sev, sec, rules.rulebook.in_force(finding.day), None, str(exc))
        return RulesFor(family, sev, sec, rule_set, period)


def finding_end_day(finding: Entry, rules: RulesFor) -> date | None:
    """The day a finding's disclosure ends by itself (first day no longer in force)."""
    if rules.rule_set is None or rules.period is None:
        return None
    decided = finding.day
    return min(
        rules.period.ends_by(decided), add_months(decided, rules.rule_set.archive_after_months)
    )


def finding_lifecycle(finding: Entry, rules: RulesFor) -> Lifecycle:
    """When a penalty or violation record is in force: from its time until the
    maximum period (open-ended when the rules cannot tell), minus withdrawal and
    repairs."""
    if finding.revoked_by is not None:
        return Lifecycle((), never=revoked_text(finding))
    end_day = finding_end_day(finding, rules)
    base = [
        Interval(
            finding.time_us,
            None if end_day is None else max(day_start_us(end_day), finding.time_us),
            "decided",
            None if end_day is None else "maximum period reached",
        )
    ]
    cuts = list(repair_cuts(finding))
    w = withdrawal(finding) if finding.type == "credit.penalty.decided" else None
    if w is not None:
        cuts.append(Cut(w.time_us, None, "decision withdrawn", w.id))
    return Lifecycle.of(base, cuts)


def breach_lifecycle(breach: Entry) -> Lifecycle:
    """A breached commitment (a finding without disclosure periods): in force from
    its time until repaired (restored by repair revocation)."""
    if breach.revoked_by is not None:
        return Lifecycle((), never=revoked_text(breach))
    return Lifecycle.of([Interval(breach.time_us, None, "breached")], repair_cuts(breach))


# -- sanctions ------------------------------------------------------------------------------


def designation_lifecycle(designation: Entry) -> Lifecycle:
    """When a list designation is in force (module docstring)."""
    never = _grounds_never(designation)
    if never is not None:
        return Lifecycle((), never=never)
    cuts = _grounds_cuts(designation, repairs=False)
    for removal in designation.referring("credit.list.removed", "designation"):
        reason = removal.data.get("reason")
        cuts.append(
            Cut(
                removal.time_us,
                None,
                f"removed from the list ({reason})" if isinstance(reason, str) else "removed",
                removal.id,
            )
        )
    cuts += repair_cuts(designation)
    return Lifecycle.of([Interval(designation.time_us, None, "designated")], cuts)


def _until_end(entry: Entry) -> int | None:
    until = parse_day(entry.data.get("until"))
    if until is None:
        return None
    return max(day_after_start_us(until), entry.time_us)


def ban_lifecycle(ban: Entry) -> Lifecycle:
    """When a market ban is in force (module docstring)."""
    never = _grounds_never(ban)
    if never is not None:
        return Lifecycle((), never=never)
    end = _until_end(ban)
    base = [Interval(ban.time_us, end, "imposed", None if end is None else "period over")]
    cuts = _grounds_cuts(ban, repairs=False)
    for lifted in ban.referring("credit.ban.lifted", "ban"):
        cuts.append(Cut(lifted.time_us, None, "ban lifted", lifted.id))
    return Lifecycle.of(base, cuts)


def measure_lifecycle(measure: Entry) -> Lifecycle:
    """When a disciplinary measure is in force (module docstring)."""
    never = _grounds_never(measure)
    if never is not None:
        return Lifecycle((), never=never)
    end = _until_end(measure)
    base = [Interval(measure.time_us, end, "applied", None if end is None else "period over")]
    cuts = _grounds_cuts(measure, repairs=True)
    for lifted in measure.referring("credit.measure.lifted", "application"):
        cuts.append(Cut(lifted.time_us, None, "measure lifted", lifted.id))
    return Lifecycle.of(base, cuts)


def _valid_for(
    entry: Entry, last_day: str, cause: str, end_type: str, ref: str, why: str
) -> Lifecycle:
    """In force from its time to the day after ``data[last_day]`` (open when null), cut
    by each ``end_type`` naming it in ``ref``; never, when revoked."""
    if entry.revoked_by is not None:
        return Lifecycle((), never=revoked_text(entry))
    last = parse_day(entry.data.get(last_day))
    end = None if last is None else max(day_after_start_us(last), entry.time_us)
    base = [Interval(entry.time_us, end, cause, None if end is None else "period over")]
    cuts = [Cut(e.time_us, None, why, e.id) for e in entry.referring(end_type, ref)]
    return Lifecycle.of(base, cuts)


def licence_lifecycle(licence: Entry) -> Lifecycle:
    """When a licence is valid, hence public (module docstring)."""
    return _valid_for(
        licence, "valid_until", "granted", "credit.license.revoked", "license", "licence revoked"
    )


def incentive_lifecycle(grant: Entry) -> Lifecycle:
    """When an incentive measure is in force (module docstring)."""
    return _valid_for(
        grant, "until", "granted", "credit.incentive.ended", "grant", "incentive ended"
    )


@lru_cache(maxsize=65_536)
def day_text(us: int) -> str:
    """The CST date of an instant, ``YYYY-MM-DD``."""
    return valid_day(us).isoformat()


def registration_lifecycle(entry: Entry, cause: str = "registered") -> Lifecycle:
    """A record in force from its time on, unless revoked (registrations, persons)."""
    if entry.revoked_by is not None:
        return Lifecycle((), never=revoked_text(entry))
    return Lifecycle((Interval(entry.time_us, None, cause),))


@dataclass(frozen=True)
class Lifecycles:
    """Every lifecycle of a timeline, by seq (memoised per timeline state).

    ``rules_for`` holds the disclosure rules of each finding (penalty, violation).
    """

    findings: dict[int, Lifecycle]
    rules_for: dict[int, RulesFor]
    breaches: dict[int, Lifecycle]
    designations: dict[int, Lifecycle]
    bans: dict[int, Lifecycle]
    measures: dict[int, Lifecycle]
    registrations: dict[int, Lifecycle]
    licences: dict[int, Lifecycle] = field(default_factory=dict)
    incentives: dict[int, Lifecycle] = field(default_factory=dict)


def lifecycles(timeline: Timeline, rules: RuleServices) -> Lifecycles:
    """The lifecycles of every record of ``timeline`` that has one (memoised on
    the timeline until it changes)."""
    key = ("lifecycles", id(rules))
    found = timeline.memo.get(key)
    if isinstance(found, Lifecycles):
        return found
    findings: dict[int, Lifecycle] = {}
    rules_for: dict[int, RulesFor] = {}
    breaches: dict[int, Lifecycle] = {}
    designations: dict[int, Lifecycle] = {}
    bans: dict[int, Lifecycle] = {}
    measures: dict[int, Lifecycle] = {}
    registrations: dict[int, Lifecycle] = {}
    licences: dict[int, Lifecycle] = {}
    incentives: dict[int, Lifecycle] = {}
    for entry in timeline.entries:
        kind = entry.type
        if kind in FINDING_FAMILIES:
            r = rules_for[entry.seq] = RulesFor.of(entry, rules)
            findings[entry.seq] = finding_lifecycle(entry, r)
        elif kind == "credit.commitment.breached":
            breaches[entry.seq] = breach_lifecycle(entry)
        elif kind == "credit.list.designated":
            designations[entry.seq] = designation_lifecycle(entry)
        elif kind == "credit.ban.imposed":
            bans[entry.seq] = ban_lifecycle(entry)
        elif kind == "credit.measure.applied":
            measures[entry.seq] = measure_lifecycle(entry)
        elif kind in ("credit.registration.submitted", "credit.person.linked"):
            cause = "registered" if kind == "credit.registration.submitted" else "linked"
            registrations[entry.seq] = registration_lifecycle(entry, cause)
        elif kind == "credit.license.granted":
            licences[entry.seq] = licence_lifecycle(entry)
        elif kind == "credit.incentive.granted":
            incentives[entry.seq] = incentive_lifecycle(entry)
    result = Lifecycles(
        findings,
        rules_for,
        breaches,
        designations,
        bans,
        measures,
        registrations,
        licences,
        incentives,
    )
    timeline.memo[key] = result
    return result
