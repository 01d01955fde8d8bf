"""The ingester's and the feed's bookkeeping with stand-in Kafka clients, on both
stores: tracking in the events' transaction, replays dropped, dead letters never
lost, the feed's at-least-once restart. (Against the real broker:
``test_kafka_*.py``.)"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from kafka import TopicPartition
from kafka.errors import KafkaTimeoutError

from bench.ingest import synthetic_events
from entrypoints.bootstrap import ConfigurationError, bootstrap
from entrypoints.cli.ingest import ingest_config, register
from entrypoints.settings import Settings
from events.envelope import parse_submission
from ledger.app import Ledger
from projections.feed import DisclosureFeed
from services.ingest import IngestConfig, Ingester, dead_letter_headers, parse_message
from services.tracked_consumer import partition_tracking_name
from tests.integration.test_kafka_feed import record_story

TOPIC = "credit.events"
GROUP = "g"


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


class Future:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def get(self, timeout: float | None = None) -> None:
        if self.error is not None:
            raise self.error


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail = False

    def send(self, topic: str, key: Any = None, value: Any = None, headers: Any = None) -> Future:
        if self.fail:
            return Future(KafkaTimeoutError("broker unavailable"))
        self.sent.append({"topic": topic, "key": key, "value": value, "headers": headers})
        return Future(None)

    def flush(self, timeout: float | None = None) -> None:
        pass

    def close(self, timeout: float | None = None) -> None:
        pass


class FakeConsumer:
    def __init__(self) -> None:
        self.commits: list[dict[Any, Any]] = []
        self.listener: Any = None

    def subscribe(self, topics: list[str], listener: Any = None) -> None:
        self.listener = listener

    def commit(self, offsets: dict[Any, Any]) -> None:
        self.commits.append(offsets)

    def close(self, autocommit: bool = True) -> None:
        pass


@pytest.fixture
def app(store_url: str) -> Iterator[Ledger]:
    ledger = bootstrap(Settings(database_url=store_url))
    yield ledger
    ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def make_ingester(ledger: Ledger) -> tuple[Ingester, FakeProducer, FakeConsumer]:
    producer, consumer = FakeProducer(), FakeConsumer()
    config = IngestConfig(bootstrap_servers="unused:9092", topic=TOPIC, group=GROUP)
    return Ingester(ledger, config, consumer=consumer, producer=producer), producer, consumer


def batch(events: list[dict[str, Any]], partition: int, start: int = 0) -> list[Record]:
    return [
        Record(TOPIC, partition, start + i, e["subject"].encode(), orjson.dumps(e))
        for i, e in enumerate(events)
    ]


def tracked(ledger: Ledger, partition: int) -> int | None:
    position: int | None = ledger.recorder.max_tracking_id(  # type: ignore[attr-defined]
        partition_tracking_name(GROUP, TOPIC, partition)
    )
    return position


def test_a_batch_replayed_after_a_crash_before_the_kafka_commit_changes_nothing(
    app: Ledger,
) -> None:
    ingester, producer, _ = make_ingester(app)
    events = synthetic_events(15, subjects=5)
    p0 = batch(events[:10], 0)
    p0[3] = Record(TOPIC, 0, 3, b"k", b"not json")
    polled = {TopicPartition(TOPIC, 0): p0, TopicPartition(TOPIC, 1): batch(events[10:], 1)}
    first = ingester.process(polled)
    assert (first.recorded, first.rejected, first.skipped) == (14, 1, 0)
    assert (tracked(app, 0), tracked(app, 1)) == (10, 5)
    assert len(producer.sent) == 1
    size = app.size()

    again = ingester.process(polled)  # as if the Kafka commit had been lost
    assert (again.messages, again.skipped) == (0, 15)
    assert app.size() == size and len(producer.sent) == 1
    assert (tracked(app, 0), tracked(app, 1)) == (10, 5)

    more = synthetic_events(5, subjects=5)
    overlap = {TopicPartition(TOPIC, 0): p0[5:] + batch(more, 0, start=10)}
    third = ingester.process(overlap)
    assert (third.messages, third.skipped, third.recorded) == (5, 5, 5)
    assert tracked(app, 0) == 15 and app.size() == size + 5


def test_a_dead_letter_that_cannot_be_produced_rolls_the_batch_back(app: Ledger) -> None:
    ingester, producer, consumer = make_ingester(app)
    events = synthetic_events(4, subjects=2)
    records = batch(events, 2)
    records.insert(2, Record(TOPIC, 2, 99, b"k", orjson.dumps({"specversion": "1.0"})))
    records = [Record(TOPIC, 2, i, r.key, r.value) for i, r in enumerate(records)]
    polled = {TopicPartition(TOPIC, 2): records}
    producer.fail = True
    with pytest.raises(KafkaTimeoutError):
        ingester.process(polled)
    assert app.size() == 0 and tracked(app, 2) is None and consumer.commits == []

    producer.fail = False
    result = ingester.process(polled)
    assert (result.recorded, result.rejected) == (4, 1)
    [letter] = producer.sent
    assert letter["value"] == records[2].value and letter["key"] == b"k"
    headers = dict(letter["headers"])
    assert headers["reason-code"] == b"missing-attribute"
    assert headers["original-offset"] == b"2" and headers["original-partition"] == b"2"
    assert tracked(app, 2) == 5
    assert consumer.commits[-1][TopicPartition(TOPIC, 2)].offset == 5


def test_a_stale_tracked_position_is_caught_by_the_tracking_insert(
    app: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    """Another member (a zombie's successor) committed the batch first: the tracking
    insert conflicts, nothing is written twice, and the retry drops the batch."""
    ingester, _, _ = make_ingester(app)
    app.max_attempts = 2
    polled = {TopicPartition(TOPIC, 0): batch(synthetic_events(6, subjects=3), 0)}
    assert ingester.process(polled).recorded == 6
    real = ingester.tracked
    stale = {"left": 1}

    def tracked_once_stale(tp: Any) -> int | None:
        if stale["left"]:
            stale["left"] -= 1
            return None  # as read before the other member's commit
        return real(tp)

    ingester.tracked = tracked_once_stale  # type: ignore[method-assign]
    again = ingester.process(polled)
    assert (again.messages, again.skipped) == (0, 6)
    assert app.size() == 6
    assert "batch not committed" in caplog.text


def test_parse_message_refusals() -> None:
    assert parse_message(0, None).rejection.code == "not-json"  # type: ignore[union-attr]
    assert parse_message(0, b"\xff").rejection.code == "not-json"  # type: ignore[union-attr]
    refused = parse_message(3, orjson.dumps({"specversion": "1.0", "id": "x", "source": "s"}))
    assert refused.rejection.code == "missing-attribute"  # type: ignore[union-attr]
    assert (refused.index, refused.id, refused.source) == (3, "x", "s")  # type: ignore[union-attr]
    event = synthetic_events(1)[0]
    assert parse_message(0, b"\xef\xbb\xbf" + orjson.dumps(event)).id == event["id"]  # type: ignore[union-attr]
    headers = dict(dead_letter_headers(Record("t", 4, 17, None, None), "c", "m"))
    assert headers == {
        "reason-code": b"c",
        "reason-message": b"m",
        "original-topic": b"t",
        "original-partition": b"4",
        "original-offset": b"17",
    }


def test_configuration_from_settings_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError):
        ingest_config(Settings(kafka_bootstrap=None))
    monkeypatch.setenv("LEDGER_KAFKA_SESSION_TIMEOUT_MS", "6000")
    monkeypatch.setenv("LEDGER_KAFKA_DEAD_LETTER_TOPIC", "dl")
    config = ingest_config(
        Settings(kafka_bootstrap="127.0.0.1:9092", kafka_group="grp"), max_poll_records=10
    )
    assert (config.session_timeout_ms, config.dead_letter_topic, config.group) == (
        6000,
        "dl",
        "grp",
    )
    assert config.max_poll_records == 10 and config.from_beginning
    options = config.consumer_options()
    assert options["enable_auto_commit"] is False and options["auto_offset_reset"] == "earliest"
    monkeypatch.setenv("LEDGER_KAFKA_AUTO_OFFSET_RESET", "latest")
    assert not ingest_config(Settings(kafka_bootstrap="h:1")).from_beginning

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(), bootstrap)
    args = parser.parse_args(["ingest", "--from-end", "--batch", "100"])
    assert (args.from_beginning, args.max_poll_records) == (False, 100)
    assert callable(args.handler)


def test_feed_restart_after_a_crash_before_tracking_repeats_the_same_changes(app: Ledger) -> None:
    record_story(app)
    producer = FakeProducer()
    feed = DisclosureFeed(app, producer, topic="changes", batch_size=10)
    insert = app.recorder.insert_tracking  # type: ignore[attr-defined]

    def crash(tracking: Any) -> None:
        raise RuntimeError("killed between the flush and the tracking")

    app.recorder.insert_tracking = crash  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError):
        feed.step()
    app.recorder.insert_tracking = insert  # type: ignore[attr-defined]
    first = [orjson.loads(m["value"]) for m in producer.sent]
    assert feed.position() == 0
    assert DisclosureFeed(app, producer, topic="changes").run(until_caught_up=True) == 5
    everything = [orjson.loads(m["value"]) for m in producer.sent]
    assert everything == first + first, "the replay produces the very same changes"
    unique = {c["id"]: c for c in everything}
    # The feed runs after the repair: the repaired penalty's publication (position 0)
    # is not shipped at all (it is not published now), only its removal by id.
    assert sorted((c["data"]["position"], c["data"]["change"]) for c in unique.values()) == [
        (1, "published"),
        (4, "ended"),
    ]


def test_before_commit_sees_the_outcomes_and_can_veto_the_commit(app: Ledger) -> None:
    first, second, third = synthetic_events(3, subjects=1)
    assert app.submit(parse_submission(orjson.dumps([first])))[0].status == "recorded"
    seen: list[Any] = []

    def veto(outcomes: list[Any]) -> None:
        seen.append([o.to_json() for o in outcomes])
        raise KafkaTimeoutError("dead letters not acknowledged")

    items = parse_submission(orjson.dumps([second, {"not": "an event"}, second]))
    with pytest.raises(KafkaTimeoutError):
        app.submit(items, before_commit=veto)
    assert [o["status"] for o in seen[0]] == ["recorded", "rejected", "repeat"]
    assert app.size() == 1
    # The state cache forgot the rolled-back record: the stream goes on at seq 2.
    outcomes = app.submit(parse_submission(orjson.dumps([second, third])))
    assert [o.record.seq for o in outcomes if o.record] == [2, 3]
    assert app.submit(items)[0].status == "repeat"


def test_feed_of_records_recorded_together_reports_each_change_once(app: Ledger) -> None:
    from tests.integration.test_kafka_feed import SUBJECT, penalty

    both = [penalty(SUBJECT, 1, "2025-06-02"), penalty(SUBJECT, 2, "2025-06-03")]
    at = 1_749_000_000_000_000  # 2025-06-04, one transaction for both
    assert [o.status for o in app.submit(parse_submission(orjson.dumps(both)), now_us=at)] == [
        "recorded",
        "recorded",
    ]
    producer = FakeProducer()
    assert DisclosureFeed(app, producer, topic="changes").run(until_caught_up=True) == 2
    changes = [orjson.loads(m["value"])["data"] for m in producer.sent]
    assert [(c["position"], c["event_id"], c["change"]) for c in changes] == [
        (0, both[0]["id"], "published"),
        (1, both[1]["id"], "published"),
    ]
