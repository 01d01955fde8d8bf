#!/usr/bin/env python3
"""Manual measurement of the bench's two concurrent-writer rows (issue 21), on a fresh
schema and without the rest of ``ledger bench`` (not part of the test suite).

Usage::

    .venv/bin/python tools/hot_writers.py [--url URL] [--events 400] [--writers 8]
        [--http 400] [--clients 8] [--skip-hot]

* **hot**: a new subject is given 2,000 records (``bench.concurrency.hot_subject_events``),
  then ``--writers`` processes, each with its own ``Ledger``, submit ``--events`` single
  events to it at once (``bench.writer_processes.run_writers``);
* **http**: a real ``ledger serve`` on the same schema and ``--clients`` keep-alive
  clients POST ``--http`` single events (``bench.concurrency.measure_http``) on the
  smoke workload's subjects (the subjects need not exist beforehand).

Prints p50/p95/p99 ms and events/s of each; the CPU its child processes (the writers,
or ``ledger serve``) used per event, their start-up included (~2 s a process: compare
runs of the same size), and the HTTP clients' own; how many events a write transaction
of the HTTP case held (group commit); and the load average. The schema (``hotprobe``)
is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.concurrency import (  # noqa: E402
    hot_subject_events,
    measure_http,
    records_per_transaction,
)
from bench.database import ensure_database, fresh_schema  # noqa: E402
from bench.measurement import DEFAULT_URL, Measurement, Options  # noqa: E402
from bench.report import percentile  # noqa: E402
from bench.workloads import SCALES, Workload  # noqa: E402
from bench.writer_processes import ledger_writer, run_writers  # noqa: E402
from entrypoints.cli.bench import factories  # noqa: E402


def _cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _line(name: str, latencies_s: list[float], seconds: float, children_cpu_s: float) -> str:
    """The figures of one case; ``children_cpu_s``: the CPU seconds its child processes
    (writers, or ``ledger serve``) used, start-up included, per event (less sensitive to
    the machine's load than the latencies)."""
    ms = [x * 1000 for x in latencies_s]
    figures = " ".join(f"p{p} {percentile(ms, p):7.1f} ms" for p in (50, 95, 99))
    per_event = children_cpu_s / len(ms) * 1000
    return (
        f"{name:6} n={len(ms):4d} {figures}  {len(ms) / seconds:7.1f} ev/s  "
        f"children {per_event:5.2f} ms CPU/ev"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--http", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--skip-hot", action="store_true")
    parser.add_argument("--schema", default="hotprobe")
    args = parser.parse_args()
    made = factories()
    workload = Workload(SCALES["smoke"])
    options = Options(scale=workload.scale, factories=made, progress=False, writers=args.writers)
    r = Measurement(options, workload)
    ensure_database(args.url)
    print(f"load before: {os.getloadavg()}")
    with fresh_schema(args.url, args.schema) as url:
        ledger = made.ledger(url)
        try:
            if not args.skip_hot:
                shares = hot_subject_events(workload, ledger, args.events, args.writers)
                cpu = _cpu_s(resource.RUSAGE_CHILDREN)
                result = run_writers(r, ledger_writer, (made.ledger, url), "hot", shares)
                cpu = _cpu_s(resource.RUSAGE_CHILDREN) - cpu
                print(_line("hot", result.latencies, result.seconds, cpu), dict(result.statuses))
            if args.http:
                events = workload.followups(args.http, seed=13)
                cpu = _cpu_s(resource.RUSAGE_CHILDREN)
                own = _cpu_s(resource.RUSAGE_SELF)
                start = ledger.size()
                found = measure_http(url, events, made.environment(), clients=args.clients)
                cpu = _cpu_s(resource.RUSAGE_CHILDREN) - cpu
                own = (_cpu_s(resource.RUSAGE_SELF) - own) / len(events) * 1000
                line = _line("http", found["latencies"], found["seconds"], cpu)
                print(f"{line}  clients {own:5.2f} ms CPU/ev", found["statuses"])
                print(f"http   events per write transaction: {records_per_transaction(ledger, start):.2f}")
        finally:
            ledger.recorder.datastore.close()  # type: ignore[attr-defined]
    print(f"load after: {os.getloadavg()}  ({time.strftime('%H:%M:%S')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
