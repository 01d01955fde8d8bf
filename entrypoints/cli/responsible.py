"""``ledger persons CODE``: a subject's responsible persons (:func:`services.responsible.persons_of`), printed for people or as JSON."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import orjson

from entrypoints.settings import Settings
from events.codes import validate_subject_code
from events.instants import InvalidInstant, parse_instant
from events.reasons import InvalidEvent
from ledger.app import Ledger
from services.responsible import persons_of

__all__ = ['persons_text', 'register']


def persons_text(body: dict[str, Any]) -> str:
    """The read for people: each person and what extends to them, then the measures."""
    lines = [f"{body['subject']} — 责任人 responsible persons, as of {body['as_of']}"]
    if not body["persons"]:
        lines.append("  no responsible persons linked")
    for p in body["persons"]:
        until = f" until {p['until']}" if p["until"] else ""
        lines.append(f"  {p['person']}  {p['name']}  {p['role']} since {p['since']}{until}")
        for e in p["extends"]:
            to = f" until {e['until']}" if e["until"] else ""
            lines.append(f"    ↳ {e['kind']} {e['what']} ({e['event_id']}) since {e['since']}{to}")
        if not p["extends"]:
            lines.append("    ↳ nothing extends to this person")
    lines.append(f"惩戒措施 measures in force ({body['measures_list']}):")
    if not body["measures"]:
        lines.append("  none")
    for m in body["measures"]:
        extends = "extends to responsible persons" if m["extends_to_persons"] else "subject only"
        reached = f": {', '.join(m['persons'])}" if m["persons"] else ""
        lines.append(
            f"  {m['event_id']}  {m['measure']} {m['name'] or '(not on the list)'} "
            f"[{m['category_zh'] or '—'}] — {extends}{reached}"
        )
    return "\n".join(lines) + "\n"


def register(subparsers: Any, bootstrap: Callable[[Settings], Ledger]) -> None:
    """Add ``persons`` to the ``ledger`` command line."""
    p = subparsers.add_parser(
        "persons",
        help="a subject's responsible persons and which sanctions extend to them (auditors)",
    )
    p.add_argument("code", help="unified social credit code (统一社会信用代码)")
    p.add_argument("--as-of", help="valid time: RFC 3339, or a date = end of that day in CST")
    p.add_argument("--json", action="store_true")

    def handler(args: argparse.Namespace, settings: Settings) -> int:
        try:
            code = validate_subject_code(args.code)
            as_of = None if args.as_of is None else parse_instant(args.as_of)
        except InvalidEvent as exc:
            print(f"ledger: {exc.rejection.code}: {exc.rejection.message}", file=sys.stderr)
            return 2
        except InvalidInstant as exc:
            print(f"ledger: --as-of: {exc}", file=sys.stderr)
            return 2
        body = persons_of(bootstrap(settings), code, as_of)
        if body is None:
            print(f"ledger: no records of subject {code}", file=sys.stderr)
            return 1
        if args.json:
            sys.stdout.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")
        else:
            sys.stdout.write(persons_text(body))
        return 0

    p.set_defaults(handler=handler)
