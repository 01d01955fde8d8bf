"""``ledger tick``: the deadline job. Records what the passing of time decides.

* Conditional acceptances (容缺受理) whose deadline is over and that are still
  open get a ``credit.commitment.breached`` (kind ``unfulfilled``) from the
  ledger itself; see :mod:`commands.workflows.commitments` for how the deadline
  is computed (``due``, moved to the next working day when it is not one).
* List designations whose planned end is over get a ``credit.list.removed``
  (reason ``expired``) from the ledger itself.

Every event it issues has a deterministic id (``breach-<commitment>``,
``expiry-<designation>``), source ``credit-ledger/system`` and content derived
from the stream only, so running tick twice — one after the other or at the
same time in two processes — records each event once: the second run's
submission is a repeat (same source, id and content) or, if an agency closed
the item in between, refused as ``out-of-order`` and reported as already closed.

Cost: it reads only the ``credit.commitment.made`` and ``credit.list.designated``
records (by type, in position order) to find candidate subjects — those with a
commitment whose ``due`` is before today, or with a designation — and folds just
those streams. Commitments the calendar cannot judge (a year not loaded) are
reported, never breached.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from commands.decide import SYSTEM_SOURCE
from commands.workflows.commitments import Overdue, breach_event, overdue_commitments
from commands.workflows.common import cst_day
from commands.workflows.lists import Expiry, expired_designations, removal_event
from events.envelope import Envelope, Refused
from ledger.app import Ledger, Outcome
from ledger.scans import records, states

__all__ = ["TickReport", "candidate_subjects", "tick"]

MADE = "credit.commitment.made"
DESIGNATED = "credit.list.designated"


def candidate_subjects(ledger: Ledger, today: date) -> set[str]:
    """Subjects with a commitment due before ``today`` or with a list designation."""
    found: set[str] = set()
    for record in records(ledger, (MADE, DESIGNATED)):
        if record.type == DESIGNATED:
            found.add(record.subject)
            continue
        due = record.data.get("due")
        if isinstance(due, str) and due < today.isoformat():
            found.add(record.subject)
    return found


@dataclass
class TickReport:
    """What one run did. ``statuses`` counts the outcomes of the issued events
    (recorded, repeat, rejected); ``closed`` lists those refused because the item
    was closed in between; ``unknown`` the commitments the calendar cannot judge."""

    today: date
    candidates: int = 0
    breaches: list[Overdue] = field(default_factory=list)
    expiries: list[Expiry] = field(default_factory=list)
    unknown: list[Overdue] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    """One line per issued event, in the order of ``outcomes``."""
    seconds: float = 0.0

    @property
    def statuses(self) -> Counter[str]:
        return Counter(o.status for o in self.outcomes)

    def to_json(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "candidates": self.candidates,
            "breaches": len(self.breaches),
            "expiries": len(self.expiries),
            "recorded": self.statuses["recorded"],
            "repeat": self.statuses["repeat"],
            "rejected": self.statuses["rejected"],
            "events": [o.to_json() for o in self.outcomes],
            "unknown": [
                {
                    "subject": u.subject,
                    "commitment": u.commitment,
                    "due": u.due.isoformat(),
                    "why": u.unknown,
                }
                for u in self.unknown
            ],
            "seconds": round(self.seconds, 3),
        }

    def summary(self) -> str:
        s = self.statuses
        return (
            f"tick {self.today}: {self.candidates} subjects checked, {len(self.breaches)} overdue "
            f"commitments, {len(self.expiries)} expired listings → {s['recorded']} recorded, "
            f"{s['repeat']} already recorded, {s['rejected']} refused; "
            f"{len(self.unknown)} undecidable (calendar) in {self.seconds:.2f} s"
        )


def tick(
    ledger: Ledger,
    *,
    now_us: int | None = None,
    as_of_us: int | None = None,
    source: str = SYSTEM_SOURCE,
    batch_size: int = 1000,
) -> TickReport:
    """Issue the breaches and expiries due by ``as_of_us`` (default: now), the day
    taken in China Standard Time, recording them at ``now_us`` (default: the
    ledger's clock). Needs the ledger's rule services (the calendar):
    ``ValueError`` without them, or when ``as_of_us`` is after the recording moment."""
    if ledger.rules is None:
        raise ValueError("ledger tick needs the rule services (the working-day calendar)")
    started = time.perf_counter()
    now = ledger.clock() if now_us is None else now_us
    if as_of_us is not None and as_of_us > now:
        raise ValueError("deadlines are judged up to the recording moment, not later")
    today = cst_day(now if as_of_us is None else as_of_us)
    report = TickReport(today)
    subjects = candidate_subjects(ledger, today)
    report.candidates = len(subjects)
    events: list[Envelope | Refused] = []
    for state in states(ledger, subjects):
        for overdue in overdue_commitments(state, today, ledger.rules.calendar):
            if overdue.deadline is None:
                report.unknown.append(overdue)
                continue
            report.breaches.append(overdue)
            events.append(breach_event(overdue, source))
            report.issued.append(
                f"{state.subject} breach of commitment {overdue.commitment} "
                f"(due {overdue.due}, deadline {overdue.deadline})"
            )
        for expiry in expired_designations(state, today):
            report.expiries.append(expiry)
            events.append(removal_event(expiry, source))
            report.issued.append(
                f"{state.subject} {expiry.list} listing {expiry.designation} "
                f"expired after {expiry.planned_end}"
            )
    for start in range(0, len(events), batch_size):
        chunk = events[start : start + batch_size]
        report.outcomes.extend(ledger.submit(chunk, now_us=now, system=True))
    report.seconds = time.perf_counter() - started
    return report
