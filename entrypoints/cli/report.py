"""``ledger report CODE [--as-of D] [--format json|pdf|html] [--output FILE]``: issue a
signed credit report (``credit-report/1``, :mod:`projections.report`).

Without ``--as-of`` the report holds what the public sees now; with it, what was public on
that date as the ledger knew it then (the CLI is the operator's tool: DOMAIN.md
Clarifications, "Reports for a past date are issued by the CLI or to those roles"). JSON
goes to standard output unless ``--output``; a PDF needs ``--output``. Exit status: 0 issued,
1 no records of the subject, 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from entrypoints.bootstrap import checkpoint_log
from entrypoints.settings import Settings
from events.codes import validate_subject_code
from events.instants import InvalidInstant, parse_instant
from events.reasons import InvalidEvent
from ledger.app import Ledger
from projections.live import UnknownSubject

__all__ = ["issuer_for", "register"]

Bootstrap = Callable[[Settings], Ledger]


def issuer_for(ledger: Ledger, settings: Settings) -> Any:
    """The :class:`~projections.report.ReportIssuer` of ``ledger`` with the settings'
    checkpoint key, origin and public URL."""
    from ledger.audit.keys import load_or_create_key
    from projections.reads import Reads
    from projections.report import ReportIssuer

    assert ledger.rules is not None
    reads = Reads(
        ledger.recorder,
        ledger.rules,
        clock=ledger.clock,
        keystore=getattr(ledger, "keystore", None),
    )
    return ReportIssuer(
        ledger.recorder,
        reads,
        load_or_create_key(settings.signing_key_file),
        settings.name,
        ledger.clock,
        settings.public_url,
        checkpoint_log(settings),
    )


def register(subparsers: Any, bootstrap: Bootstrap) -> None:
    """Add ``report`` to the ``ledger`` command's subparsers."""
    p = subparsers.add_parser(
        "report", help="issue a signed credit report (信用报告) of a subject: JSON, PDF or HTML"
    )
    p.add_argument("code", help="unified social credit code (统一社会信用代码)")
    p.add_argument(
        "--as-of",
        help="the report's date: RFC 3339, or a date = end of that day in CST (default now)",
    )
    p.add_argument("--format", choices=("json", "pdf", "html"), default="json")
    p.add_argument("--output", type=Path, help="write to FILE (required for pdf)")
    p.set_defaults(handler=lambda args, settings: cmd_report(args, settings, bootstrap))


def with_cosignatures(report: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """``report`` with the cosignatures of ``LEDGER_WITNESSES`` beside its signature."""
    from ledger.audit.cosignatures import CosignatureSource

    witnesses = CosignatureSource.of(settings.witnesses)
    return witnesses.attach(report) if witnesses is not None else report


def cmd_report(args: argparse.Namespace, settings: Settings, bootstrap: Bootstrap) -> int:
    from api.report_render import PdfUnavailable, render_html, render_pdf
    from projections.report import ReportRefused, ReportUnavailable

    try:
        code = validate_subject_code(args.code)
    except InvalidEvent as e:
        print(f"ledger: {e.rejection.code}: {e.rejection.message}", file=sys.stderr)
        return 2
    try:
        as_of = parse_instant(args.as_of) if args.as_of else None
    except InvalidInstant as e:
        print(f"ledger: --as-of: {e}", file=sys.stderr)
        return 2
    if args.format == "pdf" and args.output is None:
        print("ledger: a PDF needs --output FILE", file=sys.stderr)
        return 2
    issuer = issuer_for(bootstrap(settings), settings)
    try:
        report = with_cosignatures(issuer.issue(code, as_of), settings)
    except UnknownSubject:
        print(f"ledger: no records of subject {code} (as known then)", file=sys.stderr)
        return 1
    except ReportRefused as e:
        print(f"ledger: {e}", file=sys.stderr)
        return 2
    except ReportUnavailable as e:
        print(f"ledger: {e}", file=sys.stderr)
        return 1
    if args.format == "pdf":
        try:
            data = render_pdf(report)
        except PdfUnavailable as e:
            print(f"ledger: {e}", file=sys.stderr)
            return 2
    elif args.format == "html":
        data = render_html(report).encode()
    else:
        data = orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n"
    if args.output is None:
        sys.stdout.buffer.write(data)
    else:
        args.output.write_bytes(data)
    from ledger.audit.reports import report_hash

    print(
        f"report {report['report_id']} of {code}: {len(report['content']['sections'])} sections, "
        f"{sum(len(s['items']) for s in report['content']['sections'])} records, "
        f"sha256 {report_hash(report)}"
        + (f", written to {args.output}" if args.output is not None else ""),
        file=sys.stderr,
    )
    return 0
