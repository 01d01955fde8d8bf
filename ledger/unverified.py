"""``ledger unverified``: the records the authority rules would refuse now.

Records made before the authority rules (DOMAIN.md "Who may record what",
:mod:`commands.authority`) stay recorded and keep their effect: the ledger never
rewrites, and ``ledger verify`` stays green. This command lists them — each with
the refusal it would get today, naming the responsible agency — so that agency can
review them and, where a record is wrong, revoke (``credit.record.revoked``) or
correct (``credit.record.corrected``) it from its own source. The history and the
disclosure for non-public roles flag the same records (``authority: unverified``).

Reads the ledger once in position order, folding each subject's decision state as
it goes (one state per subject in memory). Exit status 0 whether or not any are
found (they are a review list, not an error).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from commands.agencies import Agencies
from commands.authority import check_recorded
from commands.state import SubjectState
from events.reasons import Rejection
from events.recorded import RecordedEvent
from events.vocabulary import EVENT_TYPES
from ledger.app import Ledger
from ledger.scans import records
from ledger.settings import Settings

__all__ = ["Unverified", "find_unverified", "register"]


@dataclass(frozen=True, slots=True)
class Unverified:
    """A recorded event the authority rules would refuse now."""

    record: RecordedEvent
    refusal: Rejection

    def to_json(self) -> dict[str, Any]:
        r = self.record
        return {
            "subject": r.subject,
            "seq": r.seq,
            "position": r.position,
            "id": r.id,
            "source": r.source,
            "type": r.type,
            "time": r.time,
            "code": str(self.refusal.code),
            "message": self.refusal.message,
            "responsible": self.refusal.details.get("responsible"),
        }


def find_unverified(
    ledger: Ledger, subject: str | None = None, agencies: Agencies | None = None
) -> Iterator[Unverified]:
    """Every recorded event (of ``subject`` only, if given) the authority rules
    would refuse now, in ledger position order."""
    if agencies is None:
        agencies = ledger.rule_services().agencies
    if subject is not None:
        source: Any = ledger.stream(subject)
    else:
        source = records(ledger)
    states: dict[str, SubjectState] = {}
    for record in source:
        state = states.get(record.subject)
        if state is None:
            state = states[record.subject] = SubjectState(record.subject)
        refusal = check_recorded(agencies, state, record)
        if refusal is not None:
            yield Unverified(record, refusal)
        spec = EVENT_TYPES.get(record.type)
        state.evolve(record, spec.references.keys() if spec is not None else ())


def register(subparsers: Any, bootstrap: Callable[[Settings], Ledger]) -> None:
    """Add ``unverified`` to the ``ledger`` command line."""
    p = subparsers.add_parser(
        "unverified",
        help="list recorded events the authority rules would refuse now (recorded before them)",
    )
    p.add_argument("--subject", metavar="CODE", help="only this subject's records")
    p.add_argument("--json", action="store_true", help="one JSON object per record and line")

    def handler(args: argparse.Namespace, settings: Settings) -> int:
        started = time.perf_counter()
        ledger = bootstrap(settings)
        count = 0
        for found in find_unverified(ledger, args.subject):
            count += 1
            if args.json:
                sys.stdout.write(orjson.dumps(found.to_json()).decode() + "\n")
            else:
                r = found.record
                sys.stdout.write(
                    f"{r.subject} #{r.seq} {r.id} {r.type} from {r.source}: "
                    f"{found.refusal.code}: {found.refusal.message}\n"
                )
        print(
            f"unverified: {count} recorded events the authority rules would refuse now "
            f"({time.perf_counter() - started:.1f} s)",
            file=sys.stderr,
        )
        return 0

    p.set_defaults(handler=handler)
