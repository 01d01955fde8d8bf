"""``ledger spot-check``: a yearly spot-check draw (:func:`services.spotcheck.spot_check`) from the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson

from entrypoints.settings import Settings
from ledger.app import Ledger
from services.spotcheck import MAX_SEED, parse_ratios, spot_check

__all__ = ['cmd_spot_check', 'register']


def register(subparsers: Any, bootstrap: Callable[[Settings], Ledger]) -> None:
    """Add ``spot-check`` to the ``ledger`` command line (``subparsers`` of argparse)."""
    p = subparsers.add_parser(
        "spot-check", help="draw subjects for a graded random spot check (双随机) and record it"
    )
    p.add_argument("--seed", type=_seed, required=True, help=f"0 … {MAX_SEED}")
    p.add_argument(
        "--ratios",
        type=_ratios,
        help="TIER=RATIO,… e.g. high=0.30,medium-high=0.10,medium=0.02,low=0.01 "
        "(default: the procedures' default scheme)",
    )
    p.add_argument("--draw-id", help="the draw's id (default spot-check-<day>-<seed>)")
    p.add_argument("--json", action="store_true")

    def handler(args: argparse.Namespace, settings: Settings) -> int:
        return cmd_spot_check(args, settings, bootstrap)

    p.set_defaults(handler=handler)


def _seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 0 <= seed <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"the seed must be between 0 and {MAX_SEED}")
    return seed


def _ratios(text: str) -> dict[str, Decimal]:
    try:
        return parse_ratios(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_spot_check(
    args: argparse.Namespace, settings: Settings, bootstrap: Callable[[Settings], Ledger]
) -> int:
    ledger = bootstrap(settings)
    check = spot_check(ledger, args.seed, ratios=args.ratios, draw_id=args.draw_id)
    if args.json:
        sys.stdout.write(orjson.dumps(check.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        for tier, codes in check.result.drawn.items():
            print(
                f"{tier:<12} {len(codes):>4} of {check.result.population[tier]:>5}  {' '.join(codes)}"
            )
    print(check.summary(), file=sys.stderr)
    return 1 if any(o.status == "rejected" for o in check.outcomes) else 0
