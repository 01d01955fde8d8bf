"""What happened to each submitted event (``Outcome``), and the answers every write path
gives the same way: a rejection, a repeat of a recorded (source, id), an id reused for
different content."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from events.envelope import Envelope
from events.reasons import Reason, Rejection
from events.recorded import RecordedEvent
from events.vocabulary import ref_fields
from ledger import chain

__all__ = [
    "Outcome",
    "Status",
    "content",
    "id_reused",
    "ref_fields",
    "rejected",
    "repeat_of",
    "same_content",
]

Status = Literal["recorded", "repeat", "rejected"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one submitted event (DESIGN.md ``submit --json``)."""

    index: int
    id: str | None
    source: str | None
    status: Status
    code: str | None = None
    message: str | None = None
    record: RecordedEvent | None = None
    """The record: the new one, or for a repeat the first recording."""
    details: dict[str, Any] = field(default_factory=dict)
    """For a rejection, machine-readable extras (field, earliest date …)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "status": self.status,
            "code": self.code,
            "message": self.message,
        }
        if self.record is not None:
            r = self.record
            out.update(subject=r.subject, seq=r.seq, position=r.position, hash=r.hash)
        if self.details:
            out["details"] = self.details
        return out


def rejected(index: int, id: str | None, source: str | None, rejection: Rejection) -> Outcome:
    return Outcome(
        index,
        id,
        source,
        "rejected",
        str(rejection.code),
        rejection.message,
        details=dict(rejection.details),
    )


def same_content(envelope: Envelope, record: RecordedEvent) -> bool:
    """Whether a resubmission says exactly what the first recording said."""
    return (
        envelope.type == record.type
        and envelope.subject == record.subject
        and envelope.time == record.time
        and chain.canonical(envelope.data) == chain.canonical(record.data)
    )


def repeat_of(index: int, envelope: Envelope, record: RecordedEvent) -> Outcome:
    """The answer to ``envelope`` whose (source, id) is already ``record``'s: a repeat
    if it says the same, else a rejection (the id was reused)."""
    if same_content(envelope, record):
        return Outcome(index, envelope.id, envelope.source, "repeat", record=record)
    return rejected(index, envelope.id, envelope.source, id_reused(envelope))


def content(env: Envelope) -> dict[str, Any]:
    """What a resubmission must repeat exactly: type, subject, valid time and data."""
    return {"type": env.type, "subject": env.subject, "time": env.time, "data": env.data}


def id_reused(env: Envelope) -> Rejection:
    return Rejection(
        Reason.ID_REUSED,
        f"id '{env.id}' from {env.source} was already used for a different event; "
        "an id may be resubmitted only with identical content",
        {"field": "id"},
    )
