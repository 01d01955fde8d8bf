"""What ``ledger verify`` reports: the first :class:`Failure` and the :class:`VerifyReport`.

A failure names the first bad record (position, subject, seq, event id) and the check, or a
range ``position``..``last_position`` the altered record lies in when only a range can be
named; :func:`earlier` picks, of two failures, the one a person should see first. The
report's ``summary()`` and ``to_json()`` are the command's output, unchanged by where the
checks run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Failure", "VerifyReport", "earlier"]


@dataclass(frozen=True, slots=True)
class Failure:
    """The first thing found wrong. ``check`` is one of ``position``, ``hash``, ``chain``,
    ``stream``, ``time``, ``tree``, ``checkpoint``, ``published`` (the store is not
    consistent with the checkpoint log, :mod:`ledger.audit.checkpoint_log`); ``position``..``last_position`` is the
    range the altered record lies in (``last_position`` None: the record itself is known)."""

    check: str
    message: str
    position: int | None = None
    subject: str | None = None
    seq: int | None = None
    event_id: str | None = None
    last_position: int | None = None

    @property
    def last(self) -> int | None:
        """The highest position the failure may concern."""
        return self.position if self.last_position is None else self.last_position

    def where(self) -> str:
        """``position 17 subject … seq 3 id …``, ``positions 16..31`` or ``ledger``."""
        if self.position is None:
            return "ledger"
        if self.last_position is not None and self.last_position != self.position:
            return f"positions {self.position}..{self.last_position}"
        who = [f"position {self.position}"]
        if self.subject is not None:
            who.append(f"subject {self.subject}")
        if self.seq is not None:
            who.append(f"seq {self.seq}")
        if self.event_id is not None:
            who.append(f"id {self.event_id}")
        return " ".join(who)

    def describe(self) -> str:
        """One line for a person: where, check, what."""
        return f"{self.where()}: {self.check}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def earlier(a: Failure | None, b: Failure | None) -> Failure | None:
    """The failure that concerns the earlier record; a failure naming one record wins over a
    range that contains it."""
    if a is None or b is None:
        return a or b
    if a.position is None or b.position is None:
        return a if a.position is None else b
    if (a.last or 0) < b.position:
        return a
    if (b.last or 0) < a.position:
        return b
    if (a.last_position is None) != (b.last_position is None):
        return a if a.last_position is None else b
    return a if a.position <= b.position else b


@dataclass
class VerifyReport:
    """What :func:`verify_store` checked and the first failure, if any."""

    records: int = 0
    subjects: int = 0
    checkpoints: int = 0
    checkpoint_size: int | None = None
    """The size of the largest stored checkpoint the ledger was checked against (None: none
    was stored)."""
    stored_nodes: int = 0
    published: int = 0
    """Checkpoints of the checkpoint log (or given) the store was checked against."""
    published_size: int | None = None
    """The size of the newest of them (None: none)."""
    seconds: float = 0.0
    workers: int = 1
    failure: Failure | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """The one-line summary with figures."""
        line = (
            f"{'OK' if self.ok else 'FAILED'}: {self.records:,} records of {self.subjects:,} "
            f"subjects, {self.stored_nodes:,} stored tree nodes and {self.checkpoints} "
            f"checkpoints checked in {self.seconds:.1f} s ({self.records_per_s:,.0f} records/s)"
        )
        if self.published_size is not None:
            line += (
                f"; consistent with {self.published} published checkpoints (newest: size "
                f"{self.published_size:,})"
                if self.published
                else f"; checked against the published checkpoint of size {self.published_size:,}"
            )
        if self.failure is not None:
            line += f"; first failure: {self.failure.describe()}"
        return line

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "subjects": self.subjects,
            "checkpoints": self.checkpoints,
            "stored_nodes": self.stored_nodes,
            "published": self.published,
            "published_size": self.published_size,
            "seconds": round(self.seconds, 3),
            "records_per_s": round(self.records_per_s),
            "workers": self.workers,
            "failure": None if self.failure is None else self.failure.to_json(),
            "warnings": self.warnings,
        }
