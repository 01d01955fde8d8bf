"""``ledger unverified``: the records the authority rules would refuse now (:func:`services.unverified.find_unverified`), as a review list."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

from entrypoints.settings import Settings
from ledger.app import Ledger
from services.unverified import find_unverified

__all__ = ['register']


def register(subparsers: Any, bootstrap: Callable[[Settings], Ledger]) -> None:
    """Add ``unverified`` to the ``ledger`` command line."""
    p = subparsers.add_parser(
        "unverified",
        help="list recorded events the authority rules would refuse now (recorded before them)",
    )
    p.add_argument("--subject", metavar="CODE", help="only this subject's records")
    p.add_argument("--json", action="store_true", help="one JSON object per record and line")

    def handler(args: argparse.Namespace, settings: Settings) -> int:
        started = time.perf_counter()
        ledger = bootstrap(settings)
        count = 0
        for found in find_unverified(ledger, args.subject):
            count += 1
            if args.json:
                sys.stdout.write(orjson.dumps(found.to_json()).decode() + "\n")
            else:
                r = found.record
                sys.stdout.write(
                    f"{r.subject} #{r.seq} {r.id} {r.type} from {r.source}: "
                    f"{found.refusal.code}: {found.refusal.message}\n"
                )
        print(
            f"unverified: {count} recorded events the authority rules would refuse now "
            f"({time.perf_counter() - started:.1f} s)",
            file=sys.stderr,
        )
        return 0

    p.set_defaults(handler=handler)
