"""The API's subcommands of ``ledger``: ``serve`` and ``token add|list|revoke``.

``entrypoints/cli/__init__.py`` wires them in with one call in ``build_parser``::

    from entrypoints.cli.serve import register as register_api
    register_api(sub, bootstrap)

Each handler has the CLI's signature ``(args, settings) -> exit status``:
0 success, 2 bad usage (message on standard error).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import orjson

from api.tokens import Role, TokenError, TokenStore
from entrypoints.settings import Settings
from ledger.app import Ledger

__all__ = ["register"]

Bootstrap = Callable[[Settings], Ledger]


def register(subparsers: Any, bootstrap: Bootstrap) -> None:
    """Add ``serve`` and ``token`` to the ``ledger`` command's subparsers."""
    p = subparsers.add_parser("serve", help="serve the HTTP API and the pages (uvicorn)")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (8000)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (1)")
    p.add_argument("--log-level", default="info", help="uvicorn log level (info)")
    p.add_argument(
        "--no-projections",
        action="store_true",
        help="do not run the projection runner in this process (`ledger project --follow` does)",
    )
    p.set_defaults(handler=lambda args, settings: cmd_serve(args, settings, bootstrap))

    token = subparsers.add_parser("token", help="manage API bearer tokens (LEDGER_TOKENS_FILE)")
    tsub = token.add_subparsers(title="token commands", metavar="ACTION")
    roles = [r.value for r in Role if r is not Role.PUBLIC]
    t = tsub.add_parser("add", help="create a token; prints it once (only its hash is stored)")
    t.add_argument("--role", required=True, choices=roles)
    t.add_argument("--agency", help="agency code the token may emit as (required for agency)")
    t.add_argument(
        "--subject", help="the unified social credit code a subject token is bound to"
    )
    t.add_argument("--name", help="a name for people (default: the agency, subject or role)")
    t.add_argument("--json", action="store_true")
    t.set_defaults(handler=cmd_token_add)
    t = tsub.add_parser("list", help="list tokens (never the tokens themselves)")
    t.add_argument("--json", action="store_true")
    t.set_defaults(handler=cmd_token_list)
    t = tsub.add_parser("revoke", help="revoke tokens by id (or id prefix) or name")
    t.add_argument("key", help="token id (≥ 6 hex digits) or name")
    t.set_defaults(handler=cmd_token_revoke)
    token.set_defaults(handler=lambda args, settings: _usage(token))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def cmd_serve(args: argparse.Namespace, settings: Settings, bootstrap: Bootstrap) -> int:
    """Build the app from settings and run it under uvicorn until interrupted."""
    import uvicorn

    from entrypoints.wiring import build_app

    if args.workers != 1:
        print("ledger serve: --workers other than 1 is not supported yet", file=sys.stderr)
        return 2
    app = build_app(settings, bootstrap, run_projections=not args.no_projections)
    print(
        f"serving {settings.database_url} on http://{args.host}:{args.port} "
        f"(tokens: {settings.tokens_file})",
        file=sys.stderr,
    )
    # JSON logs: no uvicorn logging config, so its loggers propagate to the root
    # handler that ledger.logs set up.
    options: dict[str, Any] = {"log_config": None} if settings.log_format == "json" else {}
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, **options)
    return 0


def cmd_token_add(args: argparse.Namespace, settings: Settings) -> int:
    store = TokenStore(settings.tokens_file)
    try:
        token, entry = store.add(
            args.role, agency=args.agency, name=args.name, subject=args.subject
        )
    except TokenError as e:
        print(f"ledger token add: {e}", file=sys.stderr)
        return 2
    if args.json:
        out = {**entry.public_json(), "token": token}
        sys.stdout.write(orjson.dumps(out).decode() + "\n")
    else:
        print(token)
        agency = f" as {entry.agency}" if entry.agency else ""
        agency = f" of subject {entry.subject}" if entry.subject else agency
        print(
            f"token {entry.id} for {entry.name} ({entry.role}{agency}); it is shown only "
            f"now, {settings.tokens_file} keeps its SHA-256",
            file=sys.stderr,
        )
        if entry.role == "objection-handler" and not entry.agency:
            print(
                "note: this handler token names no agency or platform (--agency CODE): "
                "it can read, but submits nothing",
                file=sys.stderr,
            )
    return 0


def cmd_token_list(args: argparse.Namespace, settings: Settings) -> int:
    entries = TokenStore(settings.tokens_file).entries()
    if args.json:
        sys.stdout.write(
            orjson.dumps([e.public_json() for e in entries], option=orjson.OPT_INDENT_2).decode()
            + "\n"
        )
        return 0
    for e in entries:
        bound = e.agency or e.subject or "-"
        print(f"{e.id}  {e.role:<18} {bound:<20} {e.name:<24} {e.created}")
    print(f"{len(entries)} tokens in {settings.tokens_file}", file=sys.stderr)
    return 0


def cmd_token_revoke(args: argparse.Namespace, settings: Settings) -> int:
    try:
        gone = TokenStore(settings.tokens_file).revoke(args.key)
    except TokenError as e:
        print(f"ledger token revoke: {e}", file=sys.stderr)
        return 2
    for entry in gone:
        print(f"revoked {entry.id} ({entry.name}, {entry.role})")
    return 0
