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

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from commands.agencies import Agencies
from commands.authority import check_recorded
from commands.state import SubjectState
from events.reasons import Rejection
from events.recorded import RecordedEvent
from events.vocabulary import EVENT_TYPES
from ledger.app import Ledger
from ledger.scans import records

__all__ = ["Unverified", "find_unverified"]


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
