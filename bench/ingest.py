"""The Kafka ingest measurement of ``ledger bench`` (``bench.ledger_phase.measure_kafka``), and
the synthetic events and topics the Kafka tests use: produce to a fresh topic, ingest
with :class:`services.ingest.Ingester` in one or several processes, report the figures.
"""

from __future__ import annotations

import queue
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from kafka import KafkaProducer

from ledger.app import Ledger
from services.ingest import IngestConfig, Ingester, IngestStats, crc32c_accelerated

__all__ = ["create_topics", "measure_ingest", "synthetic_events"]


def synthetic_events(
    n: int, *, subjects: int | None = None, run: str | None = None
) -> list[dict[str, Any]]:
    """``n`` valid CloudEvents over ``subjects`` subjects (default n/10), each subject's
    events in order, no references between them (every one is accepted on an empty
    ledger). Ids are unique per ``run`` (default: a fresh one), so repeated
    measurements on one ledger record new events rather than repeats."""
    from events.codes import complete_subject_code

    run = run or uuid.uuid4().hex[:8]
    count = subjects or max(1, n // 10)
    codes = [complete_subject_code(f"914403{i:010d}") for i in range(count)]
    kinds: list[tuple[str, dict[str, Any]]] = [
        ("credit.registration.submitted", {"category": "certificate", "description": "质量认证"}),
        (
            "credit.commitment.made",
            {"commitment_type": "voluntary", "matter": "信用承诺书", "due": None},
        ),
        (
            "credit.evaluation.published",
            {"scheme": "公共信用综合评价", "grade": "良", "valid_until": "2026-12-31"},
        ),
        (
            "credit.violation.recorded",
            {
                "behaviour": "FOOD-0203",
                "severity": "general",
                "sector": "food",
                "basis": "《中华人民共和国食品安全法》第一百二十四条",
                "document": "深市监认〔2025〕3号",
            },
        ),
    ]
    events = []
    for i in range(n):
        subject = codes[i % count]
        seq = i // count
        name, data = kinds[seq % len(kinds)]
        day = 1 + seq % 28
        events.append(
            {
                "specversion": "1.0",
                "id": f"bench-{run}-{i:08d}",
                "source": "samr/440300",
                "type": name,
                "subject": subject,
                "time": f"2025-{1 + (seq // 28) % 12:02d}-{day:02d}T10:00:00+08:00",
                "datacontenttype": "application/json",
                "data": data,
            }
        )
    return events


def create_topics(
    bootstrap_servers: str, topics: Mapping[str, int], *, timeout_s: float = 10.0
) -> None:
    """Create topics (name → partitions, replication 1) that do not exist yet."""
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers.split(","))
    try:
        existing = set(admin.list_topics())
        wanted = [NewTopic(t, n, 1) for t, n in topics.items() if t not in existing]
        if wanted:
            admin.create_topics(wanted, timeout_ms=int(timeout_s * 1000))
    finally:
        admin.close()


def measure_ingest(
    bootstrap_servers: str,
    ledger: Ledger,
    n_events: int,
    *,
    database_url: str | None = None,
    open_ledger: Callable[[], Ledger] | None = None,
    processes: int = 1,
    partitions: int = 6,
    max_poll_records: int = 2000,
    timeout_s: float = 300.0,
) -> dict[str, Any]:
    """Produce ``n_events`` synthetic events to a fresh topic and ingest them into
    ``ledger`` with a fresh consumer group; returns the figures:

    ``events``, ``recorded``, ``rejected``, ``batches``, ``produce_s`` (producing and
    flushing), ``join_s`` (subscribe → first batch: the group join), ``ingest_s``
    (first batch → last commit), ``events_per_s`` (= events / ingest_s, the ingest
    throughput), ``end_to_end_s`` / ``end_to_end_events_per_s`` (first send → last
    commit, group join included). Raises ``TimeoutError`` if not all were consumed
    within ``timeout_s``.

    With ``processes`` > 1 and ``open_ledger`` (it builds the ledger on the same store as
    the composition root does; it must pickle: a module-level function or a partial of
    one), that many ``ledger ingest`` members of one consumer group (separate
    processes, as production scales out) share the partitions, each with its own
    ``Ledger`` (``open_ledger()``); they
    start together, and the figures span the first batch of any to the last commit
    of all.
    """
    run = uuid.uuid4().hex[:8]
    topic = f"bench.ingest.{run}"
    create_topics(bootstrap_servers, {topic: partitions, f"{topic}.rejected": 1})
    events = synthetic_events(n_events, run=run)
    t0 = time.monotonic()
    producer = KafkaProducer(
        bootstrap_servers=bootstrap_servers.split(","), linger_ms=10, enable_idempotence=False
    )
    try:
        for event in events:
            producer.send(topic, key=event["subject"].encode(), value=orjson.dumps(event))
        producer.flush()
    finally:
        producer.close()
    produced = time.monotonic()
    config = IngestConfig(
        bootstrap_servers=bootstrap_servers,
        topic=topic,
        group=f"bench-{run}",
        dead_letter_topic=f"{topic}.rejected",
        max_poll_records=max_poll_records,
        max_poll_interval_ms=30_000,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
    )
    joined_at = time.monotonic()
    if processes > 1 and open_ledger is not None:
        stats = _ingest_in_processes(config, open_ledger, n_events, processes, timeout_s)
    else:
        processes = 1
        stats = _ingest_until(Ingester(ledger, config), n_events, timeout_s)
    if stats.messages < n_events:
        raise TimeoutError(f"only {stats.messages} of {n_events} consumed in {timeout_s} s")
    assert stats.first_batch_at is not None and stats.last_batch_at is not None
    ingest_s = stats.last_batch_at - stats.first_batch_at  # first arrival → last commit
    end_to_end = stats.last_batch_at - t0
    return {
        "events": n_events,
        "recorded": stats.recorded,
        "repeat": stats.repeat,
        "rejected": stats.rejected,
        "batches": stats.batches,
        "partitions": partitions,
        "processes": processes,
        "max_poll_records": max_poll_records,
        "produce_s": round(produced - t0, 3),
        "join_s": round(stats.first_batch_at - joined_at, 3),
        "ingest_s": round(ingest_s, 3),
        "events_per_s": round(n_events / ingest_s, 1) if ingest_s > 0 else None,
        "end_to_end_s": round(end_to_end, 3),
        "end_to_end_events_per_s": round(n_events / end_to_end, 1),
        "crc32c": crc32c_accelerated(),
    }


def _ingest_until(
    ingester: Ingester,
    n_events: int,
    timeout_s: float,
    shared: Callable[[int], int] = lambda mine: mine,
) -> IngestStats:
    """Run ``ingester`` until ``n_events`` were consumed or ``timeout_s`` passed;
    ``shared(own count)`` publishes this member's count and returns the group's.
    Closes the ingester."""
    deadline = time.monotonic() + timeout_s
    try:
        return ingester.run(
            until=lambda s: shared(s.messages) >= n_events or time.monotonic() > deadline
        )
    finally:
        ingester.close()


def _ingest_in_processes(
    config: IngestConfig,
    open_ledger: Callable[[], Ledger],
    n_events: int,
    processes: int,
    timeout_s: float,
) -> IngestStats:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    consumed = ctx.Array("q", processes)
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    members = [
        ctx.Process(
            target=_ingest_member,
            args=(k, config, open_ledger, n_events, consumed, barrier, results, timeout_s),
            daemon=True,
        )
        for k in range(processes)
    ]
    for member in members:
        member.start()
    total = IngestStats()
    firsts: list[float] = []
    lasts: list[float] = []
    try:
        deadline = time.monotonic() + timeout_s + 60
        for _ in members:
            while True:
                try:
                    kind, payload = results.get(timeout=1.0)
                    break
                except queue.Empty:
                    dead = [m.exitcode for m in members if m.exitcode not in (None, 0)]
                    if dead or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"ingest members ended without a result (exit codes {dead})"
                        ) from None
            if kind == "error":
                raise RuntimeError(f"an ingest member failed:\n{payload}")
            for name in ("batches", "messages", "recorded", "repeat", "rejected", "skipped"):
                setattr(total, name, getattr(total, name) + payload[name])
            if payload["first_batch_at"] is not None:
                firsts.append(payload["first_batch_at"])
                lasts.append(payload["last_batch_at"])
    finally:
        for member in members:
            member.join(timeout=30)
    total.first_batch_at = min(firsts) if firsts else None
    total.last_batch_at = max(lasts) if lasts else None
    return total


def _ingest_member(
    k: int,
    config: IngestConfig,
    open_ledger: Callable[[], Ledger],
    n_events: int,
    consumed: Any,
    barrier: Any,
    results: Any,
    timeout_s: float,
) -> None:
    """One member of :func:`_ingest_in_processes` (a spawned process)."""
    import traceback

    try:
        ledger = open_ledger()
        ledger.size()  # connected before the group forms
        ingester = Ingester(ledger, config)
        barrier.wait(timeout=60)

        def shared(mine: int) -> int:
            consumed[k] = mine
            return int(sum(consumed[:]))

        stats = _ingest_until(ingester, n_events, timeout_s, shared)
        results.put(
            (
                "ok",
                {
                    "batches": stats.batches,
                    "messages": stats.messages,
                    "recorded": stats.recorded,
                    "repeat": stats.repeat,
                    "rejected": stats.rejected,
                    "skipped": stats.skipped,
                    "first_batch_at": stats.first_batch_at,
                    "last_batch_at": stats.last_batch_at,
                },
            )
        )
    except BaseException:
        results.put(("error", traceback.format_exc()))
