"""The erasure log: every person erasure, written outside the database, so that a
restore cannot bring an erased person back.

``LEDGER_ERASURE_LOG`` (default ``./erasures.jsonl``) is an append-only file of
JSON lines ``{"person_key_id": "pk-…", "erased_us": …}``. It names key ids only —
random ones, or legacy ones derived under a secret destroyed at the erasure — so
it reveals no identity number. ``ledger erase-person`` appends the line BEFORE it
destroys the key (an interrupted erasure is completed by the next re-application).

:func:`services.persons.reapply_erasures` runs after ``ledger restore``: it destroys again every
logged key the restored database still holds (and its index rows), then rotates
the person secret (re-keying the restored index; a restored old secret file is
destroyed with it). With nothing logged it does nothing (an index keyed with a
secret the file no longer holds is reported when a person is next linked:
``ledger rotate-person-secret`` re-keys it).
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson

__all__ = ["ErasureLog"]


class ErasureLog:
    """The append-only log at ``path`` (created on first append, mode 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def append(self, person_key_id: str, erased_us: int) -> None:
        """Append one erasure and flush it to disk before returning."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = orjson.dumps({"person_key_id": person_key_id, "erased_us": erased_us}) + b"\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def key_ids(self) -> list[str]:
        """Every logged key id, in log order, once each (unreadable lines — e.g. a
        line torn by a crash — are skipped)."""
        if not self.path.exists():
            return []
        found: dict[str, None] = {}
        for line in self.path.read_bytes().splitlines():
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            key_id = entry.get("person_key_id") if isinstance(entry, dict) else None
            if isinstance(key_id, str):
                found[key_id] = None
        return list(found)
