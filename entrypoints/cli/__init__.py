"""The ``ledger`` command line (DESIGN.md "Command line").

Exit status: 0 success; 1 the command ran but something was rejected or failed a
check; 2 bad usage or configuration. Default output is for people; ``--json`` is
for machines (shapes in DESIGN.md). Long work shows a progress bar on a terminal
and always ends with a one-line summary with figures (on standard error).
"""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError
from tqdm import tqdm

from entrypoints.bootstrap import ConfigurationError, bootstrap
from entrypoints.cli import audit as audit_cli
from entrypoints.cli import (
    backup,
    feed,
    ingest,
    national,
    persons,
    responsible,
    spotcheck,
    unverified,
)
from entrypoints.cli import bench as bench_cli
from entrypoints.cli import calendar as calendars
from entrypoints.cli import insight as insight_cli
from entrypoints.cli import reads as projections_cli
from entrypoints.cli import report as report_cli
from entrypoints.cli import serve as api_cli
from entrypoints.cli import tick as deadlines
from entrypoints.cli import witness as witness_cli
from entrypoints.settings import Settings
from events.envelope import Envelope, Refused, parse_submission
from events.instants import InvalidInstant, cst_text
from events.reasons import InvalidEvent
from ledger import heartbeat, logs
from ledger.app import Ledger, Outcome

Handler = Callable[[argparse.Namespace, Settings], int]

COMMAND_AREAS = (
    ingest,
    feed,
    api_cli,
    deadlines,
    spotcheck,
    persons,
    responsible,
    projections_cli,
    insight_cli,
    audit_cli,
    bench_cli,
    backup,
    unverified,
    calendars,
    report_cli,
    national,
    witness_cli,
)
"""Modules that add their own subcommands with ``register(subparsers, bootstrap)``."""

LONG_RUNNING = ("serve", "ingest", "project", "tick", "feed", "national")
"""Services whose logs follow ``LEDGER_LOG_FORMAT`` / ``LEDGER_LOG_LEVEL`` (``ledger.logs``)."""

PERIODIC = ("tick", "checkpoint", "verify")
"""Jobs a service runs on a schedule: they get ``--every SECONDS``."""

EXAMPLE_SUBJECT = "91440100423988735H"
"""The demo's example subject (``demo.example_subject``; README uses it too)."""

EXAMPLES: dict[str, str] = {
    "submit": "ledger submit examples/events.jsonl\n  cat events.json | ledger submit - --json",
    "demo": f"ledger demo && ledger standing {EXAMPLE_SUBJECT}",
    "ingest": "LEDGER_KAFKA_BOOTSTRAP=127.0.0.1:9092 LEDGER_METRICS_PORT=9100 ledger ingest",
    "feed": "LEDGER_KAFKA_BOOTSTRAP=127.0.0.1:9092 ledger feed --once",
    "national": "ledger national --config regions.toml --port 8100",
    "serve": "ledger serve --host 0.0.0.0 --port 8000   (pages at /, API under /v1, docs at /docs)",
    "token": "ledger token add --role agency --agency samr/310000",
    "token add": "ledger token add --role agency --agency samr/310000 --name 上海市市场监管局",
    "token list": "ledger token list --json",
    "token revoke": "ledger token revoke 3f9a2c",
    "tick": "ledger tick --at 2026-12-01   (or as a service: ledger tick --every 300)",
    "spot-check": "ledger spot-check --seed 20260301 --json",
    "erase-person": "ledger erase-person --key-id pk-0123456789abcdef0123456789abcdef   (or by identity number)",
    "standing": f"ledger standing {EXAMPLE_SUBJECT} --as-of 2025-06-01 --json",
    "disclosure": f"ledger disclosure {EXAMPLE_SUBJECT} --as-of 2025-06-01",
    "history": f"ledger history {EXAMPLE_SUBJECT} --as-of 2025-01-20 --known-at 2025-01-20",
    "lists": "ledger lists serious-dishonesty --as-of 2025-06-01",
    "warnings": "ledger warnings --as-of 2025-06-30 --known-at 2025-06-30 --rule grade-fall",
    "statistics": "ledger statistics --region 440000 --from 2025-01-01 --to 2025-12-31 --format csv",
    "export": "ledger export disclosure --as-of 2026-06-30 --format parquet --output disclosure.parquet",
    "rebuild": "ledger rebuild            (or one view: ledger rebuild standing)",
    "project": "ledger project --follow",
    "checkpoint": "ledger checkpoint && ledger checkpoint --public-key",
    "verify": 'ledger verify --public-key "$(ledger checkpoint --public-key)"',
    "audit-bundle": f"ledger audit-bundle {EXAMPLE_SUBJECT} --output bundle.json",
    "proof": "ledger proof inclusion 41 --checkpoint 1000",
    "proof inclusion": "ledger proof inclusion 41 --checkpoint 1000",
    "proof consistency": "ledger proof consistency 1000 2000",
    "proof head": f"ledger proof head {EXAMPLE_SUBJECT}",
    "bench": "ledger bench --scale smoke",
    "backup": 'ledger backup "backups/ledger-$(date +%F).dump"',
    "restore": 'ledger restore backups/ledger-2026-11-20.dump --public-key "$(cat public.key)"',
    "healthcheck": "LEDGER_HEARTBEAT_FILE=/tmp/ledger-heartbeat ledger healthcheck --max-age 120",
    "schema": "ledger schema credit.penalty.decided",
    "persons": f"ledger persons {EXAMPLE_SUBJECT} --json",
    "rotate-person-secret": "ledger rotate-person-secret   (after restoring an old person secret file)",
    "unverified": "ledger unverified --json   (or one subject: ledger unverified --subject CODE)",
    "calendar": "LEDGER_CALENDAR_DIR=/var/lib/credit-ledger/calendars ledger calendar load 2027.json",
    "calendar load": "LEDGER_CALENDAR_DIR=/var/lib/credit-ledger/calendars ledger calendar load 2027.json --replace",
    "report": f"ledger report {EXAMPLE_SUBJECT} --format pdf --output report.pdf",
    "witness": "ledger witness --state witness --once --log https://ledger.jx.example=BASE64KEY",
}
"""``ledger COMMAND --help`` ends with ``example: …`` from here (one place for all)."""


def add_examples(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    """Give every subcommand of ``parser`` (recursively) its :data:`EXAMPLES` line as
    the help epilog, keeping the help text's line breaks."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for name, sub in action.choices.items():
            command = f"{prefix}{name}"
            if command in EXAMPLES and not sub.epilog:
                sub.epilog = f"example:\n  {EXAMPLES[command]}"
                sub.formatter_class = argparse.RawDescriptionHelpFormatter
            add_examples(sub, f"{command} ")


def make_periodic(parser: argparse.ArgumentParser) -> None:
    """Give a job ``--every SECONDS``: run it, wait, run again, until SIGTERM/SIGINT
    (the wait is interrupted at once; a run in progress finishes). Exit status is
    the last run's."""
    once: Handler = parser.get_default("handler")
    parser.add_argument(
        "--every", type=float, metavar="SECONDS", help="repeat every SECONDS until stopped"
    )

    def periodic(args: argparse.Namespace, settings: Settings) -> int:
        if not args.every:
            return once(args, settings)
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        code = 0
        while not stop.is_set():
            code = once(args, settings)
            heartbeat.wait(stop, args.every)
        return code

    parser.set_defaults(handler=periodic)


class UsageError(Exception):
    """Bad arguments; printed without a traceback, exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    # Bulk paths hold many long-lived objects (parsed batches, the subject-state
    # cache); CPython's default thresholds then run full collections over them
    # again and again (bench profile: 7–13 us/event). Fewer, larger young
    # collections measured 12,200 -> 14,600 events/s on a 100,000-event submit.
    gc.set_threshold(50_000, 50, 100)
    parser = build_parser()
    gc.freeze()  # modules, schemas and models built at start-up never die
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    overrides: dict[str, Any] = {}
    if args.database_url:
        overrides["database_url"] = args.database_url
    try:
        settings = Settings(**overrides)
    except ValidationError as e:  # a LEDGER_* setting that cannot be used
        for error in e.errors(include_url=False):
            name = "_".join(str(p) for p in error["loc"]).upper()
            where = f"setting LEDGER_{name}" if name else "settings"
            message = error["msg"].removeprefix("Value error, ")
            print(f"ledger: {where}: {message}", file=sys.stderr)
        return 2
    try:
        if getattr(args, "long_running", False):
            logs.configure(settings.log_format, settings.log_level)
        if settings.heartbeat_file and (
            getattr(args, "long_running", False) or getattr(args, "every", None)
        ):
            heartbeat.configure(settings.heartbeat_file)
        code: int = args.handler(args, settings)
        return code
    except (UsageError, ConfigurationError, InvalidInstant) as e:
        print(f"ledger: {e}", file=sys.stderr)
        return 2
    except InvalidEvent as e:
        print(f"ledger: {e.rejection.code}: {e.rejection.message}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except Exception as e:  # the last resort: one line, never a traceback
        if args.traceback:
            raise
        print(
            f"ledger: {args.command_name} failed: {type(e).__name__}: {e} "
            "(`ledger --traceback …` shows where)",
            file=sys.stderr,
        )
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ledger", description="credit-ledger: the event-sourced ledger of credit records"
    )
    parser.add_argument(
        "--database-url", help="override LEDGER_DATABASE_URL (default sqlite:///./ledger.db)"
    )
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="on an unexpected error, show the Python traceback instead of one line",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command_name")

    p = sub.add_parser(
        "submit", help="record CloudEvents from a file (JSON object, array or lines)"
    )
    p.add_argument("file", help="path, or - for standard input")
    p.add_argument("--json", action="store_true", help="one JSON object per event and line")
    p.set_defaults(handler=cmd_submit)

    p = sub.add_parser("demo", help="load the deterministic demo data set and summarise it")
    p.add_argument("--subjects", type=int, default=1200, help="market subjects (default 1200)")
    p.add_argument("--seed", type=int, default=20261120, help="random seed (default 20261120)")
    p.add_argument("--json", action="store_true", help="the summary as one JSON object")
    p.set_defaults(handler=cmd_demo)

    for area in COMMAND_AREAS:
        area.register(sub, bootstrap)
    for name in PERIODIC:
        if name in sub.choices:
            make_periodic(sub.choices[name])
    for name in LONG_RUNNING:
        if name in sub.choices:
            sub.choices[name].set_defaults(long_running=True)

    p = sub.add_parser(
        "healthcheck",
        help="exit 0 if this container's worker loop is alive (LEDGER_HEARTBEAT_FILE fresh)",
    )
    p.add_argument(
        "--max-age",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="fail when the heartbeat file is older than this (default 120)",
    )
    p.set_defaults(handler=cmd_healthcheck)

    p = sub.add_parser("schema", help="print the JSON Schemas of the event types")
    p.add_argument("type", nargs="?", help="one type, e.g. credit.penalty.decided")
    p.add_argument(
        "--write",
        metavar="DIR",
        nargs="?",
        const="",
        help="write the files (default events/schemas)",
    )
    p.set_defaults(handler=cmd_schema)
    add_examples(parser)
    return parser


# -- submit ----------------------------------------------------------------------------


def read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from e


def submit_all(
    ledger: Ledger,
    items: Sequence[Envelope | Refused],
    batch_size: int,
    *,
    label: str = "submit",
    now_us: Callable[[Sequence[Envelope | Refused]], int | None] = lambda _: None,
) -> Iterable[Outcome]:
    """Submit in batches of ``batch_size`` with a progress bar; yields outcomes in
    input order with indexes relative to ``items``."""
    with tqdm(total=len(items), unit="ev", desc=label, disable=None, file=sys.stderr) as bar:
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            for outcome in ledger.submit(chunk, now_us=now_us(chunk)):
                yield _shift(outcome, start)
            bar.update(len(chunk))


def _shift(outcome: Outcome, offset: int) -> Outcome:
    return Outcome(
        outcome.index + offset,
        outcome.id,
        outcome.source,
        outcome.status,
        outcome.code,
        outcome.message,
        outcome.record,
    )


def cmd_submit(args: argparse.Namespace, settings: Settings) -> int:
    raw = read_input(args.file)
    started = time.perf_counter()
    items = parse_submission(raw)
    ledger = bootstrap(settings)
    counts: Counter[str] = Counter()
    out = sys.stdout
    for outcome in submit_all(ledger, items, settings.batch_size):
        counts[outcome.status] += 1
        if args.json:
            out.write(orjson.dumps(outcome.to_json()).decode() + "\n")
        else:
            out.write(describe_outcome(outcome) + "\n")
    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    print(
        f"{total} events: {counts['recorded']} recorded, {counts['repeat']} repeat, "
        f"{counts['rejected']} rejected in {elapsed:.2f} s ({total / max(elapsed, 1e-9):,.0f} events/s)",
        file=sys.stderr,
    )
    return 1 if counts["rejected"] else 0


def describe_outcome(o: Outcome) -> str:
    who = f"{o.source or '?'} {o.id or '?'}"
    if o.status == "rejected":
        return f"rejected  #{o.index + 1} {who}: {o.code}: {o.message}"
    assert o.record is not None
    r = o.record
    return f"{o.status:<9} #{o.index + 1} {who} → {r.subject} seq {r.seq}, position {r.position}"


# -- demo ------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    import demo

    started = time.perf_counter()
    ledger = bootstrap(settings)
    # the stories ask the rule services the ledger decides by (periods, deadlines, ratios)
    generated = demo.generate(subjects=args.subjects, seed=args.seed, rules=ledger.rule_services())
    items: list[Envelope | Refused] = list(
        parse_submission(orjson.dumps([d.event for d in generated]))
    )
    recorded_at = {id(item): d.recorded_us for item, d in zip(items, generated, strict=True)}
    counts: Counter[str] = Counter()
    rejections: Counter[str] = Counter()
    for batch in demo_batches(items, generated, settings.batch_size):
        # system=True: the demo also plays the ledger's own jobs (the yearly spot-check
        # draws are issued by the system source, as ``ledger spot-check`` issues them)
        now = max(recorded_at[id(i)] for i in batch)
        for outcome in ledger.submit(batch, now_us=now, system=True):
            counts[outcome.status] += 1
            if outcome.status == "rejected":
                rejections[f"{outcome.code}"] += 1
    elapsed = time.perf_counter() - started
    types = Counter(d.event["type"] for d in generated)
    subjects = len({d.event["subject"] for d in generated})
    example = demo.example_subject(generated)
    summary = {
        "subjects": subjects,
        "events": len(generated),
        "recorded": counts["recorded"],
        "repeat": counts["repeat"],
        "rejected": counts["rejected"],
        "rejections": dict(rejections),
        "by_type": dict(sorted(types.items())),
        "ledger_size": ledger.size(),
        "example_subject": example,
        "seconds": round(elapsed, 2),
    }
    if args.json:
        sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print(
            f"demo ledger ({settings.database_url}): {subjects} subjects, {len(generated)} events"
        )
        print(
            f"  recorded {counts['recorded']}, already there {counts['repeat']}, rejected {counts['rejected']}"
        )
        for code, n in rejections.most_common():
            print(f"    rejected {code}: {n}")
        print(f"  ledger size {summary['ledger_size']} records")
        for name, n in sorted(types.items()):
            print(f"  {name:<34} {n:>6}")
        name = demo.names(args.subjects, args.seed).get(example, "")
        print(f"example subject: {example} {name}")
        print(f"  try: ledger standing {example}")
    print(f"demo loaded in {elapsed:.1f} s", file=sys.stderr)
    return 0


def demo_batches(
    items: list[Envelope | Refused], generated: Sequence[Any], batch_size: int
) -> Iterable[list[Envelope | Refused]]:
    """Batches of consecutive events recorded on the same day (China time), so the
    demo's recording clock advances the way an agency's reporting would."""
    batch: list[Envelope | Refused] = []
    day = None
    with tqdm(total=len(items), unit="ev", desc="demo", disable=None, file=sys.stderr) as bar:
        for item, d in zip(items, generated, strict=True):
            this_day = cst_text(d.recorded_us)[:10]
            if batch and (this_day != day or len(batch) >= batch_size):
                yield batch
                bar.update(len(batch))
                batch = []
            day = this_day
            batch.append(item)
        if batch:
            yield batch
            bar.update(len(batch))


# -- healthcheck -----------------------------------------------------------------------


def cmd_healthcheck(args: argparse.Namespace, settings: Settings) -> int:
    """0 when ``LEDGER_HEARTBEAT_FILE`` was refreshed within ``--max-age`` seconds, 1
    when it is older or missing (the worker is stuck or not started), 2 when no
    heartbeat file is configured."""
    if settings.heartbeat_file is None:
        raise UsageError("LEDGER_HEARTBEAT_FILE is not set: there is no heartbeat to check")
    age = heartbeat.age_s(settings.heartbeat_file)
    if age is None:
        print(f"unhealthy: {settings.heartbeat_file} does not exist", file=sys.stderr)
        return 1
    if age > args.max_age:
        print(
            f"unhealthy: {settings.heartbeat_file} is {age:.0f} s old (more than {args.max_age:g} s)",
            file=sys.stderr,
        )
        return 1
    print(f"healthy: heartbeat {age:.0f} s ago")
    return 0


# -- schema ----------------------------------------------------------------------------


def cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    from events import schemas

    if args.write is not None:
        directory = Path(args.write) if args.write else Path(schemas.__file__).parent / "schemas"
        written = schemas.write_schemas(directory)
        print(f"wrote {len(written)} schemas to {directory}", file=sys.stderr)
        return 0
    everything = schemas.all_schemas()
    if args.type:
        if args.type not in everything:
            raise UsageError(f"unknown type {args.type!r}; see `ledger schema` for all")
        chosen: Any = everything[args.type]
    else:
        chosen = everything
    sys.stdout.write(
        orjson.dumps(chosen, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
