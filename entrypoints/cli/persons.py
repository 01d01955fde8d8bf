"""``ledger erase-person`` and ``ledger rotate-person-secret``: the person extension (:mod:`services.persons`) from the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import orjson

from entrypoints.settings import Settings
from ledger.app import Ledger
from ledger.erasures import ErasureLog
from ledger.sealing import erase_person
from services.persons import keystore_of, legacy_numbers, linked_subjects

__all__ = ['cmd_erase_person', 'cmd_rotate_person_secret', 'register']


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
    keystore = keystore_of(ledger, settings.person_secret_file)
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
    keystore = keystore_of(ledger, settings.person_secret_file)
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
