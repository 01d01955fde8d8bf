"""Responsible persons across subjects: who is linked where, what extends to
them, and ``ledger erase-person``.

``person_extensions`` finds the subjects a person is linked to (a read of the
``credit.person.linked`` records and of the corrections that change a number) and hands their states to the pure
:func:`commands.workflows.persons.extensions_for_person` (seed 000 §十二).
``ledger erase-person ID_NUMBER`` logs the erasure outside the database
(:class:`ledger.erasures.ErasureLog`), destroys the person's key and index rows and rotates the
person secret (:mod:`ledger.sealing`): their identity number becomes unreadable
everywhere and nothing the ledger keeps links it to the old key id, while nothing
of the records, chain or proofs changes. ``ledger rotate-person-secret`` rotates
the secret alone (e.g. once after upgrading a ledger whose key ids were derived
from the numbers, or after a person secret file was restored).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from commands.workflows.persons import Extension, extensions_for_person, person_key_of
from events.personal import CORRECTION_CARRIERS
from ledger.app import Ledger
from ledger.erasures import ErasureLog
from ledger.scans import records, states
from ledger.sealing import PERSON_LINKED, KeyStore

__all__ = [
    "Reapplied",
    "keystore_of",
    "legacy_numbers",
    "linked_subjects",
    "person_extensions",
    "reapply_erasures",
    "sealed_values",
]


def keystore_of(ledger: Ledger, person_secret_file: Path) -> KeyStore:
    """The ledger's key store (the one it protects with, when wired), else one
    opened on its database with the person secret in ``person_secret_file``."""
    existing = getattr(ledger, "keystore", None)
    if isinstance(existing, KeyStore):
        return existing
    return ledger.recorder.store.person_keys(person_secret_file)


def sealed_values(ledger: Ledger) -> Iterator[tuple[str, Any]]:
    """(subject, sealed ``id_number``) of every person link and every correction
    that changes one, in position order."""
    for r in records(ledger, (PERSON_LINKED, *sorted(CORRECTION_CARRIERS))):
        if r.type == PERSON_LINKED:
            value = r.data.get("id_number")
        else:
            changes = r.data.get("changes")
            value = changes.get("id_number") if isinstance(changes, dict) else None
        if value is not None:
            yield r.subject, value


def linked_subjects(ledger: Ledger, person_key_id: str) -> set[str]:
    """The subjects with a ``credit.person.linked`` of this person (or a correction
    that links them)."""
    return {
        subject
        for subject, value in sealed_values(ledger)
        if person_key_of({"id_number": value}) == person_key_id
    }


def legacy_numbers(ledger: Ledger, keystore: KeyStore) -> list[tuple[str, str]]:
    """(key id, number) of the live persons the index does not hold yet (persons of
    a ledger that derived key ids from the numbers), read from their records with
    their own keys; empty, without reading the records, when every one is indexed."""
    missing = keystore.unindexed()
    found: dict[str, str] = {}
    if not missing:
        return []
    for _, value in sealed_values(ledger):
        if person_key_of({"id_number": value}) in missing:
            opened = keystore.open_sealed(value)
            if opened is not None:
                found.setdefault(*opened)
    return list(found.items())


def person_extensions(ledger: Ledger, person_key_id: str, as_of_us: int) -> list[Extension]:
    """The designations, measures and bans in force at ``as_of_us`` that extend
    to the person (see :mod:`commands.workflows.persons`)."""
    subjects = linked_subjects(ledger, person_key_id)
    return extensions_for_person(
        person_key_id, states(ledger, subjects), as_of_us, ledger.rule_services().measures
    )


@dataclass(frozen=True, slots=True)
class Reapplied:
    """What :func:`reapply_erasures` did."""

    logged: int
    destroyed: int
    """Keys the restored database still held and that are now destroyed."""
    indexed: int
    """Index rows kept (re-keyed)."""


def reapply_erasures(
    open_ledger: Callable[[], Ledger], erasure_log: Path, person_secret_file: Path
) -> Reapplied:
    """Re-apply the erasure log at ``erasure_log`` to the ledger ``open_ledger()`` builds
    (run after ``ledger restore``): every logged key the restored database still holds
    is destroyed again (and its index rows), then the person secret at
    ``person_secret_file`` is rotated, re-keying the restored index (:mod:`ledger.erasures`).
    Idempotent; with nothing logged it opens nothing and touches nothing. The ledger it
    opens is closed before it returns."""
    logged = ErasureLog(erasure_log).key_ids()
    if not logged:
        return Reapplied(0, 0, 0)
    ledger = open_ledger()
    try:
        keystore = keystore_of(ledger, person_secret_file)
        destroyed = sum(keystore.erase(key_id) for key_id in logged)
        indexed = keystore.rotate(legacy_numbers(ledger, keystore))
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]
    return Reapplied(len(logged), destroyed, indexed)
