"""Corrections are judged as the corrected record would be.

A ``credit.record.corrected`` (and an upheld ``credit.objection.resolved`` that
carries ``changes``) replaces fields of an earlier record from that record's own
valid time. The ledger accepts it only if the record, with the changes applied
to its data as it stands (earlier live corrections included), is still a valid
record of its type:

* every field of ``changes`` is a field of the target type's model
  (``events/models.py``) — an unknown field is ``invalid-field`` (the safe
  default: extra fields are kept on first submission, but a correction must not
  introduce or rewrite what the model does not define, e.g. the ``agency`` a
  ledger-issued record acts for);
* the lifecycle links of compensating records (the ``target`` of a correction
  or revocation, what a resolution resolves and carries) cannot be corrected —
  ``invalid-field``: revoke the record and record a new one;
* the corrected data validates with the target type's own model — the same
  reason codes and messages as on first submission, naming
  ``data.changes.<field>``;
* a changed reference names an event that is earlier in the stream than the
  target, of a type the field allows, valid no later than the target, from the
  agency where the type is agency-bound — the structural checks of
  :mod:`commands.decide`, applied to the target as if it were submitted again;
* a personal field (``events.personal``) arrives sealed exactly as on first
  submission (``ledger.sealing`` seals it before the decision); the model then
  judges the rest.

Pure: reads only the subject's state.
"""

from __future__ import annotations

from typing import Any

from commands.decide import Context, check_references, rule
from commands.state import EventFacts, SubjectState
from commands.workflows.common import effective_data
from events.envelope import Envelope
from events.personal import unsealed_for_validation
from events.reasons import InvalidEvent, Reason, Rejection
from events.rfc3339 import format_time_us
from events.vocabulary import EVENT_TYPES, validate_data

__all__ = ["FIXED_FIELDS", "correction_rejection"]

CORRECTED = "credit.record.corrected"
RESOLVED = "credit.objection.resolved"

FIXED_FIELDS: dict[str, frozenset[str]] = {
    "credit.record.corrected": frozenset({"target", "changes"}),
    "credit.record.revoked": frozenset({"target"}),
    "credit.objection.resolved": frozenset({"objection", "changes", "revoke"}),
}
"""Fields no correction may change: the links the folds read from the stored
record itself (a corrected link would be silently ignored)."""


def _invalid(event: Envelope, name: str, message: str, **details: Any) -> Rejection:
    return Rejection(
        Reason.INVALID_FIELD,
        f"{event.type}: {message}",
        {"field": f"data.changes.{name}", **details},
    )


def correction_rejection(
    state: SubjectState, event: Envelope, target: EventFacts, changes: dict[str, Any]
) -> Rejection | None:
    """Why ``changes`` (carried by ``event``) would make ``target`` an invalid
    record of its type, or None when the corrected record is valid (module
    docstring). ``target`` is an event of ``state``."""
    what = f"the corrected {target.type} '{target.id}'"
    model = EVENT_TYPES[target.type].model
    for name in changes:
        if name not in model.model_fields:
            return _invalid(
                event,
                name,
                f"data.changes.{name} is not a field of {target.type}; a correction changes "
                f"the fields of the record's type ({', '.join(sorted(model.model_fields))})",
                unknown=True,
            )
        if name in FIXED_FIELDS.get(target.type, ()):
            return _invalid(
                event,
                name,
                f"data.changes.{name} cannot be corrected on a {target.type}; "
                "revoke the record and record a new one",
            )
    corrected = unsealed_for_validation(
        target.type, {**effective_data(state, target.id), **changes}
    )
    try:
        validate_data(target.type, corrected)
    except InvalidEvent as exc:
        return _restated(event, target, changes, exc)
    changed_refs = {
        name: changes[name] for name in EVENT_TYPES[target.type].references if name in changes
    }
    if changed_refs:
        rejection = _references(state, target, changed_refs)
        if rejection is not None:
            name = str(rejection.details.get("field", "")).removeprefix("data.")
            return Rejection(
                rejection.code,
                f"{event.type}: {what}: {rejection.message.replace('data.', 'data.changes.', 1)}",
                {**rejection.details, "field": f"data.changes.{name}", "target": target.id},
            )
    return None


def _restated(
    event: Envelope, target: EventFacts, changes: dict[str, Any], exc: InvalidEvent
) -> Rejection:
    """The model's rejection of the corrected data, naming ``data.changes.<field>``
    for the fields the correction sets."""
    found = exc.rejection
    path = str(found.details.get("path", ""))
    top = path.removeprefix("data.").split(".", 1)[0].split("[", 1)[0]
    text = found.message.removeprefix(f"{target.type}: ")
    details = dict(found.details)
    if top in changes:
        text = text.replace("data.", "data.changes.", 1)
        details["path"] = path.replace("data.", "data.changes.", 1)
        details["field"] = f"data.changes.{top}"
    return Rejection(
        found.code,
        f"{event.type}: {text} (the corrected {target.type} '{target.id}' must stay valid)",
        {**details, "target": target.id},
    )


def _references(state: SubjectState, target: EventFacts, refs: dict[str, Any]) -> Rejection | None:
    """The structural reference checks of ``refs`` as fields of ``target``, against
    the events recorded before it."""
    earlier = SubjectState(
        state.subject,
        events={k: f for k, f in state.events.items() if f.seq < target.seq},
        ambiguous=state.ambiguous,
        revoked=state.revoked,
    )
    as_recorded = Envelope(
        id=target.id,
        source=target.source,
        type=target.type,
        subject=state.subject,
        time=format_time_us(target.time_us),
        time_us=target.time_us,
        data=refs,
        schema_version=EVENT_TYPES[target.type].version,
    )
    return check_references(earlier, as_recorded)


@rule(CORRECTED, RESOLVED)
def corrected_record_stays_valid(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """A correction (or an upheld resolution carrying ``changes``) leaves its target
    a valid record of its type. What the objection rules refuse already (changes on
    a rejected resolution, changes with a revocation, a revoked target) is left to them."""
    changes = event.data.get("changes")
    if not isinstance(changes, dict):
        return None
    if event.type == RESOLVED:
        if event.data.get("outcome") != "upheld" or event.data.get("revoke"):
            return None
        filed = state.events.get(event.data["objection"])
        target_id = filed.data.get("target") if filed is not None else None
    else:
        target_id = event.data.get("target")
    target = state.events.get(target_id) if isinstance(target_id, str) else None
    if target is None or target.id in state.revoked or target.type not in EVENT_TYPES:
        return None
    return correction_rejection(state, event, target, changes)
