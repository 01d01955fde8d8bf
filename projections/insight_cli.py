"""The regulators' commands of ``ledger``: warnings (and, beside them, statistics and exports).

``register(subparsers, bootstrap)`` adds them; each handler returns the exit
status: 0 success, 2 bad usage (a bad instant or an unknown rule, with a clear
message). The operator's command line sees everything (``projections.public``'s
``EVERYTHING``); ``--json`` is the shape ``GET /v1/warnings`` answers too.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import orjson

from commands.services import RuleServices
from commands.warning_rules import WarningBook
from events.instants import InvalidInstant, parse_instant
from ledger.app import Ledger
from ledger.settings import Settings
from projections.views import view_store_for
from projections.warnings import ledger_warnings, warnings_body, warnings_text

__all__ = ["register"]

Bootstrap = Callable[[Settings], Ledger]


class _Refused(Exception):
    """Bad usage: printed as ``ledger: message``, exit status 2."""


def _instant(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    try:
        return parse_instant(text)
    except InvalidInstant as exc:
        raise _Refused(f"{option}: {exc}") from None


def register(subparsers: argparse._SubParsersAction, bootstrap: Bootstrap) -> None:
    """Add ``warnings`` to the ``ledger`` command line."""

    def cmd_warnings(args: argparse.Namespace, settings: Settings) -> int:
        try:
            as_of = _instant(args.as_of, "--as-of")
            known_at = _instant(args.known_at, "--known-at")
            book = WarningBook.load([settings.rules_dir])
            if args.rule is not None and args.rule not in book.rule_ids():
                raise _Refused(
                    f"--rule: no rule {args.rule!r}; known: {', '.join(book.rule_ids())}"
                )
        except _Refused as exc:
            print(f"ledger: {exc}", file=sys.stderr)
            return 2
        ledger = bootstrap(settings)
        rules = ledger.rules or RuleServices.load()
        now = ledger.clock()
        at = now if as_of is None else as_of
        found = ledger_warnings(
            view_store_for(ledger.recorder), rules, book, at, known_at, args.rule
        )
        body = warnings_body(found, at, known_at)
        if args.json:
            sys.stdout.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")
        else:
            sys.stdout.write(warnings_text(body))
        subjects = len({w.subject for w in found})
        print(f"{len(found):,} warnings about {subjects:,} subjects", file=sys.stderr)
        return 0

    p = subparsers.add_parser(
        "warnings", help="early warnings (风险预警): subjects heading for trouble, with evidence"
    )
    p.add_argument("--as-of", help="valid time: RFC 3339, or a date = end of that day in CST")
    p.add_argument("--known-at", help="recorded time: what the ledger had recorded by then")
    p.add_argument("--rule", help="one rule id only (e.g. multi-agency-findings)")
    p.add_argument("--json", action="store_true", help="the JSON shape of GET /v1/warnings")
    p.set_defaults(handler=cmd_warnings)
