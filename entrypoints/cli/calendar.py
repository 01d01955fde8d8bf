"""``ledger calendar load FILE``: load a year's official working-day calendar.

The ledger refuses to compute a deadline in a year whose official calendar it does
not know (``calendar-unknown``, never guessed). This command takes the year's
calendar as transcribed from the State Council's holiday notice
(``commands/calendars/README.md`` has the format), validates it
(:class:`commands.calendar.YearCalendar`), checks that it agrees with every
calendar already loaded, and writes it as ``YYYY.json`` into ``LEDGER_CALENDAR_DIR``
— the directory every ledger process reads at start-up (restart the services to
use it). A file already there for the same year is replaced only with
``--replace``; loading the identical calendar again changes nothing.

Exit status: 0 loaded (or already there), 2 invalid file or no ``LEDGER_CALENDAR_DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from commands.calendar import WorkingCalendar
from entrypoints import rule_files
from entrypoints.settings import Settings
from ledger.app import Ledger

__all__ = ["CalendarLoadError", "load_calendar", "register"]


class CalendarLoadError(ValueError):
    """The calendar cannot be loaded; the message says why and what to do."""


def load_calendar(path: Path, directory: Path | None, *, replace: bool = False) -> tuple[Path, str]:
    """Validate ``path`` and write it as ``<directory>/<year>.json``.

    Returns (the written file, ``loaded`` | ``replaced`` | ``unchanged``). Raises
    :class:`CalendarLoadError` for an invalid file, a missing directory setting, a
    different file for the same year without ``replace``, or a disagreement with
    the other calendars of the directory."""
    if directory is None:
        raise CalendarLoadError(
            "LEDGER_CALENDAR_DIR is not set: set it to the directory every ledger process "
            "reads calendars from, then load the file again"
        )
    try:
        calendar = rule_files.year_calendar(path)
    except OSError as e:
        raise CalendarLoadError(f"cannot read {path}: {e.strerror}") from e
    except ValueError as e:
        raise CalendarLoadError(str(e)) from e
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{calendar.year}.json"
    status = "loaded"
    if target.exists():
        try:
            existing = rule_files.year_calendar(target)
        except ValueError:
            existing = None
        if existing == calendar:
            return target, "unchanged"
        if not replace:
            raise CalendarLoadError(
                f"{target} already holds a different calendar for {calendar.year}; "
                "use --replace to replace it"
            )
        status = "replaced"
    others = [rule_files.year_calendar(p) for p in sorted(directory.glob("*.json")) if p != target]
    try:
        WorkingCalendar([*others, calendar])
    except ValueError as e:
        raise CalendarLoadError(f"{directory}: {e}") from e
    body = json.dumps(calendar.to_json(), ensure_ascii=False, indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".calendar-", dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(body)
    os.replace(tmp, target)
    return target, status


def register(subparsers: Any, bootstrap: Callable[[Settings], Ledger]) -> None:
    """Add ``calendar load FILE`` to the ``ledger`` command line."""
    p = subparsers.add_parser("calendar", help="official working-day calendars (load a new year)")
    sub = p.add_subparsers(title="calendar commands", metavar="ACTION")
    load = sub.add_parser(
        "load", help="validate a year's official calendar (JSON) and put it in LEDGER_CALENDAR_DIR"
    )
    load.add_argument("file", type=Path, help="YYYY.json (format: commands/calendars/README.md)")
    load.add_argument("--replace", action="store_true", help="replace that year's loaded file")

    def handler(args: argparse.Namespace, settings: Settings) -> int:
        try:
            target, status = load_calendar(args.file, settings.calendar_dir, replace=args.replace)
        except CalendarLoadError as e:
            print(f"ledger: calendar: {e}", file=sys.stderr)
            return 2
        print(
            f"calendar {target.stem} {status}: {target} (restart the ledger's services to use it)"
        )
        return 0

    load.set_defaults(handler=handler)
