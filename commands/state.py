"""What the decisions need to know about a subject: the fold of its stream.

``SubjectState`` is the accumulator of ``evolve``. It is deliberately small: the
facts rules look at (which events exist, their type, agency and valid time, what
was revoked), the stream head (version and hash, for the chain) and nothing that
belongs to a read model. Read models live in ``projections/``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from events.recorded import RecordedEvent

GENESIS = "0" * 64
"""``prev`` of a subject's first record (AUDIT-FORMAT.md)."""


@dataclass(frozen=True, slots=True)
class EventFacts:
    """The facts about one earlier event that rules consult."""

    id: str
    type: str
    source: str
    time_us: int
    seq: int
    data: dict[str, Any]


@dataclass(slots=True)
class SubjectState:
    """The decision state of one subject's stream.

    ``version`` is the seq of the last record (0 for a new subject) and ``head``
    its hash. ``events`` maps each CloudEvents ``id`` in the stream to its facts;
    ``ambiguous`` holds ids used by two agencies on this subject (a reference to
    one cannot be resolved). ``revoked`` holds ids a ``credit.record.revoked``
    targets.
    """

    subject: str
    version: int = 0
    head: str = GENESIS
    events: dict[str, EventFacts] = field(default_factory=dict)
    ambiguous: set[str] = field(default_factory=set)
    revoked: set[str] = field(default_factory=set)
    referenced_by: dict[str, list[str]] = field(default_factory=dict)
    """For each id, the ids of later events whose reference fields name it."""

    def copy(self) -> SubjectState:
        """An independent copy: evolving it leaves this state unchanged (facts are
        immutable and shared)."""
        return SubjectState(
            self.subject,
            self.version,
            self.head,
            dict(self.events),
            set(self.ambiguous),
            set(self.revoked),
            {k: list(v) for k, v in self.referenced_by.items()},
        )

    def evolve(self, event: RecordedEvent, ref_fields: Iterable[str] = ()) -> None:
        """Apply one recorded event (the next in the stream) to this state, in place.

        ``ref_fields`` names the event type's reference fields (from the
        vocabulary), so the state can index who points at what. The caller
        guarantees ``event.seq == self.version + 1``.
        """
        if event.id in self.events:
            self.ambiguous.add(event.id)
        self.events[event.id] = EventFacts(
            event.id, event.type, event.source, event.time_us, event.seq, event.data
        )
        for name in ref_fields:
            target = event.data.get(name)
            if isinstance(target, str):
                self.referenced_by.setdefault(target, []).append(event.id)
        if event.type == "credit.record.revoked":
            target = event.data.get("target")
            if isinstance(target, str):
                self.revoked.add(target)
        self.version = event.seq
        self.head = event.hash
