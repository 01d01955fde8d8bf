"""Credit repair (信用修复): requested → approved (disclosure stops, measures
lifted, list removal) or rejected; an approval may be revoked.

``credit.repair.requested`` is accepted only when the disclosure rule set in
force on the TARGET's valid date (``RuleBook.in_force``) allows it:

* the record is disclosed at all — a minor penalty that Order 36 does not
  publish has no disclosure to stop: ``repair-not-applicable``;
* the minimum disclosure period has passed by the request's valid date
  (``DisclosurePeriod.repair_from``): else ``repair-too-early`` with
  ``details.earliest`` (YYYY-MM-DD);
* the obligations are met: every rectification ordered for the finding is
  completed, and (if the rule set requires one) a repair commitment
  (``commitment.made``, ``commitment_type: repair``, not breached or withdrawn)
  was made no later than the request: else ``repair-obligations-unmet`` with
  ``details.missing``;
* no rule set covers the target's date: ``no-rule-set``; a request for a record
  already repaired, under a pending request, or withdrawn: ``out-of-order``.

What the periods are measured on: a penalty or violation record by its family,
(corrected) severity and sector; a breached commitment as a violation of
general severity (DOMAIN.md gives it no periods of its own); a list designation
as its finding's family at ``serious`` severity, from the designation's date.

``credit.repair.approved`` / ``.rejected`` need a pending request
(``out-of-order`` otherwise); ``credit.repair.revoked`` needs an approval not
yet revoked. Without rule services in the context (a bare ``Ledger``), the
rule-set checks are skipped; the lifecycle checks still apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from commands.decide import Context, rule
from commands.periods import DisclosurePeriod
from commands.rulesets import NoRuleSet, RuleSet, period_for
from commands.state import EventFacts, SubjectState
from commands.workflows.common import (
    cst_day,
    describe,
    effective_data,
    followers,
    out_of_order,
    still_open,
)
from events.envelope import Envelope
from events.reasons import Reason, Rejection

__all__ = ["KIND_OF_TYPE", "RepairBasis", "repair_basis", "repair_commitment", "repair_from"]

REQUESTED = "credit.repair.requested"
DECISIONS = ("credit.repair.approved", "credit.repair.rejected")
FAMILY_OF = {"credit.penalty.decided": "penalty", "credit.violation.recorded": "violation"}
KIND_OF_TYPE = {
    "credit.penalty.decided": "penalty",
    "credit.violation.recorded": "violation",
    "credit.commitment.breached": "breach",
    "credit.list.designated": "list",
}
"""The kind of record a repair targets, as the rule set's repair methods name it."""


@dataclass(frozen=True, slots=True)
class RepairBasis:
    """How a repairable record is measured: the finding it rests on (itself, or
    a designation's finding), the family, severity and sector of its period, and
    the day the period runs from."""

    finding: EventFacts
    family: str
    severity: str
    sector: str | None
    decided: date


def repair_basis(state: SubjectState, target_id: str) -> RepairBasis:
    """The :class:`RepairBasis` of a record a repair request may target (a
    finding or a list designation). ``KeyError`` if a link is missing."""
    target = state.events[target_id]
    if target.type == "credit.list.designated":
        proposal = state.events[target.data["proposal"]]
        finding = state.events[effective_data(state, proposal.id)["finding"]]
        family, _, sector = _measure(state, finding)
        return RepairBasis(finding, family, "serious", sector, cst_day(target.time_us))
    family, severity, sector = _measure(state, target)
    return RepairBasis(target, family, severity, sector, cst_day(target.time_us))


def _measure(state: SubjectState, finding: EventFacts) -> tuple[str, str, str | None]:
    data = effective_data(state, finding.id)
    sector = data.get("sector") if isinstance(data.get("sector"), str) else None
    severity = data.get("severity")
    if finding.type in FAMILY_OF:
        return FAMILY_OF[finding.type], str(severity), sector
    # credit.commitment.breached: a finding without periods of its own.
    return "violation", severity if isinstance(severity, str) else "general", sector


def repair_from(period: DisclosurePeriod, basis: RepairBasis) -> date:
    """The first day repair may be requested for a record measured by ``basis``."""
    return period.repair_from(basis.decided)


def _lifecycle_check(state: SubjectState, event: Envelope) -> Rejection | None:
    target = event.data["target"]
    for request in followers(state, target, REQUESTED):
        if request.data.get("target") != target:
            continue
        decisions = [d for d in followers(state, request.id, *DECISIONS)]
        if not decisions:
            return out_of_order(
                f"repair: '{target}' already has a pending repair request, {describe(request)}; "
                "it must be approved or rejected first",
                field="data.target",
                pending=request.id,
            )
        for approval in decisions:
            if approval.type == "credit.repair.approved" and not followers(
                state, approval.id, "credit.repair.revoked"
            ):
                return out_of_order(
                    f"repair: '{target}' is already repaired ({describe(approval)}); "
                    "a repair can be requested again only after it is revoked",
                    field="data.target",
                    approval=approval.id,
                )
    withdrawn = followers(state, target, "credit.penalty.withdrawn")
    if withdrawn:
        return out_of_order(
            f"repair: penalty '{target}' was withdrawn ({describe(withdrawn[0])}); "
            "a withdrawn decision is no longer disclosed and has nothing to repair",
            field="data.target",
            withdrawal=withdrawn[0].id,
        )
    return None


def _needs_commitment(
    state: SubjectState, event: Envelope, basis: RepairBasis, rule_set: RuleSet
) -> bool:
    """Whether the request needs a repair commitment on record: the rule set's
    repair methods for the target's kind require one, or the request names the
    method ``commitment``; a rule set without criteria falls back to
    ``repair.requires_repair_commitment``."""
    if rule_set.criteria is None:
        return rule_set.repair.requires_repair_commitment
    kind = KIND_OF_TYPE[state.events[event.data["target"]].type]
    return "commitment" in rule_set.criteria.methods_for(kind).required or "commitment" in (
        event.data.get("methods") or ()
    )


def _obligations(
    state: SubjectState, event: Envelope, basis: RepairBasis, rule_set: RuleSet
) -> list[str]:
    missing: list[str] = []
    if rule_set.repair.requires_rectification:
        for order in followers(state, basis.finding.id, "credit.rectification.ordered"):
            if not followers(state, order.id, "credit.rectification.completed"):
                deadline = effective_data(state, order.id).get("deadline")
                missing.append(
                    f"rectification {order.id} (ordered {cst_day(order.time_us)}, "
                    f"due {deadline}) is not completed"
                )
    if _needs_commitment(state, event, basis, rule_set):
        commitment = repair_commitment(state, event.time_us)
        ended = (
            []
            if commitment is None
            else followers(
                state, commitment.id, "credit.commitment.breached", "credit.commitment.withdrawn"
            )
        )
        if commitment is None:
            missing.append(
                "a repair commitment (credit.commitment.made with commitment_type "
                "'repair') made no later than the request"
            )
        elif ended:
            missing.append(
                f"a standing repair commitment: the latest, '{commitment.id}', was "
                f"{ended[0].type.rsplit('.', 1)[1]} by {describe(ended[0])}"
            )
    return missing


def repair_commitment(
    state: SubjectState, time_us: int, seq: int | None = None
) -> EventFacts | None:
    """A repair's commitment: the subject's latest live ``repair``-type
    ``credit.commitment.made`` made (valid time) no later than ``time_us`` and,
    when ``seq`` is given, recorded before the event at ``seq``. It may have been
    breached or withdrawn since; the caller decides what that means."""
    found: EventFacts | None = None
    for facts in state.events.values():
        if facts.type != "credit.commitment.made" or facts.id in state.revoked:
            continue
        if facts.time_us > time_us or (seq is not None and facts.seq >= seq):
            continue
        if effective_data(state, facts.id).get("commitment_type") != "repair":
            continue
        if found is None or (facts.time_us, facts.seq) > (found.time_us, found.seq):
            found = facts
    return found


@rule(REQUESTED)
def repair_when_the_rule_set_allows(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """Repair only after the minimum period and with the obligations met."""
    rejection = _lifecycle_check(state, event)
    if rejection is not None or context.rules is None:
        return rejection
    basis = repair_basis(state, event.data["target"])
    try:
        rule_set, period = period_for(
            context.rules.rulebook, basis.decided, basis.family, basis.severity, basis.sector
        )
    except NoRuleSet as exc:
        return Rejection(
            Reason.NO_RULE_SET,
            f"repair: no disclosure rule set is in force on {basis.decided}, the date of "
            f"'{event.data['target']}': {exc}",
            {"field": "data.target", "date": basis.decided.isoformat()},
        )
    where = {"field": "data.target", "rule_set": rule_set.id}
    if not period.publish:
        return Rejection(
            Reason.REPAIR_NOT_APPLICABLE,
            f"repair: '{event.data['target']}' is a {basis.severity} {basis.family} record of "
            f"{basis.decided}; under {rule_set.id} ({rule_set.title_en}) it is normally not "
            "published, so there is no disclosure to stop and nothing to repair",
            where,
        )
    requested = cst_day(event.time_us)
    earliest = repair_from(period, basis)
    if rule_set.repair.after_min_period and requested < earliest:
        return Rejection(
            Reason.REPAIR_TOO_EARLY,
            f"repair: the minimum disclosure period of '{event.data['target']}' "
            f"({period.min_months} months from {basis.decided} under {rule_set.id}) has not "
            f"passed; repair may be requested from {earliest.isoformat()}",
            {**where, "earliest": earliest.isoformat(), "min_months": period.min_months},
        )
    missing = _obligations(state, event, basis, rule_set)
    if missing:
        return Rejection(
            Reason.REPAIR_OBLIGATIONS,
            f"repair: obligations under {rule_set.id} are not met: " + "; ".join(missing),
            {**where, "missing": missing},
        )
    return None


@rule(*DECISIONS)
def decides_a_pending_request(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """A repair request is approved or rejected once."""
    return still_open(
        state,
        event,
        "request",
        DECISIONS,
        revoked="repair: {verb} a repair that was never requested — request '{ref}' "
        "was revoked (credit.record.revoked)",
        closed="repair: request '{ref}' was already decided by {by}; "
        "a new attempt is a new credit.repair.requested",
        closed_key="decision",
        verb="approving" if event.type.endswith("approved") else "rejecting",
    )


@rule("credit.repair.revoked")
def revokes_a_standing_approval(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """Only an approval that stands (not revoked) can be revoked."""
    return still_open(
        state,
        event,
        "approval",
        ("credit.repair.revoked",),
        revoked="repair: approval '{ref}' was itself revoked (credit.record.revoked); "
        "there is no repair to revoke",
        closed="repair: approval '{ref}' was already revoked by {by}",
        closed_key="revocation",
    )
