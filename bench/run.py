"""The bench run: the LIMIT, the NAIVE alternative and the LEDGER on the same data.

:func:`run` measures one :class:`~bench.workloads.Scale` on PostgreSQL and returns
the result document (also written as JSON); :func:`main` is the command line
(``ledger bench``, :mod:`entrypoints.cli.bench`; ``python -m bench``). The ledgers and
recorders it measures are built by the caller's :class:`~bench.composition.Factories`.

Each part runs in a fresh schema of the bench database (default
``postgresql://postgres@127.0.0.1:5432/ledger_bench``, created if missing), created
at the start and dropped at the end, also on failure:

1. LIMIT: the workload's rows as the ledger would store them (same table, columns
   and indexes: ``ledger_records`` created by the ledger's own recorder) written by
   raw binary ``COPY`` in transactions of 1,000 rows, rows/s; then read back in
   notification order in pages of ``page_size`` with psycopg binary cursors, rows/s.
   Building the rows is not timed: only ``COPY`` and commit.
2. NAIVE (``bench.naive``): bulk ``save()`` of each batch's aggregates (JSON decode
   included), events/s; ``repository.get()`` of the hot subjects (1,000 and 10,000
   events) without a cache, ms; single events from ``writers`` processes at once,
   ms per call and events/s overall.
3. LEDGER: ``parse_submission`` + ``Ledger.submit`` per batch of 1,000, events/s; the
   as-of reads of the hot subjects (:class:`~bench.readers.AsOfReader`, pluggable), ms, warm (the
   reader's in-process cache kept between reads) and cold (:func:`~bench.readers.cold_reader`:
   nothing cached in the process, PostgreSQL's buffers warm); single
   events (one per ``submit``) from ``writers`` processes at once, ms per call and
   events/s overall; then, where the modules exist, projection rebuild, audit verify
   and Kafka ingestion (otherwise "n/a: not built").

Only the measured operation is inside the timer; generating the workload and
serialising each batch to JSON are outside it. Writer processes are started
(``spawn``) and connected before a barrier releases them, so start-up is not timed.
Peak memory is ``getrusage`` max RSS (no tracemalloc, which would slow the run).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench.baselines import measure_limit, measure_naive, skip_naive
from bench.composition import Factories, entry
from bench.database import conninfo, ensure_database, fresh_schema
from bench.ledger_phase import measure_ledger
from bench.measurement import DEFAULT_URL, Measurement, Options, maxrss_mib
from bench.report import environment, evaluate, render_table, summary_line
from bench.workloads import SCALES, Workload

__all__ = ["SKIPPABLE", "build_parser", "execute", "main", "run"]

SKIPPABLE = ("naive",)
"""The parts ``--skip`` may leave out."""


def run(options: Options) -> dict[str, Any]:
    """Measure ``options.scale``; return the result document and write it to
    ``options.output`` (unless None). Raises if a part fails (schemas are dropped)."""
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    ensure_database(options.database_url)
    env = environment(conninfo(options.database_url))
    env["load_average_start"] = list(os.getloadavg())
    workload = Workload(options.scale, options.seed)
    r = Measurement(options, workload)
    run_id = f"{options.scale.name}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    schemas = [f"bench_{run_id}_{part}" for part in ("limit", "naive", "ledger")]
    with r.phase("workload"):
        workload.order()
    with r.phase("limit"), fresh_schema(options.database_url, schemas[0]) as url:
        measure_limit(r, url)
    if "naive" in options.skip:
        skip_naive(r, "skipped (--skip naive)")
    else:
        with r.phase("naive"), fresh_schema(options.database_url, schemas[1]):
            measure_naive(r, options.database_url, schemas[1])
    with r.phase("ledger"), fresh_schema(options.database_url, schemas[2]) as url:
        measure_ledger(r, url)
    r.values["memory.peak_rss_mb"] = maxrss_mib(resource.RUSAGE_SELF)
    env["load_average_end"] = list(os.getloadavg())
    finished_at = datetime.now(UTC)
    hot = Counter(options.scale.hot)
    result: dict[str, Any] = {
        "bench": "credit-ledger",
        "run_id": run_id,
        "schemas": schemas,
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "seconds": round(time.perf_counter() - started, 3),
        "scale": {
            "name": options.scale.name,
            "events": options.scale.events,
            "subjects": options.scale.subjects,
            "hot_subjects": {str(k): v for k, v in sorted(hot.items())},
            "largest_background_stream": max(workload.counts[len(options.scale.hot) :]),
            "latency_events": options.scale.latency_events,
            "reads": options.scale.reads,
            "seed": options.seed,
        },
        "method": {
            "batch_size": options.batch_size,
            "page_size": options.page_size,
            "writers": options.writers,
            "writer_kind": "processes (multiprocessing spawn), one Ledger / application each",
            "asof_reader": r.counts.get("asof_reader"),
            "copy": "binary COPY into the ledger's own ledger_records table, one transaction per 1,000 rows",
            "read": "keyset pages in notification order, psycopg binary cursor",
            "naive": "bench.naive: eventsourcing Application, cache for bulk, fast-forward for concurrent writers",
            "memory": "getrusage ru_maxrss (no tracemalloc)",
        },
        "environment": env,
        "figures": evaluate(r.values, r.notes),
        "counts": r.counts,
        "phases": r.phases,
    }
    if options.output is not None:
        options.output.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    return result


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The bench's arguments (on ``parser``, or a new one for ``python -m bench``)."""
    if parser is None:
        parser = argparse.ArgumentParser(
            prog="python -m bench", description="measure the ledger against the machine's limit"
        )
    parser.add_argument("--scale", choices=list(SCALES), default="smoke")
    parser.add_argument(
        "--database-url",
        dest="bench_database_url",
        default=DEFAULT_URL,
        metavar="URL",
        help=f"PostgreSQL database to run in (schemas are created and dropped; default {DEFAULT_URL})",
    )
    parser.add_argument("--kafka", metavar="BOOTSTRAP", help="also measure Kafka ingestion")
    parser.add_argument("--output", default="bench-results.json", metavar="PATH")
    parser.add_argument(
        "--json", action="store_true", help="print the JSON result instead of the table"
    )
    parser.add_argument(
        "--writers", type=int, default=4, help="concurrent single-event writer processes"
    )
    parser.add_argument("--seed", type=int, default=20_261_120)
    parser.add_argument(
        "--skip",
        action="append",
        choices=SKIPPABLE,
        default=[],
        help="a part not to measure (its figures are n/a): naive, the plain eventsourcing "
        "application (for --scale full, where it alone takes most of an hour)",
    )
    parser.add_argument(
        "--federation",
        action="store_true",
        help="instead: three regional ledgers against one, and the national view's lag "
        "(with --kafka); bench.federation",
    )
    parser.add_argument(
        "--region-database-url",
        action="append",
        default=[],
        metavar="URL",
        help="with --federation, three times: each region's ledger on its own PostgreSQL "
        "server (default: all on --database-url's)",
    )
    return parser


def execute(args: argparse.Namespace, factories: Factories) -> int:
    """Run the bench from parsed arguments with the caller's ``factories``; print the
    table (or JSON) and the summary."""
    if getattr(args, "federation", False):
        from bench.federation import REGIONS, render_federation, run_federation

        if args.region_database_url and len(args.region_database_url) != len(REGIONS):
            print(
                f"ledger bench: --region-database-url: give it {len(REGIONS)} times "
                f"(one server per region), or not at all",
                file=sys.stderr,
            )
            return 2
        output = Path(args.output) if args.output else None
        found = run_federation(
            args.bench_database_url,
            args.kafka,
            args.scale,
            output,
            factories,
            region_database_urls=args.region_database_url,
        )
        print(render_federation(found) if not args.json else orjson.dumps(found).decode())
        return 0
    options = Options(
        scale=SCALES[args.scale],
        database_url=args.bench_database_url,
        kafka=args.kafka,
        output=Path(args.output) if args.output else None,
        writers=args.writers,
        seed=args.seed,
        factories=factories,
        skip=frozenset(args.skip),
    )
    result = run(options)
    if args.json:
        sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print(render_table(result["figures"]))
    print(
        summary_line(result) + (f" → {options.output}" if options.output else ""), file=sys.stderr
    )
    return 0  # a missed target is a finding, not a failure


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench [--scale …] …``: ``ledger bench`` (the command line found by
    name, :func:`bench.composition.entry`)."""
    code: int = entry("main")(argv)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
