"""What follows a finding: rectification (整改), interviews (约谈), withdrawal.

Interviews and rectification orders come only from the finding's agency
(谁认定、谁约谈): the structural agency-bound check of ``commands.decide``
(``wrong-agency``, on the field the type's declaration names); for a breach the ledger issued itself, the agency it acted
for (``data.agency``).

Rules (reason codes):

* ``credit.rectification.completed``: an open order — not revoked, not already
  completed (``out-of-order``).
* ``credit.penalty.withdrawn``: a penalty not already withdrawn (``out-of-order``).

:func:`rectification_status` tells projections whether an order is open,
completed (on time or late) or overdue at a moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from commands.decide import Context, rule
from commands.state import SubjectState
from commands.workflows.common import cst_day, effective_data, followers, still_open
from events.envelope import Envelope
from events.reasons import Rejection

__all__ = ["RectificationStatus", "rectification_status"]

ORDERED = "credit.rectification.ordered"
COMPLETED = "credit.rectification.completed"


@rule(COMPLETED)
def completes_an_open_order(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """A rectification order is completed once, and only while it stands."""
    return still_open(
        state,
        event,
        "rectification",
        (COMPLETED,),
        revoked="rectification: order '{ref}' was revoked; there is nothing to complete",
        closed="rectification: order '{ref}' was already completed by {by}",
        closed_key="completed_by",
    )


@rule("credit.penalty.withdrawn")
def withdraws_a_penalty_once(
    state: SubjectState, event: Envelope, context: Context
) -> Rejection | None:
    """A penalty decision is withdrawn once."""
    return still_open(
        state,
        event,
        "penalty",
        ("credit.penalty.withdrawn",),
        revoked=None,  # a revoked penalty may still be withdrawn (as before)
        closed="penalty: '{ref}' was already withdrawn by {by}",
        closed_key="withdrawn_by",
    )


@dataclass(frozen=True, slots=True)
class RectificationStatus:
    """An order at a moment: ``stage`` is ``open``, ``overdue`` (its deadline day
    is over and it is not completed), ``completed`` or ``completed-late``
    (completed after the deadline day), or ``revoked``. ``days_overdue`` counts
    calendar days after the deadline (at the moment, or at the completion)."""

    order: str
    deadline: date
    stage: str
    completed: str | None = None
    days_overdue: int = 0


def rectification_status(state: SubjectState, order_id: str, as_of_us: int) -> RectificationStatus:
    """The status of order ``order_id`` at ``as_of_us`` (valid time, microseconds
    UTC), from its (corrected) ``deadline``. Completions recorded with a valid
    time after ``as_of_us`` do not count yet. ``KeyError`` if unknown."""
    order = state.events[order_id]
    if order.type != ORDERED:
        raise ValueError(f"'{order_id}' is a {order.type}, not {ORDERED}")
    deadline = date.fromisoformat(effective_data(state, order_id)["deadline"])
    if order_id in state.revoked:
        return RectificationStatus(order_id, deadline, "revoked")
    for done in followers(state, order_id, COMPLETED):
        if done.time_us <= as_of_us:
            late = (cst_day(done.time_us) - deadline).days
            stage = "completed-late" if late > 0 else "completed"
            return RectificationStatus(order_id, deadline, stage, done.id, max(late, 0))
    late = (cst_day(as_of_us) - deadline).days
    if late > 0:
        return RectificationStatus(order_id, deadline, "overdue", None, late)
    return RectificationStatus(order_id, deadline, "open")
