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

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson

from commands.decide import SYSTEM_SOURCE
from commands.workflows.commitments import Overdue, breach_event, overdue_commitments
from commands.workflows.common import cst_day
from commands.workflows.lists import Expiry, expired_designations, removal_event
from entrypoints.settings import Settings
from events.envelope import Envelope, Refused
from events.instants import InvalidInstant, parse_instant
from ledger.app import Ledger, Outcome, system_clock_us
from ledger.scans import records, states

__all__ = ["TickReport", "candidate_subjects", "register", "tick"]

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


# -- the command line ---------------------------------------------------------------------


def register(subparsers: Any, bootstrap: Callable[[Settings], Ledger]) -> None:
    """Add ``tick`` to the ``ledger`` command line (``subparsers`` of argparse)."""
    p = subparsers.add_parser(
        "tick",
        help="record overdue conditional acceptances as breached and expired listings as removed",
    )
    p.add_argument(
        "--at",
        help="judge deadlines as of this instant (RFC 3339 or YYYY-MM-DD = end of that day, "
        "CST); not later than now; default now",
    )
    p.add_argument("--json", action="store_true", help="a JSON report on standard output")

    def handler(args: argparse.Namespace, settings: Settings) -> int:
        return cmd_tick(args, settings, bootstrap)

    p.set_defaults(handler=handler)


def cmd_tick(
    args: argparse.Namespace, settings: Settings, bootstrap: Callable[[Settings], Ledger]
) -> int:
    ledger = bootstrap(settings)
    at = parse_instant(args.at) if args.at else None
    if at is not None and at > system_clock_us():
        raise InvalidInstant(f"--at {args.at} is in the future; deadlines are judged up to now")
    report = tick(ledger, as_of_us=at)
    _print(report, args.json, sys.stdout)
    print(report.summary(), file=sys.stderr)
    return (
        1
        if any(o.status == "rejected" and o.code != "out-of-order" for o in report.outcomes)
        else 0
    )


def _print(report: TickReport, as_json: bool, out: Any) -> None:
    if as_json:
        out.write(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    for outcome, what in zip(report.outcomes, report.issued, strict=True):
        code = f": {outcome.code}" if outcome.code else ""
        out.write(f"{outcome.status:<9} {what}{code}\n")
    for u in report.unknown:
        out.write(f"undecided {u.subject} commitment {u.commitment} due {u.due}: {u.unknown}\n")
