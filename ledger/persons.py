"""Responsible persons across subjects: who is linked where, what extends to
them, and ``ledger erase-person``.

``person_extensions`` finds the subjects a person is linked to (a read of the
``credit.person.linked`` records only) and hands their states to the pure
:func:`commands.workflows.persons.extensions_for_person` (seed 000 §十二).
``ledger erase-person ID_NUMBER`` destroys the person's key
(:mod:`ledger.personal`): their identity number becomes unreadable everywhere,
and nothing of the ledger's records, chain or proofs changes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import orjson

from commands.workflows.persons import Extension, extensions_for_person, person_key_of
from ledger.app import Ledger
from ledger.personal import KeyStore, erase_person, open_keystore
from ledger.scans import records, states
from ledger.settings import Settings

__all__ = ["keystore_of", "linked_subjects", "person_extensions", "register"]


def keystore_of(ledger: Ledger, settings: Settings) -> KeyStore:
    """The ledger's key store (the one it protects with, when wired), else one
    opened on its database with the configured person secret."""
    existing = getattr(ledger, "keystore", None)
    if isinstance(existing, KeyStore):
        return existing
    return open_keystore(ledger.recorder, settings.person_secret_file)


def linked_subjects(ledger: Ledger, person_key_id: str) -> set[str]:
    """The subjects with a ``credit.person.linked`` of this person."""
    return {
        r.subject
        for r in records(ledger, ("credit.person.linked",))
        if person_key_of(r.data) == person_key_id
    }


def person_extensions(ledger: Ledger, person_key_id: str, as_of_us: int) -> list[Extension]:
    """The designations, measures and bans in force at ``as_of_us`` that extend
    to the person (see :mod:`commands.workflows.persons`)."""
    subjects = linked_subjects(ledger, person_key_id)
    return extensions_for_person(person_key_id, states(ledger, subjects), as_of_us)


def register(subparsers: Any, bootstrap: Callable[[Settings], Ledger]) -> None:
    """Add ``erase-person`` to the ``ledger`` command line (``subparsers`` of argparse)."""
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


def cmd_erase_person(
    args: argparse.Namespace, settings: Settings, bootstrap: Callable[[Settings], Ledger]
) -> int:
    ledger = bootstrap(settings)
    keystore = keystore_of(ledger, settings)
    key_id, destroyed = erase_person(keystore, args.id_number, key_id=args.key_id)
    subjects = sorted(linked_subjects(ledger, key_id))
    result = {"person_key_id": key_id, "erased_now": destroyed, "linked_subjects": subjects}
    if args.json:
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
    print(
        f"erase-person {key_id}: "
        + ("key destroyed" if destroyed else "nothing to destroy (unknown or already erased)")
        + f"; linked to {len(subjects)} subject(s); records, chain and proofs unchanged",
        file=sys.stderr,
    )
    return 0
