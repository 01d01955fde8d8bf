"""Sealing personal data of responsible persons: encrypted per person, erasable for good.

(The keys and the index are stored by :mod:`ledger.store.person_keys`, or in memory by
:class:`MemoryKeyStore`; the person service that links and erases is ``ledger.persons``.)

A ``credit.person.linked`` carries the person's identity number. The ledger never
stores it in clear: :func:`protect` replaces ``data.id_number`` with a sealed value
``{"enc": <base64>, "key": <person key id>}`` BEFORE the event is decided and
appended, so the chain hash covers only the ciphertext. A correction that changes
the number (``data.changes.id_number`` of ``credit.record.corrected`` or of an
upheld ``credit.objection.resolved``) is sealed exactly the same way.

* The person key id is RANDOM (``pk-`` + 32 hex digits): it is derived from
  nothing, so the records, the chain and every backup hold no function of the
  number. Older ledgers derived it as an HMAC of the number ("legacy" key ids);
  those stay in their records, see rotation below.
* Each person has their own 256-bit AES key in ``ledger_person_keys``
  (``person_key_id, key, created_us, erased_us``). The number is encrypted with
  AES-GCM, the key id as associated data, and a synthetic nonce (HMAC of the
  plaintext under the person's key): the same number gives the same ciphertext,
  so a resubmitted event is recognised as a repeat.
* The ONLY link from a number to its key id is a row of ``ledger_person_index``
  (``lookup, person_key_id, number_enc``): ``lookup`` is an HMAC of the
  normalised number under the person secret (a file outside the database,
  :class:`PersonSecrets`), ``number_enc`` the number sealed under the person's
  own key (so the index can be re-keyed without knowing any number in clear).
  ``ledger_person_secret`` holds the fingerprint of the secret the lookups are
  keyed with; creating a row and re-keying lock it, so they never interleave.
* :meth:`KeyStore.erase` destroys the key (``key`` NULL, ``erased_us`` set) and
  deletes the person's index rows in one transaction; :meth:`KeyStore.rotate`
  then replaces the person secret with a new one, re-keys every remaining index
  row (legacy persons are indexed first, their numbers read from the records
  with their own keys) and overwrites the old secret: afterwards no secret the
  ledger keeps links the erased number to its old key id — not the index (row
  gone), not a legacy key id (its secret destroyed), not a ciphertext (key gone).
  SQLite overwrites freed bytes (``secure_delete``) and truncates its WAL;
  PostgreSQL keeps old row versions until ``VACUUM`` (and in WAL archives and
  backups: erasures are logged outside the database and re-applied after a
  restore, ``ledger.erasures``).
* A later link of the same number finds no index row and starts a fresh key.
* :func:`reveal` is what readers call: the number in clear for authorised roles,
  masked for the public (:func:`events.personal.mask_id_number`), ``"erased"``
  after erasure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from events.envelope import Envelope, Refused
from events.personal import CORRECTION_CARRIERS, PERSONAL_FIELDS, is_sealed, mask_id_number
from events.reasons import InvalidEvent, Reason, Rejection
from ledger.person_secrets import PersonSecrets, fingerprint, load_secret

__all__ = [
    "CLEAR_ROLES",
    "PROTECTED_FIELDS",
    "IndexRow",
    "KeyStore",
    "Keyed",
    "MemoryKeyStore",
    "PersonKey",
    "PersonSecrets",
    "Rebuild",
    "StaleIndex",
    "erase_person",
    "fingerprint",
    "load_secret",
    "mask",
    "now_us",
    "protect",
    "protect_items",
    "reveal",
]

PERSON_LINKED = "credit.person.linked"
PROTECTED_FIELDS: tuple[str, ...] = PERSONAL_FIELDS[PERSON_LINKED]
"""The fields of ``credit.person.linked`` stored sealed (the person key is the
one of ``id_number``)."""
CLEAR_ROLES = frozenset({"agency", "auditor", "handler"})
"""Roles that may read personal data in clear; everyone else sees it masked."""
ERASED = "erased"


def now_us() -> int:
    """The wall clock in microseconds since the epoch (the key stores' default clock)."""
    import time

    return time.time_ns() // 1000


# -- sealing -------------------------------------------------------------------------------


def _normalised(id_number: str) -> str:
    return id_number.strip().upper()


def _lookup(secret: bytes, id_number: str) -> str:
    """The index lookup of a number (domain-separated from legacy key ids)."""
    message = b"person-index:" + _normalised(id_number).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def legacy_key_id(secret: bytes, id_number: str) -> str:
    """The key id older ledgers derived from the number (kept to find their persons)."""
    digest = hmac.new(secret, _normalised(id_number).encode(), hashlib.sha256).hexdigest()
    return "pk-" + digest[:32]


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


# -- the key store ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonKey:
    """One row of ``ledger_person_keys``; ``key`` is None once erased."""

    person_key_id: str
    key: bytes | None
    created_us: int
    erased_us: int | None


@dataclass(frozen=True, slots=True)
class IndexRow:
    """One row of ``ledger_person_index``: the only link from a number to a key id."""

    lookup: str
    person_key_id: str
    number_enc: str


Keyed = Callable[[str], tuple[str, str]]
"""Given the fingerprint the index is keyed with ("" for a new index): the lookup
of the number under that secret, and the fingerprint to keep."""
Rebuild = Callable[[list[IndexRow], dict[str, bytes]], list[IndexRow]]
"""Given every index row and every live key: the rows the index should hold."""


class StaleIndex(RuntimeError):
    """The index is keyed with a secret the person secret file no longer holds."""


class KeyStore:
    """Per-person keys and the erasable number index. Subclasses store them; this
    class holds the logic (module docstring).

    ``find`` never creates; ``key_for`` returns the person's key id and key,
    creating both on first use (concurrent creators end up with the same key id);
    ``erase`` destroys a key and its index rows; ``rotate`` replaces the secret.
    """

    def __init__(
        self, secrets_: PersonSecrets | bytes | Path, clock: Callable[[], int] = now_us
    ) -> None:
        if isinstance(secrets_, bytes):
            secrets_ = PersonSecrets(initial=[secrets_])
        elif isinstance(secrets_, Path):
            secrets_ = PersonSecrets(secrets_)
        self.secrets = secrets_
        self.clock = clock

    # -- storage (subclasses) ---------------------------------------------------------
    def lookup(self, person_key_id: str) -> PersonKey | None:
        raise NotImplementedError

    def _index_find(self, lookups: Sequence[str]) -> str | None:
        """The key id of the first index row whose lookup is one of ``lookups``."""
        raise NotImplementedError

    def _claim(self, keyed: Keyed, new: PersonKey, number_enc: str) -> str:
        """Under the index lock: the key id the number's lookup maps to; when none,
        insert ``new`` (unless its key row exists) and the index row pointing at it."""
        raise NotImplementedError

    def _erase(self, person_key_id: str, now_us: int) -> bool:
        """Wipe the key, set erased_us and delete its index rows, in one transaction;
        False if it was already erased or unknown (index rows are deleted anyway)."""
        raise NotImplementedError

    def _reindex(self, name: str, rebuild: Rebuild) -> None:
        """Under the index lock: replace every index row by ``rebuild``'s and record
        ``name`` as the fingerprint the index is keyed with."""
        raise NotImplementedError

    def _indexed_and_live(self) -> tuple[set[str], set[str]]:
        """(key ids with an index row, key ids with a live key)."""
        raise NotImplementedError

    # -- logic ------------------------------------------------------------------------
    def find(self, id_number: str, *, include_erased: bool = False) -> str | None:
        """The key id the number maps to now (case and spaces normalised): its index
        row, else a legacy key id with a live key (or an erased one when
        ``include_erased``); None when the ledger knows no such person."""
        held = self.secrets.all()
        found = self._index_find([_lookup(s, id_number) for s in held])
        if found is not None:
            return found
        for secret in held:
            legacy = legacy_key_id(secret, id_number)
            row = self.lookup(legacy)
            if row is not None and (row.key is not None or include_erased):
                return legacy
        return None

    def key_id(self, id_number: str) -> str | None:
        """Alias of :meth:`find` (live persons only)."""
        return self.find(id_number)

    def key_for(self, id_number: str) -> tuple[str, bytes]:
        """The person's key id and key, created if the number has no live person
        (never seen, or erased: a later link starts a fresh key)."""
        held = self.secrets.all()
        indexed = self._index_find([_lookup(s, id_number) for s in held])
        if indexed is not None:
            row = self.lookup(indexed)
            if row is not None and row.key is not None:
                return indexed, row.key
        for secret in held:
            row = self.lookup(legacy_key_id(secret, id_number))
            if row is not None and row.key is not None:
                # A person of an older ledger: index them now; their key id stays.
                return self._claimed(id_number, row)
        key = AESGCM.generate_key(bit_length=256)
        return self._claimed(
            id_number, PersonKey("pk-" + secrets.token_hex(16), key, self.clock(), None)
        )

    def _claimed(self, id_number: str, candidate: PersonKey) -> tuple[str, bytes]:
        """Claim the number's index row for ``candidate`` (whoever claimed it first
        wins). Raises :class:`StaleIndex` when the index is keyed with a secret this
        store does not hold (never re-keyed here: a process holding an old secret
        must not undo a rotation)."""
        assert candidate.key is not None
        enc = _encrypt(candidate.key, candidate.person_key_id, _normalised(id_number))
        claimed = self._claim(self._keyed(id_number), candidate, enc)
        row = self.lookup(claimed)
        if row is None or row.key is None:  # pragma: no cover - erased while claimed
            raise RuntimeError(f"person key {claimed} was erased while it was claimed")
        return claimed, row.key

    def _keyed(self, id_number: str) -> Keyed:
        def keyed(name: str) -> tuple[str, str]:
            if name == "":
                current = self.secrets.current
                return _lookup(current, id_number), fingerprint(current)
            secret = self.secrets.by_fingerprint(name)
            if secret is None:
                raise StaleIndex(
                    "the person index is keyed with a secret LEDGER_PERSON_SECRET_FILE "
                    "does not hold; run `ledger rotate-person-secret` to re-key it"
                )
            return _lookup(secret, id_number), name

        return keyed

    def open_sealed(self, value: object) -> tuple[str, str] | None:
        """(key id, number) of a sealed value whose key is live, else None."""
        if not is_sealed(value):
            return None
        assert isinstance(value, dict)
        row = self.lookup(value["key"])
        if row is None or row.key is None:
            return None
        try:
            return row.person_key_id, _decrypt(row.key, row.person_key_id, value["enc"])
        except (InvalidTag, ValueError):
            return None

    def unindexed(self) -> set[str]:
        """Live key ids without an index row (legacy persons not yet indexed)."""
        indexed, live = self._indexed_and_live()
        return live - indexed

    def erase(self, person_key_id: str) -> bool:
        """Destroy the person's key and their index rows. True if a key was destroyed now."""
        return self._erase(person_key_id, self.clock())

    def reindex(self, secret: bytes | None = None, numbers: Iterable[tuple[str, str]] = ()) -> int:
        """Re-key every index row under ``secret`` (default: the current one) and add
        rows for ``numbers`` — (key id, number) of persons not yet indexed, read from
        the records. Rows of erased keys are dropped. Returns the rows kept."""
        secret = secret if secret is not None else self.secrets.current
        extra = list(numbers)
        kept = 0

        def rebuild(rows: list[IndexRow], keys: dict[str, bytes]) -> list[IndexRow]:
            nonlocal kept
            out: dict[str, IndexRow] = {}
            for r in rows:
                key = keys.get(r.person_key_id)
                if key is None:
                    continue
                number = _decrypt(key, r.person_key_id, r.number_enc)
                out[_lookup(secret, number)] = IndexRow(
                    _lookup(secret, number), r.person_key_id, r.number_enc
                )
            indexed = {r.person_key_id for r in out.values()}
            for person_key_id, number in extra:
                key = keys.get(person_key_id)
                lookup = _lookup(secret, number)
                if key is None or person_key_id in indexed or lookup in out:
                    continue
                enc = _encrypt(key, person_key_id, _normalised(number))
                out[lookup] = IndexRow(lookup, person_key_id, enc)
                indexed.add(person_key_id)
            kept = len(out)
            return list(out.values())

        self._reindex(fingerprint(secret), rebuild)
        return kept

    def rotate(self, numbers: Iterable[tuple[str, str]] = ()) -> int:
        """Replace the person secret: a new one keys every index row (``numbers``
        indexes the legacy persons first, see :meth:`reindex`), then every older
        secret is destroyed. Returns the index rows kept."""
        with self.secrets.rotation_lock():
            new = self.secrets.begin_rotation()
            kept = self.reindex(new, numbers)
            self.secrets.end_rotation(new)
        return kept


class MemoryKeyStore(KeyStore):
    """Keys and index in dicts (tests, tools)."""

    def __init__(self, secret: bytes | None = None, clock: Callable[[], int] = now_us) -> None:
        super().__init__(PersonSecrets(initial=[secret] if secret else []), clock)
        self.rows: dict[str, PersonKey] = {}
        self.index: dict[str, IndexRow] = {}
        self.keyed_with = ""

    def lookup(self, person_key_id: str) -> PersonKey | None:
        return self.rows.get(person_key_id)

    def _index_find(self, lookups: Sequence[str]) -> str | None:
        return next((self.index[k].person_key_id for k in lookups if k in self.index), None)

    def _claim(self, keyed: Keyed, new: PersonKey, number_enc: str) -> str:
        lookup, self.keyed_with = keyed(self.keyed_with)
        if lookup in self.index:
            return self.index[lookup].person_key_id
        self.rows.setdefault(new.person_key_id, new)
        self.index[lookup] = IndexRow(lookup, new.person_key_id, number_enc)
        return new.person_key_id

    def _erase(self, person_key_id: str, now_us: int) -> bool:
        self.index = {k: r for k, r in self.index.items() if r.person_key_id != person_key_id}
        row = self.rows.get(person_key_id)
        if row is None or row.key is None:
            return False
        self.rows[person_key_id] = PersonKey(person_key_id, None, row.created_us, now_us)
        return True

    def _reindex(self, name: str, rebuild: Rebuild) -> None:
        keys = {k: r.key for k, r in self.rows.items() if r.key is not None}
        self.index = {r.lookup: r for r in rebuild(list(self.index.values()), keys)}
        self.keyed_with = name

    def _indexed_and_live(self) -> tuple[set[str], set[str]]:
        indexed = {r.person_key_id for r in self.index.values()}
        return indexed, {k for k, r in self.rows.items() if r.key is not None}


# -- protect, reveal, erase ---------------------------------------------------------------


def _seal(keystore: KeyStore, value: str) -> dict[str, str]:
    person_key_id, key = keystore.key_for(value)
    return {"enc": _encrypt(key, person_key_id, value), "key": person_key_id}


def _sealable(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def protect(envelope: Envelope, keystore: KeyStore) -> Envelope:
    """The envelope to decide and append: for ``credit.person.linked``, its
    ``PROTECTED_FIELDS`` sealed (``{"enc", "key"}``); for a correction
    (``events.personal.CORRECTION_CARRIERS``), the same fields in ``data.changes``
    sealed the same way (the decision then judges the corrected record); any
    other event, or a link already sealed, unchanged. A correction that arrives with
    a sealed-looking personal field is refused (``invalid-field``): only the ledger
    seals, so no submitter can point a record at a person key of its choosing. Deterministic while the person
    is not erased (a resubmission seals to the same bytes). A value that is not a
    non-blank string is left for the decision to refuse."""
    if envelope.type == PERSON_LINKED:
        id_number = envelope.data.get("id_number")
        if not _sealable(id_number):
            return envelope
        assert isinstance(id_number, str)
        person_key_id, key = keystore.key_for(id_number)
        data = dict(envelope.data)
        for name in PROTECTED_FIELDS:
            value = data.get(name)
            if isinstance(value, str):
                data[name] = {"enc": _encrypt(key, person_key_id, value), "key": person_key_id}
        return replace(envelope, data=data)
    if envelope.type in CORRECTION_CARRIERS:
        changes = envelope.data.get("changes")
        if not isinstance(changes, dict):
            return envelope
        for name in PROTECTED_FIELDS:
            if is_sealed(changes.get(name)):
                raise InvalidEvent(
                    Reason.INVALID_FIELD,
                    f"{envelope.type}: data.changes.{name} must be the value itself, a "
                    "non-blank string; the ledger seals personal data itself",
                    field=f"data.changes.{name}",
                )
        if not any(_sealable(changes.get(n)) for n in PROTECTED_FIELDS):
            return envelope
        changed = dict(changes)
        for name in PROTECTED_FIELDS:
            value = changed.get(name)
            if _sealable(value):
                assert isinstance(value, str)
                changed[name] = _seal(keystore, value)
        return replace(envelope, data={**envelope.data, "changes": changed})
    return envelope


def protect_items(
    items: Sequence[Envelope | Refused], keystore: KeyStore
) -> list[Envelope | Refused]:
    """:func:`protect` over a submission (refusals passed through; an item that
    cannot be protected becomes a ``Refused`` at its index: ``unavailable`` while the
    person index is keyed with a secret this process does not hold)."""
    out: list[Envelope | Refused] = []
    for index, item in enumerate(items):
        if isinstance(item, Refused):
            out.append(item)
            continue
        try:
            out.append(protect(item, keystore))
        except InvalidEvent as exc:
            out.append(Refused(index, item.id, item.source, exc.rejection))
        except StaleIndex as exc:
            out.append(
                Refused(index, item.id, item.source, Rejection(Reason.UNAVAILABLE, str(exc)))
            )
    return out


def mask(value: str) -> str:
    """An identity number for the public (:func:`events.personal.mask_id_number`)."""
    return mask_id_number(value)


def _revealed(value: object, keystore: KeyStore, role: str) -> object:
    if is_sealed(value):
        assert isinstance(value, dict)
        person_key_id = str(value["key"])
        row = keystore.lookup(person_key_id)
        if row is None or row.key is None:
            return ERASED
        clear = _decrypt(row.key, person_key_id, value["enc"])
        return clear if role in CLEAR_ROLES else mask(clear)
    if isinstance(value, str) and role not in CLEAR_ROLES:
        return mask(value)
    return value


def reveal(data: dict[str, Any], keystore: KeyStore, role: str = "public") -> dict[str, Any]:
    """A copy of a stored event's ``data`` for a reader with ``role``: each
    protected field (also inside ``changes``) in clear (roles in ``CLEAR_ROLES``),
    masked (anyone else), or ``"erased"`` once the person's key is destroyed. For
    the public, a clear ``id_number`` is masked."""
    out = dict(data)
    for name in PROTECTED_FIELDS:
        if name in out:
            out[name] = _revealed(out[name], keystore, role)
    changes = out.get("changes")
    if isinstance(changes, dict) and any(n in changes for n in PROTECTED_FIELDS):
        out["changes"] = {
            k: (_revealed(v, keystore, role) if k in PROTECTED_FIELDS else v)
            for k, v in changes.items()
        }
    return out


def erase_person(
    keystore: KeyStore,
    id_number: str | None = None,
    *,
    key_id: str | None = None,
    numbers: Callable[[], Iterable[tuple[str, str]]] = lambda: (),
    record: Callable[[str], None] = lambda person_key_id: None,
) -> tuple[str | None, bool]:
    """Erase the person with ``id_number`` (or ``key_id``): ``record`` the erasure
    (the log outside the database) first, destroy the key and the index rows,
    then rotate the person secret (``numbers`` gives the legacy persons to index
    first, see :meth:`KeyStore.rotate`) — also when nothing was left to destroy,
    so no secret that could link the number to an old key id survives.

    Returns (person key id or None when the number is unknown, whether a key was
    destroyed now)."""
    if (id_number is None) == (key_id is None):
        raise ValueError("name the person by exactly one of id_number or key_id")
    person_key_id = (
        key_id if key_id is not None else keystore.find(str(id_number), include_erased=True)
    )
    destroyed = False
    if person_key_id is not None:
        record(person_key_id)
        destroyed = keystore.erase(person_key_id)
    keystore.rotate(numbers())
    return person_key_id, destroyed
