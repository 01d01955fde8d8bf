"""Kafka ingestion against the real (Tansu) broker and PostgreSQL: exactly-once in
effect, dead letters, and resuming from the ledger's own tracking."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient
from kafka.structs import OffsetAndMetadata

from bench.ingest import synthetic_events
from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
from ledger.app import Ledger
from services.ingest import IngestConfig, Ingester
from services.tracked_consumer import partition_tracking_name
from tests.integration.kafka_broker import (
    TEST_CONSUMER,
    Broker,
    kafka_broker,  # noqa: F401  (the fixture)
    ledger_streams,
    produce_slice,
)
from tests.unit.events.samples import SAMPLES

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
def pg_ledger(postgres_url: str) -> Iterator[Ledger]:
    app = bootstrap(Settings(database_url=postgres_url))
    yield app
    app.recorder.datastore.close()  # type: ignore[attr-defined]


def config(broker: Broker, topic: str, dead: str, group: str, **kw: Any) -> IngestConfig:
    return IngestConfig(
        bootstrap_servers=broker.bootstrap,
        topic=topic,
        group=group,
        dead_letter_topic=dead,
        poll_timeout_ms=300,
        **{**TEST_CONSUMER, **kw},
    )


def ingest_until(ingester: Ingester, messages: int, timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    stats = ingester.run(until=lambda s: s.messages >= messages or time.monotonic() > deadline)
    assert stats.messages == messages, f"consumed {stats.messages} of {messages} in {timeout_s} s"
    return stats


def test_ten_thousand_events_from_three_producers_recorded_exactly_once(
    kafka_broker: Broker,  # noqa: F811
    pg_ledger: Ledger,
) -> None:
    topic, dead = kafka_broker.fresh_topics(6)
    events = synthetic_events(10_000, subjects=700)
    group = f"g-{uuid.uuid4().hex[:6]}"
    ingester = Ingester(pg_ledger, config(kafka_broker, topic, dead, group, max_poll_records=2000))
    spawn = multiprocessing.get_context("spawn")
    payload = orjson.dumps(events)
    producers = [
        spawn.Process(target=produce_slice, args=(kafka_broker.bootstrap, topic, payload, i, 3))
        for i in range(3)
    ]
    for p in producers:
        p.start()
    try:
        stats = ingest_until(ingester, 10_000, timeout_s=90)
    finally:
        ingester.close()
        for p in producers:
            p.join(timeout=30)
    assert [p.exitcode for p in producers] == [0, 0, 0]
    assert (stats.recorded, stats.repeat, stats.rejected) == (10_000, 0, 0)
    rate = stats.messages / max(stats.last_batch_at - stats.first_batch_at, 1e-9)
    print(f"\ningested 10,000 events in {stats.batches} batches, {rate:,.0f} events/s")

    streams = ledger_streams(pg_ledger)  # no duplicates, no gaps, seqs 1..n
    recorded = {i for ids in streams.values() for i in ids}
    assert recorded == {e["id"] for e in events}
    # Per subject, the order of production (one producer per event, but a subject's
    # events are all keyed to one partition and produced in order by each producer).
    assert len(streams) == 700
    # The tracking says exactly how far each partition went, and so does Kafka.
    ends = kafka_broker.next_offsets(topic, 10_000)
    assert sum(ends.values()) == 10_000 and len(ends) == 6
    for partition, end in ends.items():
        name = partition_tracking_name(group, topic, partition)
        assert pg_ledger.recorder.max_tracking_id(name) == end  # type: ignore[attr-defined]


BAD_KINDS = [
    "not-json",
    "tombstone",
    "array",
    "missing",
    "check",
    "unknown-type",
    "float",
    "time",
    "future",
    "unknown-reference",
]


def bad_message(kind: str, n: int, subject: str) -> tuple[bytes | None, bytes | None, str]:
    """A malformed or invalid message of ``kind``: (key, value, expected reason code)."""
    base = dict(SAMPLES["credit.registration.submitted"])
    base.update(id=f"bad-{kind}-{n}", subject=subject)
    key = subject.encode()
    if kind == "not-json":
        return key, b'{"specversion": "1.0", "id": "bad-%d", ' % n, "not-json"
    if kind == "tombstone":
        return key, None, "not-json"
    if kind == "array":
        return key, orjson.dumps([base]), "not-an-object"
    if kind == "missing":
        del base["time"]
        return key, orjson.dumps(base), "missing-attribute"
    if kind == "check":
        base["subject"] = subject[:17] + ("0" if subject[17] != "0" else "1")
        return key, orjson.dumps(base), "subject-code-check"
    if kind == "unknown-type":
        base["type"] = "credit.horoscope.read"
        return key, orjson.dumps(base), "unknown-type"
    if kind == "float":
        return (
            key,
            orjson.dumps(base).replace(b'"certificate"', b'"certificate","score":1.5'),
            "float-not-allowed",
        )
    if kind == "time":
        base["time"] = "yesterday"
        return key, orjson.dumps(base), "invalid-time"
    if kind == "future":
        base["time"] = "2099-01-01T00:00:00+08:00"
        return key, orjson.dumps(base), "time-in-future"
    if kind == "unknown-reference":
        corrected = dict(SAMPLES["credit.record.corrected"])
        corrected.update(id=f"bad-{kind}-{n}", subject=subject)
        corrected["data"] = {"target": "no-such-record", "changes": {"description": "x"}}
        return key, orjson.dumps(corrected), "unknown-reference"
    raise AssertionError(kind)


def test_bad_messages_go_to_the_dead_letter_topic_and_nothing_of_them_to_the_ledger(
    kafka_broker: Broker,  # noqa: F811
    pg_ledger: Ledger,
) -> None:
    topic, dead = kafka_broker.fresh_topics(6)
    good = synthetic_events(900, subjects=90)
    messages: list[tuple[bytes | None, bytes | None]] = []
    expected: dict[bytes | None, str] = {}
    for i, event in enumerate(good):
        messages.append((event["subject"].encode(), orjson.dumps(event)))
        if i % 9 == 8:  # 100 bad ones, interleaved, on the good ones' subjects
            n = len(expected)
            key, value, code = bad_message(BAD_KINDS[n % len(BAD_KINDS)], n, event["subject"])
            messages.append((key, value))
            expected[value if value is not None else f"tombstone-{n}".encode()] = code
        if i % 45 == 44:  # and 20 exact re-sends: repeats, not dead letters
            messages.append((event["subject"].encode(), orjson.dumps(event)))
    assert len(expected) == 100
    kafka_broker.produce(topic, messages)

    group = f"g-{uuid.uuid4().hex[:6]}"
    ingester = Ingester(pg_ledger, config(kafka_broker, topic, dead, group, max_poll_records=300))
    try:
        stats = ingest_until(ingester, len(messages))
    finally:
        ingester.close()
    assert (stats.recorded, stats.repeat, stats.rejected) == (900, 20, 100)

    letters = kafka_broker.read_all(dead, 100)
    assert len(letters) == 100, "every bad message dead-lettered exactly once"
    sent = kafka_broker.read_all(topic, len(messages))
    by_position = {(m.partition, m.offset): m for m in sent}
    codes: Counter[str] = Counter()
    for letter in letters:
        headers = {k: v.decode() for k, v in letter.headers}
        assert set(headers) >= {
            "reason-code",
            "reason-message",
            "original-topic",
            "original-partition",
            "original-offset",
        }
        assert headers["original-topic"] == topic
        original = by_position[int(headers["original-partition"]), int(headers["original-offset"])]
        assert (letter.key, letter.value) == (original.key, original.value)
        key = letter.value if letter.value is not None else None
        if key is not None:
            assert headers["reason-code"] == expected[key], headers
        else:
            assert headers["reason-code"] == "not-json"
        assert headers["reason-message"]
        codes[headers["reason-code"]] += 1
    assert codes == Counter(expected.values())

    streams = ledger_streams(pg_ledger)
    recorded = {i for ids in streams.values() for i in ids}
    assert recorded == {e["id"] for e in good}, "all good recorded, none of the bad"

    # Resuming from the ledger's tracking, not from Kafka's offsets: rewind the
    # group's committed offsets to 0 and join again; every partition is sought to
    # its tracked position, and nothing is read again.
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    try:
        admin.alter_group_offsets(
            group, {TopicPartition(topic, p): OffsetAndMetadata(0, "", -1) for p in range(6)}
        )
    finally:
        admin.close()
    probe = KafkaConsumer(bootstrap_servers=kafka_broker.bootstrap, group_id=group)
    try:
        rewound = {p: probe.committed(TopicPartition(topic, p)) for p in range(6)}
    finally:
        probe.close()
    assert set(rewound.values()) <= {0, None}
    again = Ingester(pg_ledger, config(kafka_broker, topic, dead, group))
    try:
        deadline = time.monotonic() + 30
        while len(again.consumer.assignment()) < 6 and time.monotonic() < deadline:
            assert not again.consumer.poll(timeout_ms=200), "re-read a tracked message"
        ends = {}
        for m in sent:
            ends[m.partition] = max(ends.get(m.partition, 0), m.offset + 1)
        for partition, end in ends.items():
            assert again.consumer.position(TopicPartition(topic, partition)) == end
        settle = time.monotonic() + 1.0
        stats = again.run(until=lambda s: time.monotonic() > settle or s.batches > 0)
    finally:
        again.close()
    assert stats.messages == 0


def test_metrics_scraped_after_ingest_show_lag_per_partition_and_events_by_agency(
    kafka_broker: Broker,  # noqa: F811
    pg_ledger: Ledger,
) -> None:
    """What an operator's Prometheus sees of an ``ingest`` process: the events it
    recorded by type and agency, and each partition's lag once it has caught up."""
    import socket
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    from entrypoints.cli.ingest import serve_metrics

    topic, dead = kafka_broker.fresh_topics(3)
    events = synthetic_events(300, subjects=30)
    kafka_broker.produce_events(topic, events)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    metrics = serve_metrics(pg_ledger, Settings(metrics_port=port))
    ingester = Ingester(
        pg_ledger,
        config(kafka_broker, topic, dead, f"g-{uuid.uuid4().hex[:6]}", max_poll_records=100),
        metrics=metrics,
    )
    try:
        ingest_until(ingester, 300)
    finally:
        ingester.close()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    lags = {
        dict(labels)["partition"]: value
        for (name, labels), value in samples.items()
        if name == "ledger_ingest_lag_messages"
    }
    assert lags == {"0": 0, "1": 0, "2": 0}
    recorded = Counter()
    for (name, labels), value in samples.items():
        if name == "ledger_events_total" and dict(labels)["outcome"] == "recorded":
            recorded[(dict(labels)["agency"], dict(labels)["type"])] += value
    expected = Counter((e["source"], e["type"]) for e in events)
    assert recorded == expected
