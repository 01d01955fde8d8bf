"""``ledger backup FILE`` and ``ledger restore FILE``: the command line of
:mod:`ledger.backup` (what a backup holds and how a restore proves the copy before
swapping it in are documented there).

This module wires the store-level backup and restore to the settings: the database URL,
the client tools' environment (:attr:`Settings.child_environment`), the check of the
restored copy (:func:`verify_restored`: ``ledger verify`` and the checkpoint log) and
the final step of every restore (:func:`after_restore`: the erasure log re-applied,
:func:`services.persons.reapply_erasures`).

Exit status: 0 done; 1 refused, the tool failed, or the restored copy does not verify (the
live ledger untouched); 2 bad usage.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from entrypoints.bootstrap import bootstrap as build_ledger
from entrypoints.bootstrap import checkpoint_log, open_recorder
from entrypoints.cli.audit import UsageError, trusted_key
from entrypoints.settings import Settings
from ledger import progress
from ledger.app import Ledger
from ledger.backup import BackupError, backup, restore
from services.persons import reapply_erasures

__all__ = ["after_restore", "cmd_backup", "cmd_restore", "register", "verify_restored"]

Bootstrap = Callable[[Settings], Ledger]


def register(subparsers: Any, bootstrap: Bootstrap) -> None:
    """Add ``backup`` and ``restore`` to the ``ledger`` parser."""
    del bootstrap  # the restore opens the restored ledger itself (after_restore)
    p = subparsers.add_parser("backup", help="write a consistent backup of the ledger to FILE")
    p.add_argument("file", type=Path, help="the backup file (a header, then the store's dump)")
    p.set_defaults(handler=cmd_backup)

    p = subparsers.add_parser(
        "restore", help="restore a backup beside the ledger, verify it, then swap it in"
    )
    p.add_argument("file", type=Path, help="a file written by `ledger backup`")
    p.add_argument(
        "--force", action="store_true", help="replace a target that already holds records"
    )
    p.add_argument(
        "--verify",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="recheck the restored copy before it goes live (default: on; the file's digest "
        "and the checkpoint log are checked either way)",
    )
    p.add_argument(
        "--public-key",
        help="the ledger's public key (base64 or a file); default: from the signing key file",
    )
    p.add_argument(
        "--accept-rollback",
        action="store_true",
        help="restore a backup older than the newest checkpoint in the checkpoint log (the "
        "ledger then cannot sign until it holds those records again)",
    )
    p.set_defaults(handler=cmd_restore)


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    try:
        size = backup(settings.database_url, args.file, environ=settings.child_environment)
    except BackupError as e:
        print(f"ledger: {e}", file=sys.stderr)
        return 1
    print(
        f"backup of {size:,} records written to {args.file} "
        f"({args.file.stat().st_size:,} bytes) in {time.perf_counter() - started:.1f} s; "
        "back up the person secret and the signing key separately",
        file=sys.stderr,
    )
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    try:
        key = trusted_key(args.public_key, settings)
    except UsageError as e:
        print(f"ledger: {e}", file=sys.stderr)
        return 2
    check = functools.partial(
        verify_restored,
        settings=settings,
        public_key=key,
        full=args.verify,
        allow_behind=args.accept_rollback,
    )
    try:
        size = restore(
            settings.database_url,
            args.file,
            force=args.force,
            check=check,
            environ=settings.child_environment,
        )
        after_restore(settings)
    except BackupError as e:
        print(f"ledger: {e}", file=sys.stderr)
        return 1
    print(
        f"restored {size:,} records from {args.file} in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    print(
        "next: make sure LEDGER_PERSON_SECRET_FILE and LEDGER_SIGNING_KEY_FILE are the ones "
        "of the backed-up ledger, then start the services (serve, ingest, project, tick); "
        "the views were restored with the ledger (`ledger rebuild` if in doubt); ingestion "
        "resumes from the restored tracking positions",
        file=sys.stderr,
    )
    return 0


def verify_restored(
    url: str,
    *,
    settings: Settings,
    public_key: bytes | None,
    full: bool = True,
    allow_behind: bool = False,
) -> str | None:
    """Check the restored copy at ``url`` (a :data:`ledger.backup.Check`): the whole-store recheck
    (``full``) and the check against ``settings``' checkpoint log; prints what it found
    as ``ledger verify`` does. None if the copy may go live, else the first failure."""
    from ledger.audit.checkpoint_log import verify_published
    from ledger.audit.checkpoints import latest_checkpoint
    from ledger.audit.verify import verify_store
    from ledger.audit.verify_outcome import VerifyReport

    recorder = open_recorder(url, pool_size=1)
    try:
        if full:
            with recorder.audit_reader() as cursor:
                total = recorder.ledger_size(cursor)
            with progress.bar(total, "verify", unit="rec", unit_scale=True) as bar:
                report = verify_store(recorder, public_key=public_key, progress=bar.update)
        else:
            report = VerifyReport(warnings=["--no-verify: the restored copy was not rechecked"])
        verify_published(
            recorder,
            report,
            origin=settings.name,
            log=checkpoint_log(settings),
            public_key=public_key,
            allow_behind=allow_behind,
        )
        latest = latest_checkpoint(recorder) if report.ok else None
    finally:
        close = getattr(getattr(recorder, "datastore", None), "close", None)
        if close is not None:
            close()
    for warning in report.warnings:
        print(f"ledger: warning: {warning}", file=sys.stderr)
    if latest is not None:
        print(f"latest checkpoint: size {latest.size:,}, root {latest.root}", file=sys.stderr)
    elif report.ok:
        print("ledger: warning: the backup holds no checkpoint to verify against", file=sys.stderr)
    if report.failure is not None:
        print(f"FAIL: {report.failure.describe()}")
    if full or report.failure is not None:
        print(report.summary(), file=sys.stderr)
    return None if report.failure is None else report.failure.describe()


def after_restore(settings: Settings) -> None:
    """The final step of every restore, run once the verified copy is live: what must be
    re-applied to a ledger brought back from a backup goes here (e.g. erasures recorded in
    their log outside the database after the backup was taken). Raises on failure; the
    restored ledger stays live either way."""
    try:  # a restore never brings an erased person back
        erased = reapply_erasures(
            functools.partial(build_ledger, settings),
            settings.erasure_log,
            settings.person_secret_file,
        )
    except OSError as e:
        raise BackupError(
            f"the ledger is restored, but the erasure log {settings.erasure_log} could not be "
            f"re-applied ({e}): fix that and run `ledger restore` again, or `ledger "
            "erase-person --key-id` for each logged key id, before starting the services"
        ) from e
    if erased.logged:
        print(
            f"re-applied {erased.logged} logged person erasure(s) from {settings.erasure_log} "
            f"({erased.destroyed} key(s) destroyed again); person secret rotated",
            file=sys.stderr,
        )
