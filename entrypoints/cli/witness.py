"""``ledger witness``: the witness's command line (the witness: :mod:`federation.witness`;
its HTTP endpoints and Kafka publisher: :mod:`federation.witness_http`).

::

    ledger witness --state DIR --log BASE_URL=PUBLIC_KEY [--log …] [--once | --every S]
                   [--regions FILE] [--serve PORT] [--name NAME] [--key FILE]
    ledger witness --state DIR --public-key
    ledger witness --check-evidence FILE [--public-key-of-log B64]

``--once`` (the default without ``--every``/``--serve``) checks every log once and prints one
line per log: ``ok <origin> size=N`` (consistent, cosigned), ``fork <origin> <kind>: …`` or
``error <base url> …`` (not reached). Exit status: 0 all ok; 1 any fork; 3 no fork but a log
was not reached; 2 bad usage.

``--regions FILE`` follows, besides any ``--log``, every region of a national regions file
(``ledger national --config``; :mod:`federation.national.config`): its ``base_url`` and
``public_key``, so a deployment writes each region's key in one place (the compose
``federation`` profile's witness does).

``--serve PORT`` serves, until stopped, the witness's cosignatures and metrics
(:class:`federation.witness_http.WitnessServer`); with ``--every S`` it also checks the logs
every S seconds.

With ``LEDGER_KAFKA_BOOTSTRAP`` set, every new cosignature is also sent to ``--topic``
(default ``credit.cosignatures``), key: the origin.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from entrypoints.settings import Settings
from federation.national.config import RegionsFileError, load_config
from federation.witness import LogSpec, Witness, check_evidence
from federation.witness_http import DEFAULT_TOPIC, WitnessServer, kafka_publisher
from federation.witness_state import WitnessState
from ledger import heartbeat, logs
from ledger.audit.keys import KeyFileError, load_or_create_key

__all__ = ["cmd_witness", "register"]

EXIT_UNREACHABLE = 3


def register(subparsers: Any, bootstrap: Callable[..., Any]) -> None:
    """Add ``witness`` to the ``ledger`` command's subparsers (``bootstrap`` unused: the
    witness opens no ledger)."""
    p = subparsers.add_parser(
        "witness",
        help="verify and cosign other ledgers' checkpoints; refuse and keep evidence of forks",
        description="Follow ledgers' signed checkpoints: verify each new one against the last "
        "verified (signature, RFC 9162 consistency proof), cosign it, and refuse a fork, keeping "
        "the evidence in DIR/evidence/. Exit status with --once: 0 all ok, 1 a fork, 3 a log "
        "not reached.",
    )
    p.add_argument("--state", metavar="DIR", help="the witness's directory (state, evidence)")
    p.add_argument(
        "--log",
        action="append",
        default=[],
        metavar="BASE_URL=PUBLIC_KEY",
        help="a ledger to follow: its API base URL and published key (base64); repeat",
    )
    p.add_argument(
        "--regions",
        metavar="FILE",
        help="also follow every region of a national regions file (base_url, public_key)",
    )
    when = p.add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="check every log once and exit")
    when.add_argument("--every", type=float, metavar="SECONDS", help="check every SECONDS")
    p.add_argument("--serve", type=int, metavar="PORT", help="serve cosignatures and /metrics")
    p.add_argument("--host", default="127.0.0.1", help="interface for --serve (127.0.0.1)")
    p.add_argument("--name", help="the witness's name in its cosignatures (default: host name)")
    p.add_argument("--key", metavar="FILE", help="its Ed25519 key (default DIR/witness.key)")
    p.add_argument("--topic", default=DEFAULT_TOPIC, help=f"Kafka topic ({DEFAULT_TOPIC})")
    p.add_argument(
        "--public-key", action="store_true", help="print the witness's public key and exit"
    )
    p.add_argument(
        "--check-evidence", metavar="FILE", help="re-check a kept fork evidence file and exit"
    )
    p.add_argument(
        "--log-key", metavar="B64", help="with --check-evidence: the log's key to check with"
    )
    p.set_defaults(handler=cmd_witness)


def _usage(message: str) -> int:
    print(f"ledger witness: {message}", file=sys.stderr)
    return 2


def cmd_witness(args: argparse.Namespace, settings: Settings) -> int:
    if args.check_evidence:
        return _check_evidence_file(args.check_evidence, args.log_key)
    if not args.state:
        return _usage("--state DIR is required")
    state = WitnessState(Path(args.state))
    try:
        key = load_or_create_key(Path(args.key) if args.key else state.directory / "witness.key")
    except KeyFileError as e:
        return _usage(str(e))
    if args.public_key:
        from ledger.audit.keys import public_key_b64

        print(public_key_b64(key))
        return 0
    try:
        specs = [LogSpec.parse(text) for text in args.log]
    except ValueError as e:
        return _usage(str(e))
    if args.regions:
        try:
            regions = load_config(args.regions).regions
        except RegionsFileError as e:
            return _usage(str(e))
        specs += [LogSpec(r.base_url, r.public_key) for r in regions]
    if not specs and args.serve is None:
        return _usage("give at least one --log BASE_URL=PUBLIC_KEY (or --regions FILE)")
    if args.once and args.serve is not None:
        return _usage("--once and --serve do not go together")
    publisher = kafka_publisher(settings.kafka_bootstrap, args.topic)
    witness = Witness(
        args.name or f"witness-{socket.gethostname()}",
        key,
        state,
        publish=publisher,
    )
    if args.serve is None and not args.every:
        return _round(witness, specs, print_lines=True)
    logs.configure(settings.log_format, settings.log_level)
    if settings.heartbeat_file:
        heartbeat.configure(settings.heartbeat_file)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server = WitnessServer(witness, args.host, args.serve) if args.serve is not None else None
    if server is not None:
        server.start()
        print(f"witness {witness.name} serving on {server.url}", file=sys.stderr)
    code = 0
    try:
        while not stop.is_set():
            if specs:
                code = _round(witness, specs, print_lines=False)
            if not args.every:
                stop.wait()
                break
            heartbeat.wait(stop, args.every)
    finally:
        if server is not None:
            server.stop()
    return code


def _round(witness: Witness, specs: list[LogSpec], *, print_lines: bool) -> int:
    seen = witness.check_all(specs)
    if print_lines:
        for observation in seen:
            print(observation.line, flush=True)
    statuses = {o.status for o in seen}
    if "fork" in statuses:
        return 1
    return EXIT_UNREACHABLE if "error" in statuses else 0


def _check_evidence_file(path: str, log_key: str | None) -> int:
    import base64
    import binascii

    try:
        evidence = orjson.loads(Path(path).read_bytes())
    except (OSError, orjson.JSONDecodeError) as e:
        return _usage(f"{path}: {e}")
    key = None
    if log_key is not None:
        try:
            key = base64.b64decode(log_key, validate=True)
        except (binascii.Error, ValueError):
            return _usage("--log-key: not base64")
    shown, problems = check_evidence(evidence, key)
    for problem in problems:
        print(f"FAIL: {problem}")
    if problems:
        return 1
    for line in shown:
        print(f"OK: {evidence.get('origin')} {evidence.get('kind')}: {line}")
    return 0
