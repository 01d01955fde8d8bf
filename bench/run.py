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
   as-of reads of the hot subjects (:class:`AsOfReader`, pluggable), ms, warm (the
   reader's in-process cache kept between reads) and cold (:func:`cold_reader`:
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
import contextlib
import functools
import gc
import hashlib
import importlib
import inspect
import multiprocessing
import os
import resource
import sys
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

import orjson
import psycopg
from eventsourcing.persistence import RecordConflictError
from psycopg.sql import SQL, Identifier
from tqdm import tqdm

from bench.composition import Factories, entry
from bench.concurrency import hot_subject_events, measure_http, record_http
from bench.naive import NaiveLedger, naive_env
from bench.report import environment, evaluate, percentile, render_table, summary_line
from bench.workloads import SCALES, SPAN_S, T0_S, BenchEvent, Scale, Workload
from events.codes import subject_stream_id
from events.envelope import parse_submission
from ledger import chain
from ledger.app import Ledger, fold
from ledger.store.rows import COLUMNS
from ledger.store.tables import EVENTS_TABLE

__all__ = [
    "DEFAULT_URL",
    "AsOfReader",
    "Options",
    "default_reader",
    "main",
    "run",
]

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ledger_bench"
"""Where the bench runs unless told otherwise (a database of its own)."""

HOT_SUBJECT_WRITERS = 8
"""Writer processes on the one busy subject (``bench.concurrency``)."""
HTTP_CLIENTS = 8
"""Keep-alive clients of the one ``ledger serve`` (``bench.concurrency``)."""
ZERO32 = bytes(32)
_COPY_TYPES = (
    "int8",
    "uuid",
    "int8",
    "text",
    "bytea",
    "text",
    "text",
    "text",
    "text",
    "int8",
    "int8",
    "int2",
    "bytea",
    "bytea",
)


class AsOfReader(Protocol):
    """What an as-of read is: the subject's picture as of valid time ``as_of_us`` as
    known at ``known_at_us``. ``name`` says which implementation is measured."""

    @property
    def name(self) -> str: ...

    def __call__(self, ledger: Ledger, subject: str, as_of_us: int, known_at_us: int) -> object: ...


@dataclass(frozen=True, slots=True)
class StreamFoldReader:
    """``ledger.stream(subject, known_at_us=…)`` then the decision fold of the records
    with ``time_us ≤ as_of_us`` (until the standing projection exists)."""

    name: str = "ledger.stream + ledger.app.fold"

    def __call__(self, ledger: Ledger, subject: str, as_of_us: int, known_at_us: int) -> object:
        records = ledger.stream(subject, known_at_us=known_at_us)
        return fold(subject, (r for r in records if r.time_us <= as_of_us))


@dataclass(frozen=True, slots=True)
class StandingReader:
    """``projections.standing.standing(subject, records, as_of_us, known_at_us, rules)``
    over ``ledger.stream(subject, known_at_us=…)``."""

    standing: Callable[..., object]
    name: str = "ledger.stream + projections.standing.standing"

    def __call__(self, ledger: Ledger, subject: str, as_of_us: int, known_at_us: int) -> object:
        records = ledger.stream(subject, known_at_us=known_at_us)
        return self.standing(subject, records, as_of_us, known_at_us, _rules(ledger))


@dataclass
class ReadsReader:
    """The API's read path: ``projections.reads.Reads(...).standing(subject, as_of_us,
    known_at_us)`` (LIVE mode for a past ``as_of``: a per-subject snapshot kept in
    memory, checked against the stream head with one indexed query per read)."""

    reads_class: Callable[..., Any]
    name: str = "projections.reads.Reads.standing"
    _reads: dict[int, Any] = field(default_factory=dict)

    def __call__(self, ledger: Ledger, subject: str, as_of_us: int, known_at_us: int) -> object:
        reads = self._reads.get(id(ledger))
        if reads is None:
            reads = self.reads_class(ledger.recorder, _rules(ledger), clock=ledger.clock)
            self._reads[id(ledger)] = reads
        return reads.standing(subject, as_of_us, known_at_us)


def _rules(ledger: Ledger) -> Any:
    return ledger.rule_services()


@dataclass
class ColdReadsReader:
    """The API's read path with nothing cached in the process: each read gets a new
    ``projections.live.LiveReads`` (no per-subject fold kept) behind one
    ``projections.reads.Reads``, so it reads the subject's whole stream from the
    database and folds and evaluates it, as an API process does for a subject it
    has not read yet (PostgreSQL's own buffers are warm: "cold" is the process,
    not the disk)."""

    reads_class: Callable[..., Any]
    live_class: Callable[..., Any]
    name: str = "projections.reads.Reads.standing, new LiveReads per read"
    _reads: dict[int, Any] = field(default_factory=dict)

    def __call__(self, ledger: Ledger, subject: str, as_of_us: int, known_at_us: int) -> object:
        reads = self._reads.get(id(ledger))
        if reads is None:
            reads = self.reads_class(ledger.recorder, _rules(ledger), clock=ledger.clock)
            self._reads[id(ledger)] = reads
        reads.live = self.live_class(reads.recorder, reads.rules, store=reads.store)
        return reads.standing(subject, as_of_us, known_at_us)


def cold_reader() -> AsOfReader:
    """A read with nothing cached in the process (:class:`ColdReadsReader`, the API's
    path) when ``projections.reads`` exists; else the whole stream read and folded
    by ``projections.standing.standing``, else by the decision fold."""
    reads_class = _optional("projections.reads", ("Reads",))
    live_class = _optional("projections.live", ("LiveReads",))
    if reads_class is not None and live_class is not None:
        return ColdReadsReader(reads_class, live_class)
    fn = _optional("projections.standing", ("standing",))
    return StandingReader(fn) if fn is not None else StreamFoldReader()


def default_reader() -> AsOfReader:
    """What the API serves an as-of read with: ``projections.reads.Reads`` when it
    exists, else :func:`cold_reader`."""
    try:
        module = importlib.import_module("projections.reads")
    except ImportError:
        return cold_reader()
    reads_class = getattr(module, "Reads", None)
    return ReadsReader(reads_class) if callable(reads_class) else cold_reader()


@dataclass
class Options:
    """One bench run. ``writers`` processes submit single events concurrently."""

    scale: Scale
    database_url: str = DEFAULT_URL
    kafka: str | None = None
    output: Path | None = Path("bench-results.json")
    writers: int = 4
    batch_size: int = 1000
    page_size: int = 10_000
    seed: int = 20_261_120
    reader: AsOfReader | None = None
    factories: Factories | None = None
    """Builds every ``Ledger`` and recorder the bench measures (:mod:`bench.composition`;
    required by :func:`run`: the caller, ``ledger bench``, passes the composition root's)."""
    progress: bool | None = None
    """tqdm's ``disable``: None shows bars on a terminal only."""


@dataclass
class _Run:
    options: Options
    workload: Workload
    values: dict[str, float | None] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    phases: dict[str, dict[str, Any]] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)

    def na(self, key: str, why: str) -> None:
        self.values[key] = None
        self.notes[key] = f"n/a: {why}"

    def bar(self, total: int, desc: str, unit: str = "ev") -> tqdm[Any]:
        disable = None if self.options.progress is None else not self.options.progress
        return tqdm(total=total, desc=desc, unit=unit, disable=disable, file=sys.stderr)

    @property
    def factories(self) -> Factories:
        if self.options.factories is None:
            raise ValueError("the bench needs Options.factories (ledger bench passes them)")
        return self.options.factories

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = {
                "seconds": round(time.perf_counter() - started, 3),
                "maxrss_mib_after": round(_maxrss_mib(resource.RUSAGE_SELF), 1),
            }


# -- database plumbing -------------------------------------------------------------------


def _with_schema(url: str, schema: str) -> str:
    parts = urlparse(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "schema"] + [("schema", schema)]
    return urlunparse(parts._replace(query=urlencode(query)))


def _conninfo(url: str, dbname: str | None = None) -> str:
    parts = urlparse(url)
    path = f"/{dbname}" if dbname is not None else parts.path
    return urlunparse(parts._replace(path=path, query=""))


def _ensure_database(url: str) -> None:
    dbname = urlparse(url).path.lstrip("/") or "postgres"
    with psycopg.connect(_conninfo(url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(SQL("CREATE DATABASE {0}").format(Identifier(dbname)))


@contextlib.contextmanager
def _schema(url: str, name: str) -> Iterator[str]:
    """A fresh schema; yields the URL with ``?schema=``; dropped on exit."""
    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
        conn.execute(SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(Identifier(name)))
        conn.execute(SQL("CREATE SCHEMA {0}").format(Identifier(name)))
    try:
        yield _with_schema(url, name)
    finally:
        with psycopg.connect(_conninfo(url), autocommit=True) as conn:
            conn.execute(SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(Identifier(name)))


def _maxrss_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: KiB


def _own_peak_mib() -> float:
    """This process's own peak RSS (``VmHWM``; ``ru_maxrss`` of a spawned process
    also counts the parent it was forked from before ``exec``)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return _maxrss_mib(resource.RUSAGE_SELF)


# -- LIMIT -------------------------------------------------------------------------------


def _limit_rows(
    batch: Sequence[BenchEvent], codes: Sequence[str], recorded_us: int, size: int
) -> list[tuple[Any, ...]]:
    """The batch as ``ledger_records`` rows (``COLUMNS`` order) appended to a table of
    ``size`` rows, as the ledger stores them: canonical data, 32-byte hash and prev."""
    rows = []
    for n, ev in enumerate(batch, start=size + 1):
        ce = ev.event
        i = ev.subject_index
        code = codes[i]
        digest = hashlib.sha256(f"{i}:{ev.seq}".encode()).digest()
        prev = ZERO32 if ev.seq == 1 else hashlib.sha256(f"{i}:{ev.seq - 1}".encode()).digest()
        rows.append(
            (
                n,
                subject_stream_id(code),
                ev.seq,
                ce["type"],
                chain.canonical(ce["data"]),
                code,
                ce["source"],
                ce["id"],
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ev.time_s)),
                ev.time_s * 1_000_000,
                recorded_us,
                1,
                digest,
                prev,
            )
        )
    return rows


def measure_limit(r: _Run, url: str) -> None:
    """COPY-1000 rows/s and the binary notification read rows/s into ``r.values``."""
    recorder = r.factories.recorder(url, pool_size=1)  # the ledger's own table and indexes
    recorder.datastore.close()
    schema = dict(parse_qsl(urlparse(url).query))["schema"]
    table = SQL("{0}.{1}").format(Identifier(schema), Identifier(EVENTS_TABLE))
    copy_sql = SQL("COPY {0} ({1}) FROM STDIN (FORMAT BINARY)").format(table, SQL(COLUMNS))
    w = r.workload
    elapsed = 0.0
    position = 0
    recorded_us = time.time_ns() // 1000
    with psycopg.connect(_conninfo(url)) as conn, r.bar(w.size, "limit COPY", "row") as bar:
        for batch in w.batches(r.options.batch_size):
            rows = _limit_rows(batch, w.codes, recorded_us, position)
            position += len(rows)
            started = time.perf_counter()
            with conn.cursor() as cur, cur.copy(copy_sql) as copy:
                copy.set_types(list(_COPY_TYPES))
                for row in rows:
                    copy.write_row(row)
            conn.commit()
            elapsed += time.perf_counter() - started
            bar.update(len(batch))
    r.values["limit.copy_1000_rows_per_s"] = position / elapsed

    select = SQL(
        "SELECT {0} FROM {1} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
    ).format(SQL(COLUMNS), table)
    read = 0
    last = 0
    with (
        psycopg.connect(_conninfo(url), autocommit=True) as conn,
        r.bar(position, "limit read", "row") as bar,
    ):
        started = time.perf_counter()
        with conn.cursor(binary=True) as cur:
            while True:
                cur.execute(select, (last, r.options.page_size), prepare=True)
                rows = cur.fetchall()
                if not rows:
                    break
                read += len(rows)
                last = rows[-1][0]
                bar.update(len(rows))
        seconds = time.perf_counter() - started
    r.values["limit.notification_read_rows_per_s"] = read / seconds
    r.counts["limit_rows"] = position


# -- concurrent single-event writers ----------------------------------------------------


def _ledger_writer(
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
        results.put(("ok", latencies, dict(statuses), _own_peak_mib()))
    except BaseException:
        results.put(("error", traceback.format_exc(), {}, 0.0))
        with contextlib.suppress(Exception):
            barrier.abort()


def _naive_writer(
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
        results.put(("ok", latencies, dict(statuses), _own_peak_mib()))
    except BaseException:
        results.put(("error", traceback.format_exc(), {}, 0.0))
        with contextlib.suppress(Exception):
            barrier.abort()


@dataclass
class _Concurrent:
    latencies: list[float]
    seconds: float
    statuses: Counter[str]
    maxrss_mib: float


def _run_writers(
    r: _Run,
    target: Callable[..., None],
    first_args: tuple[Any, ...],
    desc: str,
    shares: list[list[bytes]] | None = None,
) -> _Concurrent:
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
    return _Concurrent(latencies, seconds, statuses, maxrss)


def _record_latency(r: _Run, prefix: str, result: _Concurrent, rate_key: str) -> None:
    ms = [x * 1000 for x in result.latencies]
    for p in (50, 95, 99):
        r.values[f"{prefix}_ms_p{p}"] = percentile(ms, p)
    r.values[rate_key] = len(ms) / result.seconds
    children = r.values.get("memory.peak_rss_children_mb") or 0.0
    r.values["memory.peak_rss_children_mb"] = max(children, result.maxrss_mib)


# -- NAIVE -------------------------------------------------------------------------------


def measure_naive(r: _Run, url: str, schema: str) -> None:
    """The plain eventsourcing application on the same data (see ``bench.naive``)."""
    w = r.workload
    cache = 100_000
    app = NaiveLedger(env=naive_env(url, schema, cache=cache, fastforward=False))
    elapsed = 0.0
    try:
        with r.bar(w.size, "naive bulk") as bar:
            for batch in w.batches(r.options.batch_size):
                raw = orjson.dumps([e.event for e in batch])
                started = time.perf_counter()
                app.submit_batch(orjson.loads(raw))
                elapsed += time.perf_counter() - started
                bar.update(len(batch))
    finally:
        app.close()
    del app  # and its aggregate cache, before the reads (as for the ledger)
    gc.collect()
    r.values["naive.bulk_append_events_per_s"] = w.size / elapsed

    reader = NaiveLedger(env=naive_env(url, schema, cache=None, fastforward=False))
    try:
        for size, tag in ((1_000, "1k"), (10_000, "10k")):
            ms = _timed_reads(r, w.hot_subjects(size), lambda code: reader.replay(code), tag)
            r.values[f"naive.get_{tag}_ms_p50"] = percentile(ms, 50)
            r.values[f"naive.get_{tag}_ms_p99"] = percentile(ms, 99)
            checked = reader.replay(w.hot_subjects(size)[0])
            if len(checked.records) != size:
                raise AssertionError(
                    f"naive replay of a {size}-event subject saw {len(checked.records)}"
                )
    finally:
        reader.close()

    env = naive_env(url, schema, cache=cache, fastforward=True, create_table=False)
    result = _run_writers(r, _naive_writer, (env,), "naive single")
    _record_latency(r, "naive.single_event", result, "naive.single_events_per_s")
    r.counts["naive_single"] = dict(result.statuses)


def _timed_reads(
    r: _Run,
    subjects: Sequence[str],
    read: Callable[[str], object],
    tag: str,
    count: int | None = None,
) -> list[float]:
    """``count`` (default: the scale's ``reads``) timed reads spread over ``subjects``,
    after one untimed warm-up read of each."""
    for code in subjects:
        read(code)
    count = r.options.scale.reads if count is None else count
    ms = []
    with r.bar(count, f"read {tag}", "read") as bar:
        for k in range(count):
            code = subjects[k % len(subjects)]
            started = time.perf_counter()
            read(code)
            ms.append((time.perf_counter() - started) * 1000)
            bar.update(1)
    return ms


# -- LEDGER ------------------------------------------------------------------------------


def measure_ledger(r: _Run, url: str) -> None:
    """Bulk submit, as-of reads, concurrent single submits, then the optional parts.

    The reads and everything after them use a fresh ``Ledger`` (as an API process
    would): the bulk writer, with its subject-state cache, is closed and collected
    first, so its garbage-collector pauses are not charged to the reads."""
    w = r.workload
    options = r.options
    writer = r.factories.ledger(url)
    try:
        statuses: Counter[str] = Counter()
        elapsed = 0.0
        with r.bar(w.size, "ledger bulk") as bar:
            for batch in w.batches(options.batch_size):
                raw = orjson.dumps([e.event for e in batch])
                started = time.perf_counter()
                outcomes = writer.submit(parse_submission(raw))
                elapsed += time.perf_counter() - started
                statuses.update(o.status for o in outcomes)
                bar.update(len(batch))
    finally:
        writer.recorder.datastore.close()  # type: ignore[attr-defined]
    del writer
    gc.collect()
    r.values["ledger.bulk_submit_events_per_s"] = w.size / elapsed
    r.counts["ledger_bulk"] = dict(statuses)
    if statuses["recorded"] != w.size:
        raise AssertionError(f"the ledger did not record every bench event: {dict(statuses)}")

    ledger = r.factories.ledger(url)
    try:
        reader = options.reader or default_reader()
        r.counts["asof_reader"] = reader.name
        as_of_us = (T0_S + SPAN_S // 2) * 1_000_000
        known_at_us = ledger.clock()
        for size, tag in ((1_000, "1k"), (10_000, "10k")):
            ms = _timed_reads(
                r,
                w.hot_subjects(size),
                lambda code: reader(ledger, code, as_of_us, known_at_us),
                tag,
            )
            r.values[f"ledger.asof_read_{tag}_ms_p50"] = percentile(ms, 50)
            r.values[f"ledger.asof_read_{tag}_ms_p99"] = percentile(ms, 99)
        cold = cold_reader()
        r.counts["asof_cold_reader"] = cold.name
        for size, tag in ((1_000, "1k"), (10_000, "10k")):
            ms = _timed_reads(
                r,
                w.hot_subjects(size),
                lambda code: cold(ledger, code, as_of_us, known_at_us),
                f"{tag} cold",
                count=max(5, options.scale.reads // 5),
            )
            r.values[f"ledger.asof_read_{tag}_cold_ms_p50"] = percentile(ms, 50)

        result = _run_writers(r, _ledger_writer, (r.factories.ledger, url), "ledger single")
        _record_latency(r, "ledger.single_submit", result, "ledger.single_submits_per_s")
        r.counts["ledger_single"] = dict(result.statuses)

        count = max(options.scale.latency_events // 2, 80)
        shares = hot_subject_events(w, ledger, count, HOT_SUBJECT_WRITERS)
        result = _run_writers(
            r, _ledger_writer, (r.factories.ledger, url), "ledger one subject", shares
        )
        _record_latency(r, "ledger.hot_subject", result, "ledger.hot_subject_events_per_s")
        r.counts["ledger_hot_subject"] = dict(result.statuses)

        events = w.followups(max(options.scale.latency_events, 400), seed=13)
        found = measure_http(url, events, clients=HTTP_CLIENTS)
        record_http(r.values, found)
        r.counts["ledger_http"] = found["statuses"]

        with r.phase("rebuild"):
            measure_rebuild(r, ledger, url)
        with r.phase("verify"):
            measure_verify(r, ledger, url)
        with r.phase("kafka"):
            measure_kafka(r, ledger, url)
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def _call_with(fn: Callable[..., Any], available: dict[str, Any]) -> Any:
    """Call ``fn`` with the arguments it names among ``available`` (TypeError if it
    requires another)."""
    kwargs = {}
    for name, param in inspect.signature(fn).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if name in available:
            kwargs[name] = available[name]
        elif param.default is param.empty:
            raise TypeError(
                f"{fn.__module__}.{fn.__qualname__} needs {name!r}, which the bench cannot supply"
            )
    return fn(**kwargs)


def _optional(module: str, names: Sequence[str]) -> Callable[..., Any] | None:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    for name in names:
        fn = getattr(mod, name, None)
        if callable(fn):
            return fn
    return None


def _available(r: _Run, ledger: Ledger, url: str) -> dict[str, Any]:
    return {
        "ledger": ledger,
        "recorder": ledger.recorder,
        "database_url": url,
        "url": url,
        "batch_size": r.options.batch_size,
        "progress": r.options.progress,
    }


def measure_rebuild(r: _Run, ledger: Ledger, url: str) -> None:
    """A full rebuild of every view by ``projections.runner.ProjectionRunner`` (as
    ``ledger rebuild`` runs it), ledger records/s (n/a if the runner is absent)."""
    key = "ledger.rebuild_events_per_s"
    runner_class = _optional("projections.runner", ("ProjectionRunner",))
    if runner_class is None:
        r.na(key, "not built (projections/runner.py)")
        return
    runner = runner_class(ledger.recorder, _rules(ledger), batch_size=r.options.batch_size)
    workers = os.cpu_count() or 1
    started = time.perf_counter()
    summary = runner.rebuild(
        progress=r.options.progress,
        workers=workers,
        open_recorder=functools.partial(r.factories.recorder, url, pool_size=1),
        open_rules=r.factories.rules,
    )
    seconds = time.perf_counter() - started
    events = getattr(summary, "events", None) or ledger.size()
    r.values[key] = events / seconds
    r.counts["rebuild"] = {
        "events": events,
        "workers": workers,
        "seconds": round(seconds, 3),
        "summary": str(summary),
    }


def measure_verify(r: _Run, ledger: Ledger, url: str) -> None:
    """``ledger.audit.verify.verify_store`` over the whole store (as ``ledger verify``
    runs it, one worker process per core), records/s (n/a if absent). A failed
    verification is recorded under ``counts.verify`` and makes the run fail."""
    key = "ledger.verify_records_per_s"
    verify_store = _optional("ledger.audit.verify", ("verify_store",))
    if verify_store is None:
        r.na(key, "not built (ledger/audit/verify.py verify_store)")
        return
    workers = os.cpu_count() or 1
    started = time.perf_counter()
    report = verify_store(
        ledger.recorder,
        workers=workers,
        open_recorder=functools.partial(r.factories.recorder, url, pool_size=1),
    )
    seconds = time.perf_counter() - started
    records = getattr(report, "records", None) or ledger.size()
    r.values[key] = records / seconds
    r.counts["verify"] = {
        "records": records,
        "workers": workers,
        "seconds": round(seconds, 3),
        "ok": getattr(report, "ok", None),
        "summary": report.summary() if hasattr(report, "summary") else repr(report)[:300],
    }
    if getattr(report, "ok", True) is False:
        raise AssertionError(f"audit verification of the bench ledger failed: {report.summary()}")


def measure_kafka(r: _Run, ledger: Ledger, url: str) -> None:
    """``bench.ingest.measure_ingest`` into the loaded ledger, events/s (n/a without
    ``--kafka`` or the module). It is called with what it names among
    ``bootstrap_servers`` (the broker), ``ledger``, ``n_events`` (10 × the scale's
    single events, at least 10,000), ``events`` (the workload's follow-up events as
    (key, JSON) pairs), ``database_url``, ``batch_size``, ``processes`` (one ingest
    process per core, one consumer group), and returns events/s or a
    dict with ``events_per_s`` (the figure; the whole dict is kept under
    ``counts.kafka``)."""
    key = "ledger.kafka_ingest_events_per_s"
    end_to_end = "ledger.kafka_end_to_end_events_per_s"
    if not r.options.kafka:
        r.na(key, "--kafka not given")
        r.na(end_to_end, "--kafka not given")
        return
    fn = _optional("bench.ingest", ("measure_ingest",))
    if fn is None:
        r.na(key, "not built (bench/ingest.py measure_ingest)")
        r.na(end_to_end, "not built (bench/ingest.py measure_ingest)")
        return
    count = max(r.options.scale.latency_events * 10, 10_000)
    events = [
        (e["subject"].encode(), orjson.dumps(e)) for e in r.workload.followups(count, seed=11)
    ]
    available = _available(r, ledger, url) | {
        "bootstrap_servers": r.options.kafka,
        "kafka": r.options.kafka,
        "events": events,
        "messages": events,
        "n_events": count,
        # the composition root's ledger on this store, for each ingest process
        "open_ledger": functools.partial(r.factories.ledger, url),
        # several ingest processes in one consumer group, as production scales out
        "processes": os.cpu_count() or 1,
    }
    try:
        result = _call_with(fn, available)
    except TypeError as e:
        r.na(key, f"measure_ingest API not recognised: {e}")
        r.na(end_to_end, f"measure_ingest API not recognised: {e}")
        return
    if isinstance(result, dict):
        r.counts["kafka"] = result
        whole = result.get("end_to_end_events_per_s")
        r.values["ledger.kafka_end_to_end_events_per_s"] = (
            float(whole) if whole is not None else None
        )
    rate = result.get("events_per_s") if isinstance(result, dict) else result
    r.values[key] = float(rate) if rate is not None else None
    if rate is None:
        r.notes[key] = "n/a: measure_ingest returned no events_per_s"


# -- the run -----------------------------------------------------------------------------


def run(options: Options) -> dict[str, Any]:
    """Measure ``options.scale``; return the result document and write it to
    ``options.output`` (unless None). Raises if a part fails (schemas are dropped)."""
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    _ensure_database(options.database_url)
    env = environment(_conninfo(options.database_url))
    env["load_average_start"] = list(os.getloadavg())
    workload = Workload(options.scale, options.seed)
    r = _Run(options, workload)
    run_id = f"{options.scale.name}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    schemas = [f"bench_{run_id}_{part}" for part in ("limit", "naive", "ledger")]
    with r.phase("workload"):
        workload.order()
    with r.phase("limit"), _schema(options.database_url, schemas[0]) as url:
        measure_limit(r, url)
    with r.phase("naive"), _schema(options.database_url, schemas[1]):
        measure_naive(r, options.database_url, schemas[1])
    with r.phase("ledger"), _schema(options.database_url, schemas[2]) as url:
        measure_ledger(r, url)
    r.values["memory.peak_rss_mb"] = _maxrss_mib(resource.RUSAGE_SELF)
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
