"""Concurrent single-event writers of ``ledger bench``: ``writers`` spawned processes (or one
per given share of events), each connected before a barrier releases them, so that only the
submissions are timed; their latencies, statuses and peak memory come back on a queue.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from eventsourcing.persistence import RecordConflictError

from bench.measurement import Measurement, own_peak_mib
from bench.naive import NaiveLedger
from bench.report import percentile
from events.envelope import parse_submission
from ledger.app import Ledger

__all__ = ["Concurrent", "ledger_writer", "naive_writer", "record_latency", "run_writers"]


def ledger_writer(
    open_ledger: Callable[..., Ledger],
    url: str,
    payloads: list[bytes],
    barrier: Any,
    results: Any,
) -> None:
    """Writer process: one ``parse_submission`` + ``Ledger.submit`` per payload."""
    try:
        ledger = open_ledger(url)
        ledger.size()  # connect before the barrier
        barrier.wait()
        latencies = []
        statuses: Counter[str] = Counter()
        for payload in payloads:
            started = time.perf_counter()
            outcomes = ledger.submit(parse_submission(payload))
            latencies.append(time.perf_counter() - started)
            statuses.update(o.status for o in outcomes)
        results.put(("ok", latencies, dict(statuses), own_peak_mib()))
    except BaseException:
        results.put(("error", traceback.format_exc(), {}, 0.0))
        with contextlib.suppress(Exception):
            barrier.abort()


def naive_writer(
    env: dict[str, str],
    payloads: list[bytes],
    barrier: Any,
    results: Any,
) -> None:
    """Writer process: one get/apply/save of the naive application per payload."""
    try:
        app = NaiveLedger(env=env)
        app.recorder.max_notification_id()  # connect before the barrier
        barrier.wait()
        latencies = []
        statuses: Counter[str] = Counter()
        for payload in payloads:
            started = time.perf_counter()
            try:
                attempts = app.submit_one(orjson.loads(payload))
                statuses["recorded"] += 1
                statuses["retries"] += attempts - 1
            except RecordConflictError:  # 50 conflicts in a row: counted, not fatal
                statuses["gave_up"] += 1
            latencies.append(time.perf_counter() - started)
        results.put(("ok", latencies, dict(statuses), own_peak_mib()))
    except BaseException:
        results.put(("error", traceback.format_exc(), {}, 0.0))
        with contextlib.suppress(Exception):
            barrier.abort()


@dataclass
class Concurrent:
    """What the writers did: every call's latency (s), the seconds from the barrier to the
    last result, the outcomes counted, the largest writer's peak RSS (MiB)."""

    latencies: list[float]
    seconds: float
    statuses: Counter[str]
    maxrss_mib: float


def run_writers(
    r: Measurement,
    target: Callable[..., None],
    first_args: tuple[Any, ...],
    desc: str,
    shares: list[list[bytes]] | None = None,
) -> Concurrent:
    """Start ``writers`` processes, each with its share of the follow-up events (or
    one process per given share); time from the barrier to the last result."""
    if shares is None:
        n = r.options.writers
        events = r.workload.followups(r.options.scale.latency_events, seed=7)
        shares = [[orjson.dumps(e) for e in events[k::n]] for k in range(n)]
    n = len(shares)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(n + 1)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=target, args=(*first_args, shares[k], barrier, results), daemon=True)
        for k in range(n)
    ]
    for p in procs:
        p.start()
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    maxrss = 0.0
    errors = []
    with r.bar(n, desc, "writer") as bar:
        # A writer that fails before the barrier aborts it; its error is queued.
        with contextlib.suppress(Exception):
            barrier.wait(timeout=120)
        started = time.perf_counter()
        for _ in procs:
            kind, payload, counted, rss = results.get(timeout=1800)
            if kind == "error":
                errors.append(payload)
            else:
                latencies.extend(payload)
                statuses.update(counted)
                maxrss = max(maxrss, rss)
            bar.update(1)
        seconds = time.perf_counter() - started
    for p in procs:
        p.join(timeout=30)
    if errors:
        raise RuntimeError(f"{desc}: a writer failed:\n{errors[0]}")
    return Concurrent(latencies, seconds, statuses, maxrss)


def record_latency(r: Measurement, prefix: str, result: Concurrent, rate_key: str) -> None:
    """The writers' p50/p95/p99 latency (ms) under ``prefix``, their calls/s under
    ``rate_key``, and the children's peak memory."""
    ms = [x * 1000 for x in result.latencies]
    for p in (50, 95, 99):
        r.values[f"{prefix}_ms_p{p}"] = percentile(ms, p)
    r.values[rate_key] = len(ms) / result.seconds
    children = r.values.get("memory.peak_rss_children_mb") or 0.0
    r.values["memory.peak_rss_children_mb"] = max(children, result.maxrss_mib)
