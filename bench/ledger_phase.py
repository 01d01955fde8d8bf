"""The LEDGER part of ``ledger bench``: bulk submit, warm and cold as-of reads, concurrent
single submits (spread, on one subject, over HTTP), then — where the modules are built —
projection rebuild, audit verify and Kafka ingestion (otherwise "n/a: not built").
"""

from __future__ import annotations

import functools
import gc
import os
import time
from collections import Counter
from typing import Any

import orjson

from bench.concurrency import hot_subject_events, measure_http, record_http
from bench.disk import measure_disk
from bench.measurement import Measurement, call_with, optional, timed_reads
from bench.readers import cold_reader, default_reader
from bench.report import percentile
from bench.workloads import SPAN_S, T0_S
from bench.writer_processes import ledger_writer, record_latency, run_writers
from events.envelope import parse_submission
from ledger.app import Ledger

__all__ = ["measure_kafka", "measure_ledger", "measure_rebuild", "measure_verify"]

HOT_SUBJECT_WRITERS = 8
"""Writer processes on the one busy subject (``bench.concurrency``)."""
HTTP_CLIENTS = 8
"""Keep-alive clients of the one ``ledger serve`` (``bench.concurrency``)."""


def measure_ledger(r: Measurement, url: str) -> None:
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
            ms = timed_reads(
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
            ms = timed_reads(
                r,
                w.hot_subjects(size),
                lambda code: cold(ledger, code, as_of_us, known_at_us),
                f"{tag} cold",
                count=max(5, options.scale.reads // 5),
            )
            r.values[f"ledger.asof_read_{tag}_cold_ms_p50"] = percentile(ms, 50)

        result = run_writers(r, ledger_writer, (r.factories.ledger, url), "ledger single")
        record_latency(r, "ledger.single_submit", result, "ledger.single_submits_per_s")
        r.counts["ledger_single"] = dict(result.statuses)

        count = max(options.scale.latency_events // 2, 80)
        shares = hot_subject_events(w, ledger, count, HOT_SUBJECT_WRITERS)
        result = run_writers(
            r, ledger_writer, (r.factories.ledger, url), "ledger one subject", shares
        )
        record_latency(r, "ledger.hot_subject", result, "ledger.hot_subject_events_per_s")
        r.counts["ledger_hot_subject"] = dict(result.statuses)

        events = w.followups(max(options.scale.latency_events, 400), seed=13)
        r.log(f"ledger HTTP: {len(events):,} events from {HTTP_CLIENTS} clients to one serve …")
        found = measure_http(url, events, r.factories.environment(), clients=HTTP_CLIENTS)
        record_http(r.values, found)
        r.counts["ledger_http"] = found["statuses"]

        with r.phase("rebuild"):
            measure_rebuild(r, ledger, url)
        with r.phase("verify"):
            measure_verify(r, ledger, url)
        with r.phase("disk"):
            measure_disk(r, url, ledger.size())
        with r.phase("kafka"):
            measure_kafka(r, ledger, url)
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def _available(r: Measurement, ledger: Ledger, url: str) -> dict[str, Any]:
    return {
        "ledger": ledger,
        "recorder": ledger.recorder,
        "database_url": url,
        "url": url,
        "batch_size": r.options.batch_size,
        "progress": r.options.progress,
    }


def measure_rebuild(r: Measurement, ledger: Ledger, url: str) -> None:
    """A full rebuild of every view by ``projections.runner.ProjectionRunner`` (as
    ``ledger rebuild`` runs it), ledger records/s (n/a if the runner is absent)."""
    key = "ledger.rebuild_events_per_s"
    runner_class = optional("projections.runner", ("ProjectionRunner",))
    if runner_class is None:
        r.na(key, "not built (projections/runner.py)")
        return
    runner = runner_class(ledger.recorder, ledger.rule_services(), batch_size=r.options.batch_size)
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


def measure_verify(r: Measurement, ledger: Ledger, url: str) -> None:
    """``ledger.audit.verify.verify_store`` over the whole store (as ``ledger verify``
    runs it, one worker process per core), records/s (n/a if absent). A failed
    verification is recorded under ``counts.verify`` and makes the run fail."""
    key = "ledger.verify_records_per_s"
    verify_store = optional("ledger.audit.verify", ("verify_store",))
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


def measure_kafka(r: Measurement, ledger: Ledger, url: str) -> None:
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
    fn = optional("bench.ingest", ("measure_ingest",))
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
        result = call_with(fn, available)
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
