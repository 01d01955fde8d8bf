"""Personal data of responsible persons: encrypted per person, erasable.

A ``credit.person.linked`` carries the person's identity number. The ledger never
stores it in clear: :func:`protect` replaces ``data.id_number`` with
``{"enc": <base64>, "key": <person key id>}`` BEFORE the event is decided and
appended, so the chain hash covers only the ciphertext.

* The person key id is a keyed hash (HMAC-SHA256 with the ledger's person
  secret, a file kept outside the database) of the normalised identity number:
  the same person always gets the same key id, and the id reveals nothing
  without the secret.
* Each person has their own 256-bit AES key in ``ledger_person_keys``
  (``person_key_id, key, created_us, erased_us``). The number is encrypted with
  AES-GCM, the key id as associated data, and a synthetic nonce (HMAC of the
  plaintext under the person's key): the same number gives the same ciphertext,
  so a resubmitted event is recognised as a repeat, and two different numbers
  never share a nonce under one key.
* :func:`erase_person` destroys the key (``key`` set to NULL, ``erased_us`` set):
  every ciphertext of that person becomes unreadable for good, while the
  records, the chain and the Merkle proofs stay exactly as they were. SQLite
  overwrites the freed bytes (``secure_delete``) and truncates its WAL;
  PostgreSQL keeps the old row version until ``VACUUM ledger_person_keys`` (and
  in WAL archives and backups: erase there too).
* :func:`reveal` is what readers call: the number in clear for authorised roles,
  masked for the public, ``"erased"`` after erasure.

After an erasure, a new ``credit.person.linked`` for the same number is refused
(``person-erased``): recording it again would undo the erasure.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from events.envelope import Envelope, Refused
from events.reasons import InvalidEvent, Reason

__all__ = [
    "CLEAR_ROLES",
    "PROTECTED_FIELDS",
    "KeyStore",
    "MemoryKeyStore",
    "PersonKey",
    "SQLKeyStore",
    "create_person_keys_table",
    "erase_person",
    "load_secret",
    "mask",
    "open_keystore",
    "protect",
    "protect_items",
    "reveal",
]

PERSON_LINKED = "credit.person.linked"
PROTECTED_FIELDS: tuple[str, ...] = ("id_number",)
"""The fields of ``credit.person.linked`` stored encrypted (the key id derives
from ``id_number``). Adding ``name`` here protects the name the same way once
every reader goes through :func:`reveal`."""
CLEAR_ROLES = frozenset({"agency", "auditor", "handler"})
"""Roles that may read personal data in clear; everyone else sees it masked."""
TABLE = "ledger_person_keys"
ERASED = "erased"


def _now_us() -> int:
    import time

    return time.time_ns() // 1000


def load_secret(path: Path) -> bytes:
    """The person secret (HMAC key of the person key ids) from ``path``; created
    (32 random bytes, hex, mode 0600) if the file does not exist."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
    text = path.read_text().strip()
    secret = bytes.fromhex(text)
    if len(secret) < 16:
        raise ValueError(f"{path}: the person secret must hold at least 16 bytes (hex)")
    return secret


@dataclass(frozen=True, slots=True)
class PersonKey:
    """One row of ``ledger_person_keys``; ``key`` is None once erased."""

    person_key_id: str
    key: bytes | None
    created_us: int
    erased_us: int | None


class KeyStore:
    """Per-person keys. Subclasses store them; this class holds the logic.

    ``key_id`` is pure (HMAC); ``key_for`` returns the person's key, creating it
    on first use (concurrent creators end up with the same key), and raises
    ``InvalidEvent(PERSON_ERASED)`` after erasure; ``lookup`` never creates.
    """

    def __init__(
        self, secret: bytes | Callable[[], bytes], clock: Callable[[], int] = _now_us
    ) -> None:
        self._secret_source = secret
        self._secret: bytes | None = secret if isinstance(secret, bytes) else None
        self.clock = clock

    @property
    def secret(self) -> bytes:
        """The HMAC secret, read (or created) on first use."""
        if self._secret is None:
            source = self._secret_source
            assert callable(source)
            self._secret = source()
        return self._secret

    # -- storage (subclasses) ---------------------------------------------------------
    def lookup(self, person_key_id: str) -> PersonKey | None:
        raise NotImplementedError

    def _insert(self, person_key_id: str, key: bytes, now_us: int) -> None:
        """Insert unless a row for the id exists (then do nothing)."""
        raise NotImplementedError

    def _erase(self, person_key_id: str, now_us: int) -> bool:
        """Wipe the key and set erased_us; False if it was already erased or unknown."""
        raise NotImplementedError

    # -- logic ------------------------------------------------------------------------
    def key_id(self, id_number: str) -> str:
        """The person key id of an identity number (case and spaces normalised)."""
        normalised = id_number.strip().upper().encode()
        return "pk-" + hmac.new(self.secret, normalised, hashlib.sha256).hexdigest()[:32]

    def key_for(self, person_key_id: str) -> bytes:
        """The person's key, created if new. ``InvalidEvent(PERSON_ERASED)`` if erased."""
        found = self.lookup(person_key_id)
        if found is None:
            self._insert(person_key_id, AESGCM.generate_key(bit_length=256), self.clock())
            found = self.lookup(person_key_id)
            assert found is not None
        if found.key is None:
            raise InvalidEvent(
                Reason.PERSON_ERASED,
                f"the responsible person {person_key_id} was erased; personal data about "
                "them is no longer recorded (a new link would undo the erasure)",
                field="data.id_number",
                person=person_key_id,
            )
        return found.key

    def erase(self, person_key_id: str) -> bool:
        """Destroy the person's key. True if a key was destroyed now."""
        return self._erase(person_key_id, self.clock())


class MemoryKeyStore(KeyStore):
    """Keys in a dict (tests, tools)."""

    def __init__(self, secret: bytes | None = None, clock: Callable[[], int] = _now_us) -> None:
        super().__init__(secret or secrets.token_bytes(32), clock)
        self.rows: dict[str, PersonKey] = {}

    def lookup(self, person_key_id: str) -> PersonKey | None:
        return self.rows.get(person_key_id)

    def _insert(self, person_key_id: str, key: bytes, now_us: int) -> None:
        self.rows.setdefault(person_key_id, PersonKey(person_key_id, key, now_us, None))

    def _erase(self, person_key_id: str, now_us: int) -> bool:
        row = self.rows.get(person_key_id)
        if row is None or row.key is None:
            return False
        self.rows[person_key_id] = PersonKey(person_key_id, None, row.created_us, now_us)
        return True


# -- the SQL key store -------------------------------------------------------------------


def _table(recorder: Any) -> str:
    schema = getattr(recorder.datastore, "schema", None)
    return f'"{schema}".{TABLE}' if schema else TABLE


def create_person_keys_table(recorder: Any) -> None:
    """Create ``ledger_person_keys`` next to the ledger tables (idempotent).
    ``recorder`` is the ledger's recorder (SQLite or PostgreSQL)."""
    blob = "bytea" if _is_postgres(recorder) else "BLOB"
    statement = (
        f"CREATE TABLE IF NOT EXISTS {_table(recorder)} ("
        "person_key_id text PRIMARY KEY, "
        f"key {blob}, "
        "created_us bigint NOT NULL, "
        "erased_us bigint)"
    )
    for attempt in range(5):  # several processes may race on CREATE … IF NOT EXISTS
        try:
            with _cursor(recorder) as cursor:
                cursor.execute(statement)
            return
        except Exception:
            if attempt == 4:
                raise
            import time

            time.sleep(0.2 * (attempt + 1))


def _is_postgres(recorder: Any) -> bool:
    return getattr(recorder, "placeholder", "?") == "%s"


@contextlib.contextmanager
def _cursor(recorder: Any) -> Iterator[Any]:
    """A cursor in a committed transaction, tuple rows on both stores."""
    if _is_postgres(recorder):
        from psycopg.rows import tuple_row

        with (
            recorder.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row) as cursor,
        ):
            yield cursor
    else:
        with recorder.datastore.transaction(commit=True) as cursor:
            yield cursor


class SQLKeyStore(KeyStore):
    """Keys in ``ledger_person_keys`` of the ledger's database (SQLite or PostgreSQL)."""

    def __init__(
        self,
        recorder: Any,
        secret: bytes | Callable[[], bytes],
        clock: Callable[[], int] = _now_us,
    ) -> None:
        super().__init__(secret, clock)
        self.recorder = recorder
        self._table = _table(recorder)
        self._p = "%s" if _is_postgres(recorder) else "?"

    def lookup(self, person_key_id: str) -> PersonKey | None:
        with _cursor(self.recorder) as cursor:
            cursor.execute(
                f"SELECT person_key_id, key, created_us, erased_us FROM {self._table} "
                f"WHERE person_key_id = {self._p}",
                (person_key_id,),
            )
            row = cursor.fetchone()
        if row is None:
            return None
        key = bytes(row[1]) if row[1] is not None else None
        return PersonKey(row[0], key, row[2], row[3])

    def _insert(self, person_key_id: str, key: bytes, now_us: int) -> None:
        p = self._p
        with _cursor(self.recorder) as cursor:
            cursor.execute(
                f"INSERT INTO {self._table} (person_key_id, key, created_us, erased_us) "
                f"VALUES ({p}, {p}, {p}, NULL) ON CONFLICT (person_key_id) DO NOTHING",
                (person_key_id, key, now_us),
            )

    def _erase(self, person_key_id: str, now_us: int) -> bool:
        p = self._p
        with _cursor(self.recorder) as cursor:
            if not _is_postgres(self.recorder):
                cursor.execute("PRAGMA secure_delete = ON")
            cursor.execute(
                f"SELECT erased_us FROM {self._table} WHERE person_key_id = {p}", (person_key_id,)
            )
            row = cursor.fetchone()
            changed = row is not None and row[0] is None
            if changed:
                cursor.execute(
                    f"UPDATE {self._table} SET key = NULL, erased_us = {p} "
                    f"WHERE person_key_id = {p}",
                    (now_us, person_key_id),
                )
        if changed and not _is_postgres(self.recorder):
            # Outside a transaction: copy the wiped page into the database file and
            # truncate the write-ahead log that still holds the old one.
            with (
                contextlib.suppress(sqlite3.Error),
                self.recorder.datastore.get_connection(commit=True) as conn,
            ):
                conn._sqlite_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return changed


def open_keystore(recorder: Any, secret: bytes | Path) -> SQLKeyStore:
    """The key store in the ledger's database, its table created if needed.
    ``secret`` is the HMAC secret, or the file holding it — read (and created, see
    :func:`load_secret`) only when a person is first protected or looked up."""
    create_person_keys_table(recorder)
    if isinstance(secret, Path):
        path = secret
        return SQLKeyStore(recorder, lambda: load_secret(path))
    return SQLKeyStore(recorder, secret)


# -- protect, reveal, erase ---------------------------------------------------------------


def _nonce(key: bytes, plaintext: bytes) -> bytes:
    return hmac.new(key, b"nonce:" + plaintext, hashlib.sha256).digest()[:12]


def _encrypt(key: bytes, person_key_id: str, value: str) -> str:
    plaintext = value.encode()
    nonce = _nonce(key, plaintext)
    sealed = AESGCM(key).encrypt(nonce, plaintext, person_key_id.encode())
    return base64.b64encode(nonce + sealed).decode()


def _decrypt(key: bytes, person_key_id: str, enc: str) -> str:
    raw = base64.b64decode(enc)
    return AESGCM(key).decrypt(raw[:12], raw[12:], person_key_id.encode()).decode()


def _protected(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("enc"), str) and "key" in value


def protect(envelope: Envelope, keystore: KeyStore) -> Envelope:
    """The envelope to decide and append: for ``credit.person.linked``, its
    ``PROTECTED_FIELDS`` replaced by ``{"enc", "key"}``; any other event, or one
    already protected, unchanged. Deterministic (a resubmission protects to the
    same bytes). Raises ``InvalidEvent(PERSON_ERASED)`` for an erased person."""
    if envelope.type != PERSON_LINKED:
        return envelope
    id_number = envelope.data.get("id_number")
    if not isinstance(id_number, str):
        return envelope
    person_key_id = keystore.key_id(id_number)
    key = keystore.key_for(person_key_id)
    data = dict(envelope.data)
    for name in PROTECTED_FIELDS:
        value = data.get(name)
        if isinstance(value, str):
            data[name] = {"enc": _encrypt(key, person_key_id, value), "key": person_key_id}
    return replace(envelope, data=data)


def protect_items(
    items: Sequence[Envelope | Refused], keystore: KeyStore
) -> list[Envelope | Refused]:
    """:func:`protect` over a submission; an erased person's event becomes a
    ``Refused`` (``person-erased``) at its index."""
    out: list[Envelope | Refused] = []
    for index, item in enumerate(items):
        if isinstance(item, Refused):
            out.append(item)
            continue
        try:
            out.append(protect(item, keystore))
        except InvalidEvent as exc:
            out.append(Refused(index, item.id, item.source, exc.rejection))
    return out


def mask(value: str) -> str:
    """An identity number for the public: the first 6 and the last character
    kept, the rest ``*`` (shorter than 10 characters: all masked)."""
    text = value.strip()
    if len(text) >= 10:
        return text[:6] + "*" * (len(text) - 7) + text[-1]
    return "*" * max(len(text), 1)


def reveal(data: dict[str, Any], keystore: KeyStore, role: str = "public") -> dict[str, Any]:
    """A copy of a stored event's ``data`` for a reader with ``role``: each
    protected field in clear (roles in ``CLEAR_ROLES``), masked (anyone else), or
    ``"erased"`` once the person's key is destroyed. Data without protected
    fields is returned as a copy, unchanged (for the public, a clear
    ``id_number`` is masked)."""
    out = dict(data)
    for name in PROTECTED_FIELDS:
        value = out.get(name)
        if isinstance(value, dict) and _protected(value):
            person_key_id = str(value["key"])
            row = keystore.lookup(person_key_id)
            if row is None or row.key is None:
                out[name] = ERASED
                continue
            clear = _decrypt(row.key, person_key_id, value["enc"])
            out[name] = clear if role in CLEAR_ROLES else mask(clear)
        elif isinstance(value, str) and role not in CLEAR_ROLES:
            out[name] = mask(value)
    return out


def erase_person(
    keystore: KeyStore, id_number: str | None = None, *, key_id: str | None = None
) -> tuple[str, bool]:
    """Destroy the key of the person with ``id_number`` (or ``key_id``).
    Returns (person key id, whether a key was destroyed now)."""
    if (id_number is None) == (key_id is None):
        raise ValueError("name the person by exactly one of id_number or key_id")
    person_key_id = key_id if key_id is not None else keystore.key_id(str(id_number))
    return person_key_id, keystore.erase(person_key_id)
