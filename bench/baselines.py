"""The two baselines the ledger is measured against on the same data.

* LIMIT (:func:`measure_limit`): the workload's rows as the ledger stores them, in its own
  ``ledger_records`` table, by raw binary ``COPY`` and read back in notification order;
* NAIVE (:func:`measure_naive`): the plain ``eventsourcing`` application of
  :mod:`bench.naive`, bulk, hot-subject reads and concurrent single writers.
"""

from __future__ import annotations

import gc
import hashlib
import time
from collections.abc import Sequence
from typing import Any

import orjson
import psycopg
from psycopg.sql import SQL, Identifier

from bench.database import conninfo, postgres_address
from bench.measurement import Measurement, timed_reads
from bench.naive import NaiveLedger, naive_env
from bench.report import FIGURES, percentile
from bench.workloads import BenchEvent
from bench.writer_processes import naive_writer, record_latency, run_writers
from events.codes import subject_stream_id
from ledger import chain
from ledger.store.rows import COLUMNS
from ledger.store.tables import EVENTS_TABLE

__all__ = ["measure_limit", "measure_naive", "skip_naive"]

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


def measure_limit(r: Measurement, url: str) -> None:
    """COPY-1000 rows/s and the binary notification read rows/s into ``r.values``."""
    recorder = r.factories.recorder(url, pool_size=1)  # the ledger's own table and indexes
    recorder.datastore.close()
    schema = postgres_address(url).schema
    table = SQL("{0}.{1}").format(Identifier(schema), Identifier(EVENTS_TABLE))
    copy_sql = SQL("COPY {0} ({1}) FROM STDIN (FORMAT BINARY)").format(table, SQL(COLUMNS))
    w = r.workload
    elapsed = 0.0
    position = 0
    recorded_us = time.time_ns() // 1000
    with psycopg.connect(conninfo(url)) as conn, r.bar(w.size, "limit COPY", "row") as bar:
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
        psycopg.connect(conninfo(url), autocommit=True) as conn,
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


def skip_naive(r: Measurement, why: str) -> None:
    """Leave the naive application out: each of its figures n/a, saying ``why``."""
    for spec in FIGURES:
        if spec.key.startswith("naive."):
            r.na(spec.key, why)


def measure_naive(r: Measurement, url: str, schema: str) -> None:
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
            ms = timed_reads(r, w.hot_subjects(size), lambda code: reader.replay(code), tag)
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
    result = run_writers(r, naive_writer, (env,), "naive single")
    record_latency(r, "naive.single_event", result, "naive.single_events_per_s")
    r.counts["naive_single"] = dict(result.statuses)
