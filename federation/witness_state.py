"""What a witness keeps on disk (``ledger witness --state DIR``).

* ``DIR/origins/<origin>.json``: per origin, the last checkpoint the witness verified (signed,
  as published), the key it verified it with, the log's base URL and the witness's
  cosignature of it. Replaced atomically (temporary file, fsync, rename, fsync of the
  directory): after a crash it holds the old or the new state, never a mix.
* ``DIR/cosignatures/<origin>.jsonl``: every cosignature the witness made, one JSON object a
  line, appended (and fsynced) before the state moves on; what ``GET
  /v1/witness/cosignatures`` serves.
* ``DIR/evidence/<origin>-<kind>-<stored size>-<offered size>-<offered issued_us>.json``: one
  file per fork seen (the same fork seen again is not written twice): both signed checkpoints,
  the proof that failed when one was offered, and the key (:mod:`federation.witness`,
  :func:`~federation.witness.check_evidence`).

File names carry the origin made safe for a file name plus 8 hex digits of its SHA-256, so
two origins never share a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ledger.audit.checkpoint_log import fsync_dir

__all__ = ["WitnessState", "write_atomically"]


def _file_name(origin: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", origin).lstrip(".")[:80] or "origin"
    return f"{safe}.{hashlib.sha256(origin.encode()).hexdigest()[:8]}"


def write_atomically(path: Path, data: bytes) -> None:
    """Put ``data`` at ``path`` atomically and durably (parents made).

    Raises:
        OSError: it cannot be written (the old file, if any, is left as it was).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


@dataclass(frozen=True)
class WitnessState:
    """The witness's directory."""

    directory: Path

    def _origin_path(self, origin: str) -> Path:
        return self.directory / "origins" / f"{_file_name(origin)}.json"

    def _cosignatures_path(self, origin: str) -> Path:
        return self.directory / "cosignatures" / f"{_file_name(origin)}.jsonl"

    def load(self, origin: str) -> dict[str, Any] | None:
        """The stored state of ``origin`` (``{"origin", "checkpoint", "public_key",
        "base_url", "cosignature"}``), or None before its first checkpoint."""
        path = self._origin_path(origin)
        try:
            state: dict[str, Any] = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        return state

    def origins(self) -> list[str]:
        """Every origin with a stored state."""
        folder = self.directory / "origins"
        if not folder.is_dir():
            return []
        return sorted(str(orjson.loads(p.read_bytes())["origin"]) for p in folder.glob("*.json"))

    def save(self, origin: str, state: dict[str, Any]) -> None:
        """Replace ``origin``'s state atomically."""
        write_atomically(self._origin_path(origin), orjson.dumps(state, option=orjson.OPT_INDENT_2))

    def append_cosignature(self, origin: str, cosignature: dict[str, Any]) -> None:
        """Append one cosignature to ``origin``'s list, durably."""
        path = self._cosignatures_path(origin)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab") as f:
            f.write(orjson.dumps(cosignature) + b"\n")
            f.flush()
            os.fsync(f.fileno())

    def cosignatures(self, origin: str, size: int | None = None) -> list[dict[str, Any]]:
        """``origin``'s cosignatures, newest first; only those of tree ``size`` if given.
        A torn last line (a crash while appending) is skipped."""
        path = self._cosignatures_path(origin)
        found: list[dict[str, Any]] = []
        for line in _lines(path):
            try:
                cosignature = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if size is None or cosignature.get("size") == size:
                found.append(cosignature)
        found.reverse()
        return found

    def evidence_path(self, origin: str, kind: str, stored: int, offered: int, issued: int) -> Path:
        return (
            self.directory
            / "evidence"
            / f"{_file_name(origin)}-{kind}-{stored}-{offered}-{issued}.json"
        )

    def keep_evidence(self, path: Path, evidence: dict[str, Any]) -> bool:
        """Write ``evidence`` at ``path`` unless it is already there; True if written."""
        if path.exists():
            return False
        write_atomically(path, orjson.dumps(evidence, option=orjson.OPT_INDENT_2) + b"\n")
        return True


def _lines(path: Path) -> Iterator[bytes]:
    try:
        with open(path, "rb") as f:
            yield from f
    except FileNotFoundError:
        return
