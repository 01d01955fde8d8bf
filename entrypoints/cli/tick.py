"""``ledger tick``: the deadline job (:func:`services.deadlines.tick`) from the command line, once or ``--every SECONDS``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import orjson

from entrypoints.settings import Settings
from events.instants import InvalidInstant, parse_instant
from ledger.app import Ledger, system_clock_us
from services.deadlines import TickReport, tick

__all__ = ['cmd_tick', 'register']


def register(subparsers: Any, bootstrap: Callable[[Settings], Ledger]) -> None:
    """Add ``tick`` to the ``ledger`` command line (``subparsers`` of argparse)."""
    p = subparsers.add_parser(
        "tick",
        help="record overdue conditional acceptances as breached and expired listings as removed",
    )
    p.add_argument(
        "--at",
        help="judge deadlines as of this instant (RFC 3339 or YYYY-MM-DD = end of that day, "
        "CST); not later than now; default now",
    )
    p.add_argument("--json", action="store_true", help="a JSON report on standard output")

    def handler(args: argparse.Namespace, settings: Settings) -> int:
        return cmd_tick(args, settings, bootstrap)

    p.set_defaults(handler=handler)


def cmd_tick(
    args: argparse.Namespace, settings: Settings, bootstrap: Callable[[Settings], Ledger]
) -> int:
    ledger = bootstrap(settings)
    at = parse_instant(args.at) if args.at else None
    if at is not None and at > system_clock_us():
        raise InvalidInstant(f"--at {args.at} is in the future; deadlines are judged up to now")
    report = tick(ledger, as_of_us=at)
    _print(report, args.json, sys.stdout)
    print(report.summary(), file=sys.stderr)
    return (
        1
        if any(o.status == "rejected" and o.code != "out-of-order" for o in report.outcomes)
        else 0
    )


def _print(report: TickReport, as_json: bool, out: Any) -> None:
    if as_json:
        out.write(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    for outcome, what in zip(report.outcomes, report.issued, strict=True):
        code = f": {outcome.code}" if outcome.code else ""
        out.write(f"{outcome.status:<9} {what}{code}\n")
    for u in report.unknown:
        out.write(f"undecided {u.subject} commitment {u.commitment} due {u.due}: {u.unknown}\n")
