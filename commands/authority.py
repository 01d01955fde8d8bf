"""Who may record what (谁认定、谁负责): the authority check of every event type.

DOMAIN.md "Who may record what" and its Clarifications, as one pure check per
type, registered in :data:`commands.decide.RULES` for every type before the
workflow rules (so the CLI, the API and Kafka ingest refuse alike). Who exists —
agency kinds, platforms, the region hierarchy — is configuration
(:mod:`commands.agencies`, loaded once into the rule services).

Words used below:

* the **responsible agency** of a record: its ``source`` (for a record the ledger
  issued itself, the agency named in ``data.agency``); for a list designation or a
  listing's repair, the agency that made the proposal (认定单位);
* **its superior**: an agency of the same kind at a region that contains the
  responsible agency's region (samr/440000 over samr/440300; national 000000 over all);
* **a platform over it**: ``credit-platform/REGION`` where REGION is the responsible
  agency's region or contains it (a record the system issued without an agency is
  over-seen by the national platform only).

The acts:

* findings (violation, penalty, rectification order, list proposal, measure, ban,
  licence) — an agency of a kind that records findings (a platform only if the
  configuration makes it one); never a subject, never the system;
* interviews and rectification orders — the finding's agency (``wrong-agency``, the
  structural check of :mod:`commands.decide`);
* withdrawal or revocation of a decision (``penalty.withdrawn``, ``record.revoked``),
  lifting a measure or ban, completing a rectification, changing or revoking a
  licence, fulfilling a commitment — the responsible agency or its superior;
* ``record.corrected`` — the responsible agency, its superior, or a platform over it;
* ``list.designated``, ``list.removed`` — the proposing agency (or its superior);
  a removal with reason ``expired`` also the system source;
* ``objection.resolved``, ``repair.approved`` / ``.rejected`` / ``.revoked`` — the
  target's responsible agency, its superior, or a platform over it; the repair of a
  listing only its 认定单位; a resolution carrying ``revoke: true`` only who may
  revoke the target; ``repair.revoked`` also the system source (the consequence of a
  breached repair commitment);
* filings (``commitment.made``, ``registration.submitted``, ``objection.filed``,
  ``repair.requested``) — the subject itself or any agency or platform;
  ``commitment.withdrawn`` — the subject or the agency it was made to;
  ``commitment.breached`` — the agency it was made to, its superior, or the system;
* ``evaluation.published`` — the scheme's agency kind (configured) or a platform;
  ``person.linked`` — a registration authority or an agency that recorded a finding
  on the subject; ``incentive.granted`` — an agency or platform, ``incentive.ended``
  as a correction; ``inspection.selected`` — the system source.

A ``subject/USCC`` source speaks only for its own code, and never approves,
resolves or revokes anything. A record filed by the subject itself may be revoked or
corrected by any agency or platform (the one it was filed with). Every refusal is
``not-authorised`` and names the responsible agency with its Chinese name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from commands.agencies import NATIONAL, SYSTEM_SOURCE, Agencies, Party
from commands.decide import EVERY_TYPE, Context, responsible_agency, rule
from commands.state import EventFacts, SubjectState
from events.envelope import Envelope
from events.reasons import Reason, Rejection
from events.recorded import RecordedEvent
from events.vocabulary import EVENT_TYPES

__all__ = ["AUTHORITY", "authority_check", "check_recorded", "unverified"]

FINDINGS = frozenset(
    {
        "credit.violation.recorded",
        "credit.penalty.decided",
        "credit.rectification.ordered",
        "credit.list.proposed",
        "credit.measure.applied",
        "credit.ban.imposed",
        "credit.license.granted",
        "credit.commitment.breached",
    }
)
"""Records an agency makes on its own authority (a breach is one too: it may
ground interviews, listings and measures)."""

Check = Callable[[Agencies, SubjectState, Envelope, Party], Rejection | None]


# -- who answers for what ------------------------------------------------------------


def _target(state: SubjectState, event: Envelope, field: str) -> EventFacts:
    return state.events[event.data[field]]


def _proposer(state: SubjectState, facts: EventFacts) -> str:
    """The 认定单位 of a designation (its proposal's agency), else the record's own."""
    if facts.type == "credit.list.designated":
        proposal = state.events.get(str(facts.data.get("proposal")))
        if proposal is not None:
            return responsible_agency(proposal)
    return responsible_agency(facts)


def _superior(ag: Agencies, party: Party, responsible: str) -> bool:
    """``party`` is the responsible agency or an agency of its kind above it."""
    if party.source == responsible:
        return True
    other = ag.party(responsible)
    return (
        party.kind is not None
        and party.kind == other.kind
        and other.region is not None
        and party.region is not None
        and ag.contains(party.region, other.region)
    )


def _platform_over(ag: Agencies, party: Party, responsible: str) -> bool:
    """``party`` is a credit platform of the responsible agency's region or above."""
    if party.role != "platform" or party.region is None:
        return False
    other = ag.party(responsible)
    if other.region is None:
        return party.region == NATIONAL
    return ag.contains(party.region, other.region)


def _filed_by_subject(ag: Agencies, responsible: str) -> bool:
    return ag.party(responsible).role == "subject"


def _not_the_subject(
    ag: Agencies, event: Envelope, party: Party, responsible: str, target: EventFacts
) -> Rejection | None:
    """A subject never approves, resolves, revokes, lifts or closes anything about
    itself — not even a record it filed itself (the agency or platform it filed
    with acts on that). Other sources fall through to the act's own check."""
    if party.role != "subject" or party.source != responsible:
        return None
    return _refuse(
        ag,
        event,
        f"an agency or credit platform ('{target.id}' was filed by the subject itself; a "
        "subject never approves, resolves or revokes anything about itself)",
        responsible,
        ref=target.id,
    )


def _refuse(
    ag: Agencies,
    event: Envelope,
    allowed: str,
    responsible: str | None = None,
    **details: Any,
) -> Rejection:
    """``not-authorised``: "<type>: only <allowed>; this came from <source>"."""
    extra: dict[str, Any] = {"field": "source", "source": event.source, **details}
    if responsible is not None:
        extra["responsible"] = responsible
        extra["responsible_name"] = ag.name(responsible)
    return Rejection(
        Reason.NOT_AUTHORISED,
        f"{event.type}: only {allowed} may record it; this came from {ag.name(event.source)}",
        extra,
    )


# -- the checks per act --------------------------------------------------------------


def _finding(ag: Agencies, state: SubjectState, event: Envelope, party: Party) -> Rejection | None:
    if party.role in ("agency", "platform") and ag.records_findings(party):
        return None
    return _refuse(
        ag,
        event,
        "an agency, on its own authority (never the subject; a platform only "
        "where the configuration makes it a finding agency)",
    )


def _breach(ag: Agencies, state: SubjectState, event: Envelope, party: Party) -> Rejection | None:
    if party.role == "system":
        return None
    target = _target(state, event, "commitment")
    responsible = responsible_agency(target)
    rejection = _not_the_subject(ag, event, party, responsible, target)
    if rejection is not None:
        return rejection
    if _superior(ag, party, responsible) or (
        party.role in ("agency", "platform") and _filed_by_subject(ag, responsible)
    ):
        return None
    return _refuse(
        ag,
        event,
        f"{ag.name(responsible)}, the agency commitment '{target.id}' was made to, its "
        "superior of the same kind, or the ledger's deadline job",
        responsible,
        ref=target.id,
    )


def _responsible_acts(
    field: str, what: str, *, platforms: bool = False, system: bool = False
) -> Check:
    """Acts on an existing record by its responsible agency or superior (and, if
    ``platforms``, a platform over it; if ``system``, the system source)."""

    def check(ag: Agencies, state: SubjectState, event: Envelope, party: Party) -> Rejection | None:
        target = _target(state, event, field)
        responsible = _proposer(state, target)
        rejection = _not_the_subject(ag, event, party, responsible, target)
        if rejection is not None:
            return rejection
        if _superior(ag, party, responsible):
            return None
        if system and party.role == "system":
            return None
        if platforms and _platform_over(ag, party, responsible):
            return None
        if party.role in ("agency", "platform") and _filed_by_subject(ag, responsible):
            return None
        who = f"{ag.name(responsible)}, the agency that recorded '{target.id}', or its superior of the same kind"
        if platforms:
            who += ", or a credit platform of the same or a higher region"
        if system:
            who += ", or the ledger's system source"
        return _refuse(ag, event, f"{who} ({what})", responsible, ref=target.id)

    return check


def _filing(ag: Agencies, state: SubjectState, event: Envelope, party: Party) -> Rejection | None:
    if party.role in ("subject", "agency", "platform"):
        return None  # a subject's own code was checked before
    return _refuse(
        ag, event, "the subject itself (subject/USCC) or the agency or platform it filed with"
    )


def _withdraw_commitment(
    ag: Agencies, state: SubjectState, event: Envelope, party: Party
) -> Rejection | None:
    if party.role == "subject":
        return None
    return _COMMITMENT_CLOSED(ag, state, event, party)


_COMMITMENT_CLOSED = _responsible_acts("commitment", "the agency the commitment was made to")


def _listing(field: str, *, expiry: bool = False) -> Check:
    """Designation and removal: the proposing agency (认定单位) or its superior;
    expiry also the system source."""

    def check(ag: Agencies, state: SubjectState, event: Envelope, party: Party) -> Rejection | None:
        target = _target(state, event, field)
        responsible = _proposer(state, target)
        rejection = _not_the_subject(ag, event, party, responsible, target)
        if rejection is not None:
            return rejection
        if _superior(ag, party, responsible):
            return None
        if expiry and party.role == "system" and event.data.get("reason") == "expired":
            return None
        who = (
            f"{ag.name(responsible)}, the agency that made the proposal (认定单位), or its superior"
        )
        if expiry:
            who += "; an expiry also the ledger's deadline job"
        return _refuse(ag, event, who, responsible, ref=target.id)

    return check


def _repair_target(state: SubjectState, event: Envelope) -> EventFacts:
    if event.type == "credit.repair.revoked":
        approval = _target(state, event, "approval")
        request = state.events[str(approval.data.get("request"))]
    else:
        request = _target(state, event, "request")
    return state.events[str(request.data.get("target"))]


def _repair_decision(
    ag: Agencies, state: SubjectState, event: Envelope, party: Party
) -> Rejection | None:
    target = _repair_target(state, event)
    responsible = _proposer(state, target)
    rejection = _not_the_subject(ag, event, party, responsible, target)
    if rejection is not None:
        return rejection
    if _superior(ag, party, responsible):
        return None
    if event.type == "credit.repair.revoked" and party.role == "system":
        return None
    listing = target.type == "credit.list.designated"
    if not listing and _platform_over(ag, party, responsible):
        return None
    if listing:
        who = (
            f"{ag.name(responsible)}, the agency that listed the subject (认定单位), or its "
            f"superior (the repair of listing '{target.id}')"
        )
    else:
        who = (
            f"{ag.name(responsible)}, the agency that recorded '{target.id}', its superior of "
            "the same kind, or a credit platform of the same or a higher region"
        )
    return _refuse(ag, event, who, responsible, ref=target.id)


def _resolution(
    ag: Agencies, state: SubjectState, event: Envelope, party: Party
) -> Rejection | None:
    filed = _target(state, event, "objection")
    target = state.events.get(str(filed.data.get("target")))
    if target is None:  # pragma: no cover - a filing always names a stream record
        return None
    responsible = _proposer(state, target)
    rejection = _not_the_subject(ag, event, party, responsible, target)
    if rejection is not None:
        return rejection
    if _superior(ag, party, responsible):
        return None
    revoking = event.data.get("revoke") is True and event.data.get("outcome") == "upheld"
    if revoking and not _filed_by_subject(ag, responsible):
        return _refuse(
            ag,
            event,
            f"{ag.name(responsible)}, the agency that decided '{target.id}', or its superior "
            "(an upheld resolution that revokes the record)",
            responsible,
            ref=target.id,
        )
    if _platform_over(ag, party, responsible):
        return None
    if party.role in ("agency", "platform") and _filed_by_subject(ag, responsible):
        return None
    return _refuse(
        ag,
        event,
        f"{ag.name(responsible)}, the agency that recorded '{target.id}', its superior of the "
        "same kind, or a credit platform of the same or a higher region",
        responsible,
        ref=target.id,
    )


def _evaluation(
    ag: Agencies, state: SubjectState, event: Envelope, party: Party
) -> Rejection | None:
    scheme = str(event.data.get("scheme", ""))
    kinds = ag.scheme_kinds(scheme)
    if party.role == "platform" or (
        party.role == "agency" and (kinds is None or party.kind in kinds)
    ):
        return None
    names = ", ".join(f"{k} ({ag.kinds[k].name})" for k in sorted(kinds or ()))
    return _refuse(
        ag,
        event,
        (f"the scheme's agency ({names})" if names else "an agency")
        + f" or a credit platform (scheme {scheme!r})",
    )


def _person(ag: Agencies, state: SubjectState, event: Envelope, party: Party) -> Rejection | None:
    if ag.registration_authority(party):
        return None
    if party.role in ("agency", "platform") and any(
        f.source == party.source and f.type in FINDINGS and f.id not in state.revoked
        for f in state.events.values()
    ):
        return None
    registrars = ", ".join(sorted(k for k, v in ag.kinds.items() if v.registration))
    return _refuse(
        ag,
        event,
        f"a registration authority ({registrars}) or an agency that recorded a finding "
        f"about {event.subject}",
    )


def _agency_or_platform(
    ag: Agencies, state: SubjectState, event: Envelope, party: Party
) -> Rejection | None:
    if party.role in ("agency", "platform"):
        return None
    return _refuse(ag, event, "an agency or a credit platform")


def _system_only(
    ag: Agencies, state: SubjectState, event: Envelope, party: Party
) -> Rejection | None:
    if party.role == "system":
        return None
    return _refuse(ag, event, f"the ledger's own system source ({SYSTEM_SOURCE})")


def _bound_to_finding(
    ag: Agencies, state: SubjectState, event: Envelope, party: Party
) -> Rejection | None:
    """Interviews: the finding's agency, checked structurally (``wrong-agency``)."""
    return None


AUTHORITY: dict[str, Check] = {
    **dict.fromkeys(FINDINGS - {"credit.commitment.breached"}, _finding),
    "credit.commitment.breached": _breach,
    "credit.interview.held": _bound_to_finding,
    "credit.penalty.withdrawn": _responsible_acts("penalty", "withdrawal of a decision"),
    "credit.record.revoked": _responsible_acts("target", "revocation of a decision"),
    "credit.measure.lifted": _responsible_acts("application", "lifting a measure"),
    "credit.ban.lifted": _responsible_acts("ban", "lifting a ban"),
    "credit.rectification.completed": _responsible_acts(
        "rectification", "completing a rectification"
    ),
    "credit.license.changed": _responsible_acts("license", "the licensing agency"),
    "credit.license.revoked": _responsible_acts("license", "the licensing agency"),
    "credit.commitment.fulfilled": _COMMITMENT_CLOSED,
    "credit.commitment.withdrawn": _withdraw_commitment,
    "credit.record.corrected": _responsible_acts(
        "target", "correction of a record", platforms=True
    ),
    "credit.incentive.ended": _responsible_acts("grant", "ending an incentive", platforms=True),
    "credit.list.designated": _listing("proposal"),
    "credit.list.removed": _listing("designation", expiry=True),
    "credit.objection.resolved": _resolution,
    "credit.repair.approved": _repair_decision,
    "credit.repair.rejected": _repair_decision,
    "credit.repair.revoked": _repair_decision,
    "credit.commitment.made": _filing,
    "credit.registration.submitted": _filing,
    "credit.objection.filed": _filing,
    "credit.repair.requested": _filing,
    "credit.evaluation.published": _evaluation,
    "credit.person.linked": _person,
    "credit.incentive.granted": _agency_or_platform,
    "credit.inspection.selected": _system_only,
}
"""The check of each event type (DOMAIN.md's authority table and Clarifications)."""


def authority_check(ag: Agencies, state: SubjectState, event: Envelope) -> Rejection | None:
    """Whether ``event.source`` may record ``event`` on the stream whose fold is
    ``state`` (references already resolved): None, or a ``not-authorised`` rejection
    naming the responsible agency. Pure."""
    party = ag.party(event.source)
    if party.role == "unknown":
        kinds = ", ".join(sorted(ag.kinds))
        return Rejection(
            Reason.NOT_AUTHORISED,
            f"source {event.source!r} is not an agency KIND/REGION of a configured kind "
            f"({kinds}) with a six-digit region code, a credit platform "
            f"{ag.platform_kind}/REGION, the subject itself (subject/USCC) or the system source",
            {"field": "source", "source": event.source},
        )
    if party.role == "subject" and party.subject != event.subject:
        return Rejection(
            Reason.NOT_AUTHORISED,
            f"{event.source} may file only for itself, not for subject {event.subject}",
            {"field": "source", "source": event.source},
        )
    check = AUTHORITY.get(event.type)
    if check is None:  # a declared type whose decision was never registered
        return Rejection(
            Reason.NOT_AUTHORISED,
            f"no one may record {event.type} yet: its authority check is not registered "
            "(commands.authority.AUTHORITY)",
            {"field": "type"},
        )
    return check(ag, state, event, party)


@rule(EVERY_TYPE)
def authorised(state: SubjectState, event: Envelope, context: Context) -> Rejection | None:
    """The authority check with the configuration loaded at start-up (none without
    rule services, like every other check that needs configuration)."""
    if context.rules is None:
        return None
    return authority_check(context.rules.agencies, state, event)


def check_recorded(ag: Agencies, state: SubjectState, record: RecordedEvent) -> Rejection | None:
    """:func:`authority_check` of a record already in the stream, on the fold of the
    records before it (``state``). A reference that does not resolve on that fold
    is not this check's to judge (None)."""
    if record.type not in EVENT_TYPES:
        return None
    envelope = Envelope(
        id=record.id,
        source=record.source,
        type=record.type,
        subject=record.subject,
        time=record.time,
        time_us=record.time_us,
        data=record.data,
        schema_version=record.schema_version,
    )
    try:
        return authority_check(ag, state, envelope)
    except (KeyError, TypeError):
        return None


def unverified(
    subject: str, records: Iterable[RecordedEvent], ag: Agencies
) -> dict[str, Rejection]:
    """The records of one subject's stream (in stream order) that the authority
    rules would refuse now, by id, each with the refusal. Records made before the
    rules stay recorded and keep their effect (the ledger never rewrites); readers
    flag them (``authority: unverified``) and ``ledger unverified`` lists them."""
    state = SubjectState(subject)
    found: dict[str, Rejection] = {}
    for record in records:
        refusal = check_recorded(ag, state, record)
        if refusal is not None:
            found[record.id] = refusal
        spec = EVENT_TYPES.get(record.type)
        state.evolve(record, spec.references.keys() if spec is not None else ())
    return found
