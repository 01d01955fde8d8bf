"""The other half of 双公示 and 守信激励: licences and incentive measures.

* ``credit.license.changed`` / ``.revoked``: only a licence that is still on record — not
  revoked (``credit.record.revoked``: it never was) and not already withdrawn
  (``credit.license.revoked``) — can be changed or withdrawn.
* ``credit.incentive.granted``: the measure is a code of the incentives list
  (``commands/rules/incentives.json``; ``invalid-field`` otherwise, naming the known codes).
* ``credit.incentive.ended``: only a granted measure that has not ended can end.

Who may record them (the licensing agency; an agency or platform for incentives) is the
authority rules' business, not this module's.
"""

from __future__ import annotations

from commands.decide import Context, rule
from commands.state import SubjectState
from commands.workflows.common import still_open
from events.envelope import Envelope
from events.reasons import Reason, Rejection

__all__ = ["ends_a_granted_incentive", "incentive_from_the_list", "licence_on_record"]


@rule("credit.license.changed", "credit.license.revoked")
def licence_on_record(state: SubjectState, event: Envelope, context: Context) -> Rejection | None:
    """A licence is changed or withdrawn only while it is on record."""
    return still_open(
        state,
        event,
        "license",
        ("credit.license.revoked",),
        revoked="licence: '{ref}' was revoked as a record; it cannot be {action}",
        closed="licence: '{ref}' was already withdrawn by {by}",
        closed_key="revoked_by",
    )


@rule("credit.incentive.granted")
def incentive_from_the_list(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """The measure is a code of the incentives list."""
    if context.rules is None:
        return None
    measures = context.rules.incentives.measures
    code = event.data.get("measure")
    if code in measures:
        return None
    return Rejection(
        Reason.INVALID_FIELD,
        f"incentive: {code!r} is not a measure of the incentives list "
        f"(known: {', '.join(sorted(measures))})",
        {"field": "data.measure", "known": sorted(measures)},
    )


@rule("credit.incentive.ended")
def ends_a_granted_incentive(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """Only a granted measure that has not ended can end."""
    return still_open(
        state,
        event,
        "grant",
        ("credit.incentive.ended",),
        revoked="incentive: '{ref}' was revoked as a record; it cannot end",
        closed="incentive: '{ref}' already ended by {by}",
        closed_key="ended_by",
    )
