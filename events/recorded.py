"""The event as the ledger recorded it: what every reader (commands, projections,
audit, API) gets back from a subject's stream.

It satisfies eventsourcing's ``DomainEventProtocol`` (``originator_id``,
``originator_version``), so the library's mapper, subscriptions and projection
machinery can carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """One immutable record of a subject's stream.

    ``seq`` (``originator_version``) runs 1, 2, 3 … per subject without gaps;
    ``position`` runs 0, 1, 2 … over the whole ledger without gaps; ``hash`` and
    ``prev`` are the AUDIT-FORMAT.md chain (lowercase hex).
    """

    originator_id: UUID
    originator_version: int
    subject: str
    id: str
    source: str
    type: str
    time: str
    time_us: int
    recorded_us: int
    data: dict[str, Any]
    schema_version: int
    position: int
    hash: str
    prev: str

    @property
    def seq(self) -> int:
        """Position in the subject's stream (1-based)."""
        return self.originator_version

    def to_json(self) -> dict[str, Any]:
        """The ``history --json`` shape (DESIGN.md)."""
        return {
            "seq": self.originator_version,
            "position": self.position,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time,
            "recorded_us": self.recorded_us,
            "data": self.data,
            "hash": self.hash,
            "prev": self.prev,
        }
