"""Responsible persons across subjects: who is linked where, what extends to
them, and ``ledger erase-person``.

``person_extensions`` finds the subjects a person is linked to (a read of the
``credit.person.linked`` records and of the corrections that change a number) and hands their states to the pure
:func:`commands.workflows.persons.extensions_for_person` (seed 000 §十二).
``ledger erase-person ID_NUMBER`` logs the erasure outside the database
(:mod:`ledger.erasures`), destroys the person's key and index rows and rotates the
person secret (:mod:`ledger.personal`): their identity number becomes unreadable
everywhere and nothing the ledger keeps links it to the old key id, while nothing
of the records, chain or proofs changes. ``ledger rotate-person-secret`` rotates
the secret alone (e.g. once after upgrading a ledger whose key ids were derived
from the numbers, or after a person secret file was restored).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from commands.workflows.persons import Extension, extensions_for_person, person_key_of
from events.personal import CORRECTION_CARRIERS
from ledger.app import Ledger
from ledger.erasures import ErasureLog
from ledger.personal import PERSON_LINKED, KeyStore, erase_person, open_keystore
from ledger.scans import records, states
from ledger.settings import Settings

__all__ = [
    "keystore_of",
    "legacy_numbers",
    "linked_subjects",
    "person_extensions",
    "register",
    "sealed_values",
]


def keystore_of(ledger: Ledger, settings: Settings) -> KeyStore:
    """The ledger's key store (the one it protects with, when wired), else one
    opened on its database with the configured person secret."""
    existing = getattr(ledger, "keystore", None)
    if isinstance(existing, KeyStore):
        return existing
    return open_keystore(ledger.recorder, settings.person_secret_file)


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


def register(subparsers: Any, bootstrap: Callable[[Settings], Ledger]) -> None:
    """Add ``erase-person`` and ``rotate-person-secret`` to the ``ledger`` command line."""
    p = subparsers.add_parser(
        "erase-person",
        help="destroy a responsible person's key: their identity number becomes unreadable",
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("id_number", nargs="?", help="the person's identity number")
    who.add_argument("--key-id", help="the person key id (pk-…) instead of the number")
    p.add_argument("--json", action="store_true")

    def handler(args: argparse.Namespace, settings: Settings) -> int:
        return cmd_erase_person(args, settings, bootstrap)

    p.set_defaults(handler=handler)

    p = subparsers.add_parser(
        "rotate-person-secret",
        help="replace the person secret, re-key the identity-number index, destroy the old secret",
    )
    p.add_argument("--json", action="store_true")

    def rotate(args: argparse.Namespace, settings: Settings) -> int:
        return cmd_rotate_person_secret(args, settings, bootstrap)

    p.set_defaults(handler=rotate)


def cmd_erase_person(
    args: argparse.Namespace, settings: Settings, bootstrap: Callable[[Settings], Ledger]
) -> int:
    ledger = bootstrap(settings)
    keystore = keystore_of(ledger, settings)
    log = ErasureLog(settings.erasure_log)
    logged: list[str] = []

    def record(person_key_id: str) -> None:
        log.append(person_key_id, keystore.clock())
        logged.append(person_key_id)

    try:
        key_id, destroyed = erase_person(
            keystore,
            args.id_number,
            key_id=args.key_id,
            numbers=lambda: legacy_numbers(ledger, keystore),
            record=record,
        )
    except OSError as e:
        if not logged:
            print(
                f"ledger: the erasure could not be logged in {log.path} ({e}); nothing was "
                "destroyed: make LEDGER_ERASURE_LOG writable and run erase-person again",
                file=sys.stderr,
            )
        else:
            print(
                _rotation_failed(settings, e, "the key was destroyed and the erasure logged"),
                file=sys.stderr,
            )
        return 1
    subjects = sorted(linked_subjects(ledger, key_id)) if key_id is not None else []
    result = {"person_key_id": key_id, "erased_now": destroyed, "linked_subjects": subjects}
    if args.json:
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
    print(
        f"erase-person {key_id or '(no such person)'}: "
        + ("key destroyed" if destroyed else "nothing to destroy (unknown or already erased)")
        + f"; linked to {len(subjects)} subject(s); person secret rotated; "
        + (f"logged in {log.path}; " if key_id is not None else "")
        + "records, chain and proofs unchanged",
        file=sys.stderr,
    )
    return 0


def cmd_rotate_person_secret(
    args: argparse.Namespace, settings: Settings, bootstrap: Callable[[Settings], Ledger]
) -> int:
    ledger = bootstrap(settings)
    keystore = keystore_of(ledger, settings)
    numbers = legacy_numbers(ledger, keystore)
    try:
        kept = keystore.rotate(numbers)
    except OSError as e:
        print(_rotation_failed(settings, e, "the rotation did not complete"), file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.write(orjson.dumps({"indexed": kept, "legacy": len(numbers)}).decode() + "\n")
    print(
        f"rotate-person-secret: new secret in {settings.person_secret_file}, the old one "
        f"destroyed; {kept} person(s) re-keyed in the index ({len(numbers)} indexed from "
        "their records)",
        file=sys.stderr,
    )
    return 0


def _rotation_failed(settings: Settings, error: OSError, done: str) -> str:
    return (
        f"ledger: {done}, but the person secret {settings.person_secret_file} could not be "
        f"rotated ({error}); it must be a writable file in a writable directory shared by "
        "every service (not a read-only mount): fix that and run `ledger rotate-person-secret`"
    )
