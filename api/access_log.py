"""The access log of personal data: who read what, when (JSON lines).

Every read of a subject's data that includes personal data (a history or a
standing of a subject with ``credit.person.linked`` records, by a role other
than the public) appends one line to the file::

    {"at": "2026-11-20T10:00:00.123456Z", "at_us": …, "who": "auditor-1",
     "role": "auditor", "token": "ab12cd34ef56", "what": "history",
     "subject": "91…", "as_of": … | null, "known_at": … | null,
     "client": "127.0.0.1"}

Appends are serialised by a lock and flushed before the read is answered; a
log that cannot be written fails the read (no unlogged access).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from api.tokens import Principal
from events.instants import from_us

__all__ = ["AccessLog", "AccessRecord"]


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One logged access."""

    at_us: int
    who: str
    role: str
    token: str | None
    what: str
    subject: str
    as_of: int | None = None
    known_at: int | None = None
    client: str | None = None

    def to_json(self) -> dict[str, Any]:
        at = from_us(self.at_us).isoformat().replace("+00:00", "Z")
        return {
            "at": at,
            "at_us": self.at_us,
            "who": self.who,
            "role": self.role,
            "token": self.token,
            "what": self.what,
            "subject": self.subject,
            "as_of": self.as_of,
            "known_at": self.known_at,
            "client": self.client,
        }


class AccessLog:
    """Append-only JSON-lines file of personal-data reads."""

    def __init__(self, path: Path, clock: Callable[[], int]) -> None:
        self.path = Path(path)
        self.clock = clock
        self._lock = threading.Lock()

    def record(
        self,
        principal: Principal,
        what: str,
        subject: str,
        *,
        as_of: int | None = None,
        known_at: int | None = None,
        client: str | None = None,
    ) -> AccessRecord:
        """Append one line (durably flushed) and return it."""
        entry = AccessRecord(
            self.clock(),
            principal.name,
            principal.role.value,
            principal.token_id,
            what,
            subject,
            as_of,
            known_at,
            client,
        )
        line = orjson.dumps(entry.to_json()) + b"\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as f:
                f.write(line)
                f.flush()
        return entry

    def read(self) -> Iterator[dict[str, Any]]:
        """Every logged access, oldest first (for tests and audits)."""
        if not self.path.exists():
            return
        with self.path.open("rb") as f:
            for line in f:
                if line.strip():
                    yield orjson.loads(line)
