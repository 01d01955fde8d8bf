"""The audit subcommands of ``ledger``: ``checkpoint``, ``verify``, ``audit-bundle``, ``proof``.

``register(subparsers, bootstrap)`` adds them to the ``ledger`` parser; each handler takes
``(args, settings)`` like the other commands, closes the store it opened when done (so
``checkpoint --every`` and ``verify --every`` can run for months), and returns the exit
status: 0 success; 1 a check failed (the store does not verify, a proof cannot be made); 2
bad usage (unknown checkpoint, bad key). Each ``verify`` run stores its result in the store
(:mod:`ledger.audit.verifications`), where ``serve``'s ``/metrics`` reads it. Output for machines with ``--json`` (proofs are always JSON); one-line
summaries with figures go to standard error.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import functools
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import psycopg
from eventsourcing.persistence import PersistenceError
from tqdm import tqdm

from entrypoints.bootstrap import checkpoint_log, open_recorder
from entrypoints.settings import Settings
from events.codes import validate_subject_code
from ledger.app import Ledger
from ledger.audit.bundle import BundleError, build_bundle
from ledger.audit.checkpoint_log import load_checkpoint, verify_published
from ledger.audit.checkpoints import (
    Checkpoint,
    CheckpointError,
    checkpoint_at,
    issue_checkpoint,
    latest_checkpoint,
    list_checkpoints,
)
from ledger.audit.cosignatures import CosignatureSource
from ledger.audit.keys import KeyFileError, load_or_create_key, public_key_b64, public_key_bytes
from ledger.audit.proofs import ProofError, consistency_proof, head_proof, inclusion_paths
from ledger.audit.verifications import Verification, record_verification
from ledger.audit.verify import verify_store
from ledger.audit.verify_outcome import VerifyReport

__all__ = ["register"]

Bootstrap = Callable[[Settings], Ledger]


class UsageError(Exception):
    """Bad arguments or configuration: exit 2."""


def register(subparsers: Any, bootstrap: Bootstrap) -> None:
    """Add the audit subcommands to ``subparsers`` (from ``add_subparsers``); handlers
    build the ledger with ``bootstrap(settings)``."""

    def wrap(fn: Callable[[argparse.Namespace, Settings, Bootstrap], int]) -> Any:
        @functools.wraps(fn)
        def handler(args: argparse.Namespace, settings: Settings) -> int:
            opened: list[Ledger] = []

            def build(settings: Settings) -> Ledger:
                ledger = bootstrap(settings)
                opened.append(ledger)
                return ledger

            try:
                return fn(args, settings, build)
            except (UsageError, KeyFileError) as e:
                print(f"ledger: {e}", file=sys.stderr)
                return 2
            except (CheckpointError, ProofError, BundleError, LookupError) as e:
                print(f"ledger: {e}", file=sys.stderr)
                return 1
            finally:  # a periodic `checkpoint --every` must not pile up connection pools
                for ledger in opened:
                    close = getattr(getattr(ledger.recorder, "datastore", None), "close", None)
                    if close is not None:
                        close()

        return handler

    p = subparsers.add_parser("checkpoint", help="sign a checkpoint of the ledger as it is now")
    p.add_argument("--json", action="store_true", help="print the signed checkpoint object")
    p.add_argument(
        "--list", action="store_true", help="list the stored checkpoints instead of issuing one"
    )
    p.add_argument(
        "--public-key", action="store_true", help="print the public key (base64) and exit"
    )
    p.set_defaults(handler=wrap(cmd_checkpoint))

    p = subparsers.add_parser("verify", help="recheck every record, chain, tree node, checkpoint")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="processes checking segments of the ledger (default: 2 or the CPU count)",
    )
    p.add_argument(
        "--public-key",
        help="the ledger's public key (base64 or a file); default: from the signing key file",
    )
    p.add_argument(
        "--checkpoint",
        metavar="FILE|URL",
        help="check the store against this published checkpoint (a file, or an http(s) URL "
        "such as another copy's /v1/checkpoints/latest); default: every checkpoint in the "
        "checkpoint log (LEDGER_CHECKPOINT_LOG)",
    )
    p.set_defaults(handler=wrap(cmd_verify))

    p = subparsers.add_parser(
        "audit-bundle", help="a subject's records with proofs and a signed checkpoint"
    )
    p.add_argument("code", help="unified social credit code")
    p.add_argument("--checkpoint", type=int, metavar="SIZE", help="default: the latest")
    p.add_argument("--output", "-o", metavar="FILE", help="default: standard output")
    p.set_defaults(handler=wrap(cmd_audit_bundle))

    p = subparsers.add_parser("proof", help="inclusion, consistency and subject-head proofs")
    kinds = p.add_subparsers(title="proofs", metavar="KIND", required=True)
    q = kinds.add_parser("inclusion", help="a record's inclusion in a checkpoint's tree")
    q.add_argument("position", type=int, help="the record's ledger position (0-based)")
    q.add_argument("--checkpoint", type=int, metavar="SIZE", help="default: the latest")
    q.set_defaults(handler=wrap(cmd_proof_inclusion))
    q = kinds.add_parser("consistency", help="checkpoint TO extends checkpoint FROM")
    q.add_argument("old", type=int, metavar="FROM", help="size of the older checkpoint")
    q.add_argument("new", type=int, metavar="TO", help="size of the newer checkpoint")
    q.set_defaults(handler=wrap(cmd_proof_consistency))
    q = kinds.add_parser("head", help="a subject's head (or absence) in a checkpoint")
    q.add_argument("code", help="unified social credit code")
    q.add_argument("--checkpoint", type=int, metavar="SIZE", help="default: the latest")
    q.set_defaults(handler=wrap(cmd_proof_head))


# -- helpers -------------------------------------------------------------------------------


def _write_json(obj: Any, output: str | None = None) -> None:
    data = orjson.dumps(obj, option=orjson.OPT_INDENT_2) + b"\n"
    if output is None or output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        Path(output).write_bytes(data)


def _checkpoint(ledger: Ledger, size: int | None, settings: Settings) -> Checkpoint:
    """The stored checkpoint of ``size``; by default the latest, issuing the first one."""
    if size is not None:
        cp = checkpoint_at(ledger.recorder, size)
        if cp is None:
            sizes = [c.size for c in list_checkpoints(ledger.recorder)]
            raise UsageError(f"no checkpoint of size {size}; stored sizes: {sizes or 'none'}")
        return cp
    cp = latest_checkpoint(ledger.recorder)
    if cp is None:
        print("ledger: no checkpoint yet; issuing the first one", file=sys.stderr)
        cp = _issue(ledger, settings)
    return cp


def _issue(ledger: Ledger, settings: Settings) -> Checkpoint:
    """Sign a checkpoint, consistent with and written to the checkpoint log."""
    key = load_or_create_key(settings.signing_key_file)
    # issue_checkpoint refuses (CheckpointError) a store holding the heads of a deleted
    # checkpoint, and a tree not consistent with the checkpoint log
    return issue_checkpoint(
        ledger.recorder, key, settings.name, ledger.clock(), log=checkpoint_log(settings)
    )


def trusted_key(arg: str | None, settings: Settings) -> bytes | None:
    """The public key to check signatures with: ``--public-key`` (base64 text or a file
    holding it), else the signing key file's, else None. Never creates a key."""
    if arg is not None:
        text = Path(arg).read_text().strip() if Path(arg).is_file() else arg.strip()
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise UsageError("--public-key: not the base64 of a raw 32-byte Ed25519 public key")
        return raw
    if Path(settings.signing_key_file).exists():
        return public_key_bytes(load_or_create_key(settings.signing_key_file))
    return None


# -- commands --------------------------------------------------------------------------------


def cmd_checkpoint(args: argparse.Namespace, settings: Settings, bootstrap: Bootstrap) -> int:
    if args.public_key:
        print(public_key_b64(load_or_create_key(settings.signing_key_file)))
        return 0
    ledger = bootstrap(settings)
    if args.list:
        cps = list_checkpoints(ledger.recorder)
        if args.json:
            _write_json([cp.to_json() for cp in cps])
        else:
            for cp in cps:
                print(f"{cp.size:>12,}  issued_us {cp.issued_us}  root {cp.root}")
            print(f"{len(cps)} checkpoints", file=sys.stderr)
        return 0
    started = time.perf_counter()
    before = latest_checkpoint(ledger.recorder)
    cp = _issue(ledger, settings)
    fresh = before is None or before.size != cp.size
    if args.json:
        _write_json(cp.to_json())
    elif not fresh:
        print(f"checkpoint of size {cp.size:,} unchanged: no new records (root {cp.root})")
    else:
        print(f"checkpoint of size {cp.size:,} (new)")
        print(f"  origin      {cp.origin}")
        print(f"  root        {cp.root}")
        print(f"  heads_root  {cp.heads_root}")
        print(f"  issued_us   {cp.issued_us}")
        print(f"  signature   {cp.signature}")
        log = checkpoint_log(settings)
        print(f"  published   {log.path_of(cp) if log is not None else '(no checkpoint log)'}")
        print(f"  public key  {public_key_b64(load_or_create_key(settings.signing_key_file))}")
    print(
        f"checkpoint {cp.size:,} {'issued' if fresh else 'already issued'} in "
        f"{time.perf_counter() - started:.2f} s",
        file=sys.stderr,
    )
    return 0


def cmd_verify(args: argparse.Namespace, settings: Settings, bootstrap: Bootstrap) -> int:
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    ledger = bootstrap(settings)
    key = trusted_key(args.public_key, settings)
    given = [load_checkpoint(args.checkpoint)] if args.checkpoint else []
    workers = 1 if ":memory:" in settings.database_url else args.workers
    factory = functools.partial(open_recorder, settings.database_url, pool_size=1)
    with tqdm(
        total=ledger.size(),
        unit="rec",
        unit_scale=True,
        desc="verify",
        disable=None,
        file=sys.stderr,
    ) as bar:
        report = verify_store(
            ledger.recorder,
            public_key=key,
            progress=bar.update,
            workers=workers,
            open_recorder=factory,
        )
    verify_published(
        ledger.recorder,
        report,
        origin=settings.name,
        log=checkpoint_log(settings),
        given=given,
        public_key=key,
    )
    if args.json:
        _write_json(report.to_json())
    elif report.failure is not None:
        print(f"FAIL: {report.failure.describe()}")
    for warning in report.warnings:
        print(f"ledger: warning: {warning}", file=sys.stderr)
    print(report.summary(), file=sys.stderr)
    _record(ledger, report)
    return 0 if report.ok else 1


def _record(ledger: Ledger, report: VerifyReport) -> None:
    """Store the run's result (``ledger_verifications``, read by ``serve``'s ``/metrics``).
    A store that cannot take the row gets a warning, not another exit status: the verdict
    stands, and the metric's last-run timestamp goes stale (which is what to alert on)."""
    try:
        record_verification(ledger.recorder, Verification.of_report(report, ledger.clock()))
    except (PersistenceError, psycopg.Error, sqlite3.Error) as e:
        print(f"ledger: warning: the verify result was not recorded: {e}", file=sys.stderr)


def cmd_audit_bundle(args: argparse.Namespace, settings: Settings, bootstrap: Bootstrap) -> int:
    code = validate_subject_code(args.code)
    started = time.perf_counter()
    ledger = bootstrap(settings)
    cp = _checkpoint(ledger, args.checkpoint, settings)
    key = load_or_create_key(settings.signing_key_file)
    if not cp.verify_signature(public_key_bytes(key)):
        raise CheckpointError(
            f"checkpoint {cp.size} does not verify under the key in {settings.signing_key_file}"
        )
    bundle = build_bundle(ledger.recorder, code, cp, public_key_b64(key))
    witnesses = CosignatureSource.of(settings.witnesses)
    bundle = witnesses.attach(bundle) if witnesses is not None else bundle
    _write_json(bundle, args.output)
    later = ledger.size() - cp.size
    print(
        f"bundle of {code}: {len(bundle['records'])} records at checkpoint {cp.size:,} in "
        f"{time.perf_counter() - started:.2f} s"
        + (f" ({later:,} records recorded since: `ledger checkpoint` to include)" if later else ""),
        file=sys.stderr,
    )
    return 0


def cmd_proof_inclusion(args: argparse.Namespace, settings: Settings, bootstrap: Bootstrap) -> int:
    ledger = bootstrap(settings)
    cp = _checkpoint(ledger, args.checkpoint, settings)
    if not 0 <= args.position < cp.size:
        raise UsageError(f"position {args.position} is not in checkpoint {cp.size}")
    with ledger.recorder.audit_reader() as cursor:
        rows = ledger.recorder.audit_rows(cursor, args.position, args.position + 1)
        if not rows:
            raise LookupError(f"no record at position {args.position}")
        digest = bytes(rows[0][11])
        (path,) = inclusion_paths(ledger.recorder, cursor, [(args.position, digest)], cp)
    _write_json(
        {
            "checkpoint": cp.to_json(),
            "position": args.position,
            "hash": digest.hex(),
            "inclusion": [p.hex() for p in path],
        }
    )
    return 0


def cmd_proof_consistency(
    args: argparse.Namespace, settings: Settings, bootstrap: Bootstrap
) -> int:
    ledger = bootstrap(settings)
    old = _checkpoint(ledger, args.old, settings)
    new = _checkpoint(ledger, args.new, settings)
    if old.size > new.size:
        raise UsageError(f"FROM ({old.size}) must not be after TO ({new.size})")
    with ledger.recorder.audit_reader() as cursor:
        proof = consistency_proof(ledger.recorder, cursor, old, new)
    _write_json(proof.to_json())
    return 0


def cmd_proof_head(args: argparse.Namespace, settings: Settings, bootstrap: Bootstrap) -> int:
    code = validate_subject_code(args.code)
    ledger = bootstrap(settings)
    cp = _checkpoint(ledger, args.checkpoint, settings)
    with ledger.recorder.audit_reader() as cursor:
        proof = head_proof(ledger.recorder, cursor, code, cp)
    _write_json({"checkpoint": cp.to_json(), "subject": code, "head": proof.to_json()})
    return 0
