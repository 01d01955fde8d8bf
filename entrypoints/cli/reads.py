"""The read-side commands of ``ledger``: standing, disclosure, history, lists, rebuild, project.

``register(subparsers, bootstrap)`` adds them to the ``ledger`` parser; each
handler takes ``(args, settings)`` and returns the exit status: 0 success, 1 an
answer that is not there (a subject with no records), 2 bad usage (a bad code
or instant, with a clear message). Default output is for people; ``--json`` is
DESIGN.md's shape. Long work (rebuild, catching the views up) shows a progress
bar and ends with a one-line summary with figures on standard error.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from entrypoints import rule_files
from entrypoints.bootstrap import open_recorder
from entrypoints.settings import Settings
from events.codes import validate_subject_code
from events.instants import InvalidInstant, parse_instant
from events.reasons import InvalidEvent
from ledger.app import Ledger
from ledger.store.views import LIST_NAMES, VIEW_NAMES
from projections.faults import SubjectFoldFailed
from projections.reads import Reads, SubjectViewsFailed, UnknownSubject
from projections.runner import ProjectionRunner
from projections.text import LANGS, disclosure_text, list_text, standing_text
from projections.trustworthy import LIST_NAME as TRUSTWORTHY
from projections.trustworthy import members as trustworthy_members

__all__ = ["register"]

Bootstrap = Callable[[Settings], Ledger]
Handler = Callable[[argparse.Namespace, Settings], int]


class Refused(Exception):
    """Bad usage: printed as ``ledger: message``, exit status 2 (every read command
    of the projections and insight areas refuses this way)."""


def instant_option(text: str | None, option: str) -> int | None:
    """The instant an ``--as-of`` / ``--known-at`` option names (None when absent), or
    :class:`Refused` naming the option."""
    if text is None:
        return None
    try:
        return parse_instant(text)
    except InvalidInstant as exc:
        raise Refused(f"{option}: {exc}") from None


def _code(text: str) -> str:
    try:
        return validate_subject_code(text)
    except InvalidEvent as exc:
        raise Refused(f"{exc.rejection.code}: {exc.rejection.message}") from None


def _print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def _reads(ledger: Ledger) -> Reads:
    rules = ledger.rule_services()
    return Reads(
        ledger.recorder, rules, clock=ledger.clock, keystore=getattr(ledger, "keystore", None)
    )


def _guarded(run: Callable[[argparse.Namespace, Settings], int]) -> Handler:
    def handler(args: argparse.Namespace, settings: Settings) -> int:
        try:
            return run(args, settings)
        except Refused as exc:
            print(f"ledger: {exc}", file=sys.stderr)
            return 2
        except UnknownSubject as exc:
            print(f"ledger: no records of subject {exc} (as known then)", file=sys.stderr)
            return 1
        except SubjectViewsFailed as exc:
            print(f"ledger: {exc}", file=sys.stderr)
            return 1

    return handler


@dataclass(frozen=True, slots=True)
class SubjectRead:
    """One read of a subject at ``--as-of`` / ``--known-at``: ``ledger NAME CODE``. ``read``
    asks :class:`projections.reads.Reads`; ``as_json`` is DESIGN.md's shape of the answer,
    ``as_text`` the text view in a language (``--lang`` when ``lang``)."""

    name: str
    help: str
    read: Callable[[Reads, str, int | None, int | None], Any]
    as_json: Callable[[Any], Any]
    as_text: Callable[[Any, str], str]
    lang: bool = True


SUBJECT_READS = (
    SubjectRead(
        "standing",
        "a subject's credit standing: grade, score and why",
        Reads.standing,
        lambda body: body,
        standing_text,
    ),
    SubjectRead(
        "disclosure",
        "what is public about a subject (信用中国)",
        Reads.disclosure,
        lambda body: body,
        disclosure_text,
    ),
    SubjectRead(
        "history",
        "a subject's traceable history: every record, both clocks, what it changed",
        Reads.history,
        lambda history: history.to_json(),
        lambda history, _lang: history.text(),
        lang=False,
    ),
)
"""The subject reads of the command line, in the order ``ledger --help`` lists them."""


def _lang_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang",
        choices=LANGS,
        default="zh",
        help="language of codes and reasons in the text view (default zh; --json has both)",
    )


def register(subparsers: argparse._SubParsersAction, bootstrap: Bootstrap) -> None:
    """Add the read-side commands to the ``ledger`` command line."""

    def subject_command(read: SubjectRead) -> None:
        def run(args: argparse.Namespace, settings: Settings) -> int:
            code = _code(args.code)
            as_of = instant_option(args.as_of, "--as-of")
            known_at = instant_option(args.known_at, "--known-at")
            answer = read.read(_reads(bootstrap(settings)), code, as_of, known_at)
            if args.json:
                _print_json(read.as_json(answer))
            else:
                sys.stdout.write(read.as_text(answer, getattr(args, "lang", "zh")))
            return 0

        p = subparsers.add_parser(read.name, help=read.help)
        p.add_argument("code", help="unified social credit code (统一社会信用代码)")
        p.add_argument(
            "--as-of", help="valid time: RFC 3339, or a date = end of that day in CST (default now)"
        )
        p.add_argument(
            "--known-at",
            help="recorded time: what the ledger had recorded by then (default now)",
        )
        p.add_argument("--json", action="store_true", help="DESIGN.md's JSON shape")
        if read.lang:
            _lang_option(p)
        p.set_defaults(handler=_guarded(run))

    def cmd_lists(args: argparse.Namespace, settings: Settings) -> int:
        as_of = instant_option(args.as_of, "--as-of")
        known_at = instant_option(args.known_at, "--known-at")
        ledger = bootstrap(settings)
        reads = _reads(ledger)
        runner = ProjectionRunner(ledger.recorder, reads.rules, store=reads.store)
        caught = runner.catch_up(progress=True, label="views")
        if caught:
            print(f"views caught up: {caught:,} records", file=sys.stderr)
        if args.name == TRUSTWORTHY:
            body = trustworthy_members(reads, as_of, known_at)
        else:
            body = reads.list_members(args.name, as_of, known_at)
        if args.json:
            _print_json(body)
        else:
            sys.stdout.write(list_text(body, args.lang))
        return 0

    def cmd_rebuild(args: argparse.Namespace, settings: Settings) -> int:
        subject = _code(args.subject) if args.subject else None
        if subject is not None and args.name:
            raise Refused("--subject rebuilds every view of one subject; name no view")
        ledger = bootstrap(settings)
        rules = ledger.rule_services()
        runner = ProjectionRunner(ledger.recorder, rules, batch_size=settings.batch_size)
        if subject is not None:
            try:
                folded = runner.rebuild_subject(subject)
            except LookupError:
                raise UnknownSubject(subject) from None
            except SubjectFoldFailed as exc:
                print(f"ledger: {exc}", file=sys.stderr)
                return 1
            print(
                f"rebuilt the views of {subject}: {folded:,} records folded; not marked failed",
                file=sys.stderr,
            )
            return 0
        parallel = ledger.recorder.store.parallel_rebuild and args.workers > 1
        summary = runner.rebuild(
            [args.name] if args.name else None,
            progress=True,  # a bar on a terminal only
            workers=args.workers if parallel else 1,
            open_recorder=functools.partial(open_recorder, settings.database_url, pool_size=1),
            open_rules=functools.partial(
                rule_files.rule_services,
                settings.calendar_dir,
                settings.rules_dir,
                settings.agencies_file,
            ),
        )
        print(summary.line(), file=sys.stderr)
        return 0

    def cmd_project(args: argparse.Namespace, settings: Settings) -> int:
        ledger = bootstrap(settings)
        rules = ledger.rule_services()
        runner = ProjectionRunner(ledger.recorder, rules, batch_size=settings.batch_size)
        caught = runner.catch_up(progress=True, label="project catching up")
        refreshed = runner.refresh(ledger.clock())
        print(
            f"views at ledger position {min(runner.positions().values()):,}: "
            f"{caught:,} records applied, {refreshed:,} stale standings refreshed",
            file=sys.stderr,
        )
        if args.follow:
            stop = threading.Event()
            try:
                runner.follow(stop, clock=ledger.clock)
            except KeyboardInterrupt:
                stop.set()
        return 0

    for read in SUBJECT_READS:
        subject_command(read)

    p = subparsers.add_parser("lists", help="members of a public list or the market-ban register")
    names = (*LIST_NAMES, TRUSTWORTHY)
    p.add_argument("name", choices=names, help="which list: " + ", ".join(names))
    p.add_argument("--as-of", help="valid time (default now)")
    p.add_argument("--known-at", help="recorded time (default now)")
    p.add_argument("--json", action="store_true")
    _lang_option(p)
    p.set_defaults(handler=_guarded(cmd_lists))

    p = subparsers.add_parser("rebuild", help="drop and rebuild the materialised views")
    p.add_argument("name", nargs="?", choices=VIEW_NAMES, help="one view (default: all)")
    p.add_argument(
        "--subject",
        metavar="CODE",
        help="fold one subject's views again (e.g. one marked failed) and clear its mark",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes folding subjects (PostgreSQL; default: one per core)",
    )
    p.set_defaults(handler=_guarded(cmd_rebuild))

    p = subparsers.add_parser("project", help="bring the materialised views up to date")
    p.add_argument("--follow", action="store_true", help="keep following new records")
    p.set_defaults(handler=_guarded(cmd_project))
