"""Time the bench's cold as-of read of one long subject, without the whole bench.

``python tools/cold_read_probe.py [--records 10000] [--reads 30]`` loads, into a fresh
PostgreSQL schema of the bench's database, one subject with ``--records`` records (the
bench workload's hot subject: violations, penalties, commitments and their fulfilments,
valid times over 4.5 years), then reads its standing as ``ledger bench`` does
(``bench.readers.cold_reader``: a new ``projections.live.LiveReads`` per read, as of the
middle of the valid-time span, known at now), one untimed read first, and prints the
wall-clock p50/p99 and the process's CPU p50 in ms (the CPU figure moves less with the
machine's load). ``--split`` also times the parts of one read (rows, fold, standing
cold and warm); ``--loops N`` repeats the timed reads (for a profiler to sample:
``py-spy record -f raw -- python tools/cold_read_probe.py --loops 3``). The schema is
dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import orjson

from bench.database import ensure_database, fresh_schema
from bench.measurement import DEFAULT_URL
from bench.readers import cold_reader
from bench.report import percentile
from bench.workloads import SCALES, SPAN_S, T0_S, Workload
from entrypoints.cli.bench import factories
from events.codes import subject_stream_id
from events.envelope import parse_submission
from projections.collector import fewer_collections
from projections.standing import standing_of
from projections.timeline import Timeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--reads", type=int, default=30)
    parser.add_argument("--loops", type=int, default=1)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--split", action="store_true", help="also time the read's parts")
    args = parser.parse_args()
    workload = Workload(SCALES["smoke"])
    events = [e.event for e in workload.events() if e.subject_index == 0][: args.records]
    subject = workload.codes[0]
    ensure_database(args.url)
    with fresh_schema(args.url, f"coldread_probe_{os.getpid()}") as url:
        ledger = factories().ledger(url)
        started = time.perf_counter()
        for k in range(0, len(events), 500):
            outcomes = ledger.submit(parse_submission(orjson.dumps(events[k : k + 500])))
            if any(o.status != "recorded" for o in outcomes):
                raise SystemExit("the probe's records were not all recorded")
        print(f"loaded {len(events)} records in {time.perf_counter() - started:.1f} s")
        reader = cold_reader()
        as_of_us = (T0_S + SPAN_S // 2) * 1_000_000
        known_at_us = ledger.clock()
        started = time.perf_counter()
        first = reader(ledger, subject, as_of_us, known_at_us)
        print(
            f"first read (a fold; writes the read snapshot): {time.perf_counter() - started:.2f} s"
        )
        for loop in range(args.loops):
            ms = []
            cpu = []
            for _ in range(args.reads):
                t = time.perf_counter()
                c = time.process_time()
                answer = reader(ledger, subject, as_of_us, known_at_us)
                ms.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)
                if answer != first:
                    raise SystemExit("a cold read answered differently from the first")
            print(
                f"[{loop}] {reader.name}: {len(ms)} reads, "
                f"p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms, "
                f"min {min(ms):.1f} ms; CPU p50 {percentile(cpu, 50):.1f} ms"
            )
        if args.split:
            split(ledger, subject, as_of_us)
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def split(ledger: Any, subject: str, as_of_us: int) -> None:
    """The read's parts, each timed on its own (median of 5): the rows read and decoded,
    the fold, the standing evaluated cold (nothing memoised) and again warm."""
    store = ledger.recorder.store.views()
    rules = ledger.rule_services()
    oid = subject_stream_id(subject)
    parts: dict[str, list[float]] = {}

    def lap(name: str, started: float) -> float:
        now = time.perf_counter()
        parts.setdefault(name, []).append((now - started) * 1000)
        return now

    for _ in range(5):
        with fewer_collections():
            t = time.perf_counter()
            records = store.stream_rows(oid, 0)
            t = lap("rows", t)
            timeline = Timeline(subject).extend(records)
            t = lap("timeline", t)
            standing_of(timeline, as_of_us, rules)
            t = lap("standing cold", t)
            standing_of(timeline, as_of_us, rules)
            lap("standing warm", t)
    for name, ms in parts.items():
        print(f"{name}: median {statistics.median(ms):.1f} ms")


if __name__ == "__main__":
    main()
