"""The regulators' commands of ``ledger``: warnings, statistics and exports.

``register(subparsers, bootstrap)`` adds them; each handler returns the exit
status: 0 success, 2 bad usage (a bad instant or an unknown rule, with a clear
message). The operator's command line sees everything (``projections.public``'s
``EVERYTHING``); ``--json`` is the shape ``GET /v1/warnings`` answers too.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from datetime import date

import orjson

from entrypoints import rule_files
from entrypoints.cli.reads import Refused, instant_option
from entrypoints.settings import Settings
from ledger.app import Ledger
from projections.export_kinds import EXPORT_FORMATS, EXPORT_KINDS
from projections.runner import ProjectionRunner
from projections.warnings import ledger_warnings, warnings_body, warnings_text

__all__ = ["register"]

Bootstrap = Callable[[Settings], Ledger]


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise Refused(f"{option}: {text!r} is not a date written YYYY-MM-DD") from None


def register(subparsers: argparse._SubParsersAction, bootstrap: Bootstrap) -> None:
    """Add ``warnings``, ``statistics`` and ``export`` to the ``ledger`` command line."""

    def cmd_warnings(args: argparse.Namespace, settings: Settings) -> int:
        try:
            as_of = instant_option(args.as_of, "--as-of")
            known_at = instant_option(args.known_at, "--known-at")
            book = rule_files.warning_book([settings.rules_dir])
            if args.rule is not None and args.rule not in book.rule_ids():
                raise Refused(
                    f"--rule: no rule {args.rule!r}; known: {', '.join(book.rule_ids())}"
                )
        except Refused as exc:
            print(f"ledger: {exc}", file=sys.stderr)
            return 2
        ledger = bootstrap(settings)
        rules = ledger.rule_services()
        now = ledger.clock()
        at = now if as_of is None else as_of
        found = ledger_warnings(
            ledger.recorder.store.views(), rules, book, at, known_at, args.rule
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

    def cmd_statistics(args: argparse.Namespace, settings: Settings) -> int:
        from projections.statistics import StatisticsFilter, statistics, statistics_csv

        try:
            if args.region is not None and (len(args.region) != 6 or not args.region.isdigit()):
                raise Refused(f"--region: {args.region!r} is not a six-digit GB/T 2260 code")
            filters = StatisticsFilter(
                region=args.region,
                sector=args.sector,
                agency=args.agency,
                start=_day(args.start, "--from"),
                end=_day(args.end, "--to"),
            )
        except Refused as exc:
            print(f"ledger: {exc}", file=sys.stderr)
            return 2
        ledger = bootstrap(settings)
        rules = ledger.rule_services()
        store = ledger.recorder.store.views()
        caught = ProjectionRunner(ledger.recorder, rules, store=store).catch_up(
            progress=None, label="views"
        )
        if caught:
            print(f"views caught up: {caught:,} records", file=sys.stderr)
        body = statistics(store, rules, filters)
        if args.format == "csv":
            sys.stdout.write(statistics_csv(body))
        else:
            sys.stdout.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")
        total = sum(r["count"] for r in body["records"])
        print(
            f"statistics of {total:,} records at ledger position {body['position']:,}",
            file=sys.stderr,
        )
        return 0

    p = subparsers.add_parser(
        "statistics", help="statistics for a region, sector, agency and period (JSON or CSV)"
    )
    p.add_argument("--region", help="GB/T 2260 region (000000 all, PP0000 a province …)")
    p.add_argument("--sector", help="the recording agency's kind, e.g. samr")
    p.add_argument("--agency", help="one agency source, e.g. samr/440300")
    p.add_argument("--from", dest="start", help="first valid day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", help="last valid day, YYYY-MM-DD")
    p.add_argument("--format", choices=("json", "csv"), default="json")
    p.set_defaults(handler=cmd_statistics)

    def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
        from ledger.audit.checkpoints import latest_checkpoint
        from projections.exports import export_of, write_export

        try:
            as_of = instant_option(args.as_of, "--as-of")
        except Refused as exc:
            print(f"ledger: {exc}", file=sys.stderr)
            return 2
        started = time.monotonic()
        ledger = bootstrap(settings)
        rules = ledger.rule_services()
        checkpoint = latest_checkpoint(ledger.recorder)
        if checkpoint is None:
            print(
                "ledger: no signed checkpoint yet: an export is the state a checkpoint commits "
                "to; run `ledger checkpoint` first",
                file=sys.stderr,
            )
            return 1
        now = ledger.clock()
        export = export_of(
            args.kind,
            ledger.recorder.store.views(),
            rules,
            checkpoint.to_json(),
            now if as_of is None else as_of,
            now,
        )
        meta = orjson.dumps(export.snapshot.to_json(), option=orjson.OPT_INDENT_2)
        if args.output in (None, "-"):
            buffer = io.BytesIO()
            rows = write_export(export, args.format, buffer)
            size = buffer.tell()
            sys.stdout.buffer.write(buffer.getvalue())
            sys.stdout.buffer.flush()
            if args.format != "parquet":
                print(meta.decode(), file=sys.stderr)
        else:
            with open(args.output, "wb") as out:
                rows = write_export(export, args.format, out)
                size = out.tell()
            if args.format != "parquet":
                with open(f"{args.output}.snapshot.json", "wb") as out:
                    out.write(meta + b"\n")
        position = export.snapshot.position
        print(
            f"exported {rows:,} {args.kind} rows ({size:,} bytes, {args.format}) "
            f"of the {position:,} records of checkpoint {position:,} "
            f"in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )
        return 0

    p = subparsers.add_parser(
        "export",
        help="a consistent snapshot for other systems (按需共享), at the latest checkpoint",
    )
    p.add_argument(
        "kind",
        choices=EXPORT_KINDS,
        help="records (as recorded, with audit hashes), disclosure (published records), "
        "lists (list members and bans) or standing (one row per subject)",
    )
    p.add_argument("--as-of", help="valid time: RFC 3339, or a date = end of that day in CST")
    p.add_argument("--format", choices=EXPORT_FORMATS, default="parquet")
    p.add_argument(
        "--output", help="file (default standard output); CSV and JSON lines get FILE.snapshot.json"
    )
    p.set_defaults(handler=cmd_export)
