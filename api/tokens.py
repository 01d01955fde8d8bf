"""Bearer tokens and the principals they stand for (``LEDGER_TOKENS_FILE``).

The file is JSON: ``{"version": 1, "tokens": [entry, …]}`` where each entry is
``{"id", "sha256", "role", "agency", "name", "created", "subject"}`` (``subject``: the
USCC a ``subject`` token is bound to; absent or null for the other roles). Only the SHA-256 of a
token is stored (hex); the token itself is shown once, by :meth:`TokenStore.add`.
``id`` is a short public handle (the first 12 hex digits of the hash) for
listing and revoking. ``created`` is RFC 3339 UTC.

The store re-reads the file when its modification time or size changes, so
``ledger token add`` / ``revoke`` take effect in a running server without a
restart. Writes are atomic (temporary file + rename) and the file is created
with mode 0600.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import tempfile
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson

from events.codes import validate_subject_code
from events.reasons import InvalidEvent

__all__ = ["ANONYMOUS", "Principal", "Role", "TokenEntry", "TokenError", "TokenStore"]

TOKEN_PREFIX = "clt_"


class Role(StrEnum):
    """Who may do what (DESIGN.md "HTTP API", api/auth.py has the matrix)."""

    AGENCY = "agency"
    AUDITOR = "auditor"
    HANDLER = "objection-handler"
    SUBJECT = "subject"
    """A market subject itself, bound to one USCC: its own records, objections,
    repair requests and commitments only (DESIGN.md "Additions of the second wave")."""
    PUBLIC = "public"


class TokenError(ValueError):
    """A token operation cannot be done (bad role, missing agency, unknown id)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking. ``agency`` is the ``source`` an agency may emit as (None
    for other roles unless given); ``subject`` the USCC a subject token is bound to
    (None for every other role); ``token_id`` is None for the anonymous public."""

    role: Role
    name: str
    agency: str | None = None
    token_id: str | None = None
    subject: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.token_id is None


ANONYMOUS = Principal(Role.PUBLIC, "anonymous")


@dataclass(frozen=True, slots=True)
class TokenEntry:
    """One stored token: its hash and the principal it maps to."""

    id: str
    sha256: str
    role: str
    agency: str | None
    name: str
    created: str
    subject: str | None = None

    def principal(self) -> Principal:
        return Principal(Role(self.role), self.name, self.agency, self.id, self.subject)

    def public_json(self) -> dict[str, Any]:
        """The entry without its hash (for `token list`)."""
        out = asdict(self)
        del out["sha256"]
        return out


def _subject_of(role: Role, subject: str | None, agency: str | None) -> str | None:
    """The validated code a token of ``role`` is bound to (None for the roles that
    are bound to none)."""
    if role is not Role.SUBJECT:
        if subject:
            raise TokenError("--subject binds only a subject token (--role subject)")
        return None
    if agency:
        raise TokenError("a subject token speaks as subject/USCC: give --subject, not --agency")
    if not subject:
        raise TokenError("a subject token needs --subject CODE (its unified social credit code)")
    try:
        return validate_subject_code(subject.strip().upper())
    except InvalidEvent as e:
        raise TokenError(e.rejection.message) from e


def token_hash(token: str) -> str:
    """Hex SHA-256 of the token's UTF-8 bytes."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """The tokens file: add, list, revoke, and verify a presented token."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._by_hash: dict[str, TokenEntry] = {}
        self._entries: list[TokenEntry] = []

    # -- reading -------------------------------------------------------------------
    def _load(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._entries, self._by_hash = None, [], {}
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        raw = orjson.loads(self.path.read_bytes() or b"{}")
        entries = [TokenEntry(**{"subject": None, **e}) for e in raw.get("tokens", [])]
        self._entries = entries
        self._by_hash = {e.sha256: e for e in entries}
        self._stamp = stamp

    def entries(self) -> list[TokenEntry]:
        """Every stored token entry, oldest first."""
        with self._lock:
            self._load()
            return list(self._entries)

    def verify(self, token: str) -> Principal | None:
        """The principal of a presented token, or None if it is unknown or revoked."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        digest = token_hash(token)
        with self._lock:
            self._load()
            entry = self._by_hash.get(digest)
        if entry is None or not secrets.compare_digest(entry.sha256, digest):
            return None
        return entry.principal()

    # -- writing -------------------------------------------------------------------
    def add(
        self,
        role: str,
        *,
        agency: str | None = None,
        name: str | None = None,
        subject: str | None = None,
        now: datetime | None = None,
    ) -> tuple[str, TokenEntry]:
        """Create a token; returns (the token, shown only now; its entry).

        Raises :class:`TokenError` for an unknown role, for ``public`` (the public
        needs no token), for an agency token without ``agency``, for a subject token
        without a valid ``subject`` code (or with an ``agency``), and for ``subject``
        on any other role.
        """
        try:
            parsed = Role(role)
        except ValueError as e:
            roles = ", ".join(r.value for r in Role if r is not Role.PUBLIC)
            raise TokenError(f"unknown role {role!r}; one of {roles}") from e
        if parsed is Role.PUBLIC:
            raise TokenError("the public needs no token")
        if parsed is Role.AGENCY and not agency:
            raise TokenError("an agency token needs --agency CODE (the source it emits as)")
        subject = _subject_of(parsed, subject, agency)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = token_hash(token)
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        entry = TokenEntry(
            id=digest[:12],
            sha256=digest,
            role=parsed.value,
            agency=agency or None,
            name=name or agency or subject or parsed.value,
            created=moment.isoformat(timespec="seconds").replace("+00:00", "Z"),
            subject=subject,
        )
        with self._lock:
            self._load()
            self._write([*self._entries, entry])
        return token, entry

    def revoke(self, key: str) -> list[TokenEntry]:
        """Remove the tokens whose id (or id prefix of ≥ 6 digits) or name is ``key``.

        Returns the removed entries. Raises :class:`TokenError` if none matched.
        """
        with self._lock:
            self._load()

            def matches(e: TokenEntry) -> bool:
                return e.name == key or (len(key) >= 6 and e.id.startswith(key))

            gone = [e for e in self._entries if matches(e)]
            if not gone:
                raise TokenError(f"no token with id or name {key!r}")
            self._write([e for e in self._entries if not matches(e)])
        return gone

    def _write(self, entries: list[TokenEntry]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = orjson.dumps(
            {"version": 1, "tokens": [asdict(e) for e in entries]}, option=orjson.OPT_INDENT_2
        )
        fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(body + b"\n")
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._stamp = None
        self._load()
