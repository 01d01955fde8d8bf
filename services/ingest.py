"""Kafka ingestion, the consumer behind ``ledger ingest`` (its command line is
:mod:`entrypoints.cli.ingest`, its measurement :mod:`bench.ingest`): a consumer group that records the CloudEvents
agencies publish (message value = one structured-JSON CloudEvent, key = the subject).

The path is the same as ``ledger submit``: each message value is decoded
(``orjson``) and validated (:func:`events.envelope.parse_event`), and a polled batch
goes through :meth:`ledger.app.Ledger.submit` — one transaction per batch.

Exactly-once in effect
    The position consumed in each partition is an eventsourcing ``Tracking`` record
    (application ``kafka:{group}:{topic}:{partition}``, ``notification_id`` = the
    next offset to read), written in the SAME transaction as the batch's events
    (the loop of :mod:`services.tracked_consumer`, which ``ledger national`` runs too).
    That tracking is the source of truth: on partition assignment each partition is
    sought to its tracked position, and messages below it are dropped before a
    batch is submitted (a batch replayed after a crash between the database commit
    and the Kafka commit). Offsets are committed to Kafka only after the database
    transaction, and only as a hint (``enable_auto_commit`` is off). On top of that
    the (source, id) idempotency key makes an event sent twice a ``repeat``.

Dead letters
    A message that is not JSON, not a valid CloudEvent, or that the decision
    rejects, is produced to the dead-letter topic (default
    ``credit.events.rejected``) with its original key and value bytes and the
    headers ``reason-code``, ``reason-message``, ``original-topic``,
    ``original-partition`` and ``original-offset``; nothing of it is written to the
    ledger. Dead letters are produced and flushed INSIDE the batch's transaction,
    before it commits the tracking, so a crash can never lose one. The price: a
    crash (or a retried transaction) after the flush and before the commit
    produces the batch's dead letters again — consumers of the dead-letter topic
    may see a duplicate (same original topic/partition/offset headers) and should
    treat those headers as the key. ``repeat`` outcomes are not dead letters.

Start position of a NEW group
    ``earliest`` by default (``--from-beginning``): a ledger must not silently skip
    what agencies published before the group first joined, and replaying something
    already recorded (e.g. over HTTP) costs only ``repeat`` outcomes. ``--from-end``
    opts into ``latest``. A group that has tracked positions ignores both.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from eventsourcing.persistence import Tracking
from kafka import KafkaConsumer, KafkaProducer

from events.envelope import Envelope, Refused, parse_event
from events.reasons import InvalidEvent, Reason, Rejection
from ledger.app import Ledger, Outcome
from services.tracked_consumer import TrackedConsumer, messages_behind, partition_tracking_name

__all__ = [
    "DEFAULT_DEAD_LETTER_TOPIC",
    "BatchResult",
    "IngestConfig",
    "IngestStats",
    "Ingester",
    "crc32c_accelerated",
    "dead_letter_headers",
    "parse_message",
]

log = logging.getLogger("services.ingest")

DEFAULT_DEAD_LETTER_TOPIC = "credit.events.rejected"
NOT_COMMITTED_RETRIES = 3
"""How often a batch whose transaction did not commit (write conflicts) is retried
before the ingester gives up (and exits non-zero for its supervisor to restart it)."""


def crc32c_accelerated() -> bool:
    """Whether kafka-python checks record-batch CRCs with the ``crc32c`` C extension
    (instead of its pure-Python fallback, which is ~100× slower)."""
    try:
        import crc32c
        from kafka.record import util
    except ImportError:  # pragma: no cover - both are dependencies
        return False
    return getattr(util, "_crc32c", None) is crc32c.crc32c


@dataclass(frozen=True, slots=True)
class IngestConfig:
    """What the ingester connects to and how it consumes.

    The timing defaults suit production (a slow batch must not get the consumer
    evicted); tests against the Tansu broker use ``max_poll_interval_ms=5000``,
    ``session_timeout_ms=6000``, ``heartbeat_interval_ms=1000`` so that a killed
    member's partitions are reassigned within seconds.
    """

    bootstrap_servers: str
    topic: str = "credit.events"
    group: str = "credit-ledger"
    dead_letter_topic: str = DEFAULT_DEAD_LETTER_TOPIC
    from_beginning: bool = True
    """A new group (no tracking, no committed offset) starts at the earliest offset."""
    max_poll_records: int = 2000
    """Messages per batch = per ledger transaction, at most."""
    poll_timeout_ms: int = 1000
    """How long one poll waits for messages; also how quickly a stop request is seen."""
    max_poll_interval_ms: int = 300_000
    session_timeout_ms: int = 30_000
    heartbeat_interval_ms: int = 3_000
    client_id: str = "credit-ledger-ingest"

    def consumer_options(self) -> dict[str, Any]:
        """The ``KafkaConsumer`` keyword arguments (manual commits only)."""
        return {
            "bootstrap_servers": self.bootstrap_servers.split(","),
            "group_id": self.group,
            "client_id": self.client_id,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest" if self.from_beginning else "latest",
            "max_poll_records": self.max_poll_records,
            "max_poll_interval_ms": self.max_poll_interval_ms,
            "session_timeout_ms": self.session_timeout_ms,
            "heartbeat_interval_ms": self.heartbeat_interval_ms,
            "request_timeout_ms": max(30_000, self.session_timeout_ms + 5_000),
            "check_crcs": True,
        }

    def producer_options(self) -> dict[str, Any]:
        """The dead-letter ``KafkaProducer`` keyword arguments (acks from all replicas)."""
        return {
            "bootstrap_servers": self.bootstrap_servers.split(","),
            "client_id": f"{self.client_id}-dead-letters",
            "acks": "all",
            "linger_ms": 5,
            "enable_idempotence": False,
        }


# -- one message ----------------------------------------------------------------------------


def parse_message(index: int, value: bytes | None) -> Envelope | Refused:
    """One Kafka message value as an envelope, or the reason it is refused.

    ``NOT_JSON`` for a missing value (tombstone), invalid UTF-8 or invalid JSON;
    otherwise whatever :func:`~events.envelope.parse_event` raises. A leading UTF-8
    byte-order mark is ignored (as ``ledger submit`` does).
    """
    if value is None:
        return Refused(
            index, None, None, Rejection(Reason.NOT_JSON, "the message has no value (tombstone)")
        )
    try:
        obj = orjson.loads(bytes(value).removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as e:
        return Refused(
            index,
            None,
            None,
            Rejection(
                Reason.NOT_JSON,
                f"the message value is not valid JSON ({e.msg} at line {e.lineno}, "
                f"column {e.colno})",
            ),
        )
    try:
        return parse_event(obj)
    except InvalidEvent as e:
        ident = source = None
        if isinstance(obj, dict):
            ident = obj["id"] if isinstance(obj.get("id"), str) else None
            source = obj["source"] if isinstance(obj.get("source"), str) else None
        return Refused(index, ident, source, e.rejection)


def dead_letter_headers(record: Any, code: str, message: str) -> list[tuple[str, bytes]]:
    """The headers of the dead letter of a consumed ``record`` (all values UTF-8 bytes)."""
    return [
        ("reason-code", code.encode()),
        ("reason-message", message.encode()),
        ("original-topic", str(record.topic).encode()),
        ("original-partition", str(record.partition).encode()),
        ("original-offset", str(record.offset).encode()),
    ]


# -- the ingester ---------------------------------------------------------------------------


@dataclass(slots=True)
class BatchResult:
    """What one polled batch came to."""

    messages: int = 0
    recorded: int = 0
    repeat: int = 0
    rejected: int = 0
    skipped: int = 0
    """Messages below the tracked position (already recorded before a crash)."""
    seconds: float = 0.0
    positions: dict[int, int] = field(default_factory=dict)
    """Partition → next offset, as committed with the batch."""


@dataclass(slots=True)
class IngestStats:
    """Totals of one :meth:`Ingester.run`."""

    batches: int = 0
    messages: int = 0
    recorded: int = 0
    repeat: int = 0
    rejected: int = 0
    skipped: int = 0
    busy_seconds: float = 0.0
    """Time spent processing batches (not waiting for messages)."""
    first_batch_at: float | None = None
    """``time.monotonic()`` when the first batch arrived."""
    last_batch_at: float | None = None
    """``time.monotonic()`` when the last batch was committed."""

    def add(self, batch: BatchResult) -> None:
        self.batches += 1
        self.messages += batch.messages
        self.recorded += batch.recorded
        self.repeat += batch.repeat
        self.rejected += batch.rejected
        self.skipped += batch.skipped
        self.busy_seconds += batch.seconds


class NotCommitted(RuntimeError):
    """A batch's transaction did not commit (write conflicts beyond the retry bound)."""


class Ingester(TrackedConsumer):
    """Consumes ``config.topic`` as member of ``config.group`` and records what it reads.

    Contract: every message of the topic is, once, either recorded in the ledger (or
    found to be a repeat of a recorded event) or produced to the dead-letter topic;
    the ledger's tracking records say how far each partition was consumed, and
    never get ahead of, nor fall behind, the events of the same transaction.
    Not thread-safe: one thread calls :meth:`run` (another may set its stop event).
    """

    def __init__(
        self,
        ledger: Ledger,
        config: IngestConfig,
        *,
        consumer: Any | None = None,
        producer: Any | None = None,
        metrics: Any | None = None,
    ) -> None:
        self.ledger = ledger
        self.config = config
        self.metrics = metrics
        """A ``ledger.metrics.LedgerMetrics``: its ingest lag per partition is set after
        each batch (the consumer's high watermark minus the next offset)."""
        if not crc32c_accelerated():  # pragma: no cover - crc32c is a dependency
            log.warning("crc32c C extension not in use: record CRC checks will be slow")
        self.producer = producer or KafkaProducer(**config.producer_options())
        super().__init__(
            consumer or KafkaConsumer(**config.consumer_options()),
            [config.topic],
            config.group,
            ledger.recorder.max_tracking_id,  # type: ignore[attr-defined]
            log=log,
            from_beginning=config.from_beginning,
        )

    # -- the loop ---------------------------------------------------------------------------
    def run(
        self,
        stop: threading.Event | None = None,
        *,
        until: Callable[[IngestStats], bool] | None = None,
    ) -> IngestStats:
        """Poll and record batches until ``stop`` is set or ``until(stats)`` is true.

        A stop request is honoured between batches: the current batch is finished and
        committed first. Returns the totals. Does not close the clients (:meth:`close`).
        Raises what the ledger or Kafka raise that cannot be retried (the ledger is
        then unchanged for the failed batch; a restart resumes from the tracking).
        """
        stats = IngestStats()
        for polled in self.batches(
            stop or threading.Event(),
            lambda: until is not None and until(stats),
            self.config.poll_timeout_ms,
        ):
            if stats.first_batch_at is None:
                stats.first_batch_at = time.monotonic()
            result = self.process(polled)
            stats.add(result)
            stats.last_batch_at = time.monotonic()
        return stats

    def process(self, polled: Mapping[Any, Sequence[Any]]) -> BatchResult:
        """Record one polled batch (``{TopicPartition: [ConsumerRecord, …]}``) in one
        transaction, then commit its offsets to Kafka. Retries a batch whose
        transaction did not commit, then raises :class:`NotCommitted`."""
        for attempt in range(1, NOT_COMMITTED_RETRIES + 1):
            try:
                return self._process_once(polled)
            except NotCommitted as e:
                if attempt == NOT_COMMITTED_RETRIES:
                    raise
                log.warning("batch not committed (%s); retrying (attempt %d)", e, attempt + 1)
        raise AssertionError("unreachable")  # pragma: no cover

    def _process_once(self, polled: Mapping[Any, Sequence[Any]]) -> BatchResult:
        started = time.perf_counter()
        result = BatchResult()
        messages: list[Any] = []
        for tp in sorted(polled, key=lambda tp: (tp.topic, tp.partition)):
            records = polled[tp]
            if not records:
                continue
            fresh = self.fresh(tp, records)
            result.skipped += len(records) - len(fresh)
            if len(fresh) < len(records):
                log.info(
                    "partition %d: dropped %d messages below the tracked offset",
                    tp.partition,
                    len(records) - len(fresh),
                )
            messages.extend(fresh)
            if fresh:
                result.positions[tp.partition] = fresh[-1].offset + 1
        result.messages = len(messages)
        if messages:
            items = [parse_message(i, r.value) for i, r in enumerate(messages)]
            tracking = [
                Tracking(partition_tracking_name(self.config.group, self.config.topic, p), offset)
                for p, offset in sorted(result.positions.items())
            ]

            def dead_letters(outcomes: list[Outcome]) -> None:
                self._dead_letter(messages, [o for o in outcomes if o.status == "rejected"])

            outcomes = self.ledger.submit(items, tracking=tracking, before_commit=dead_letters)
            conflicts = [o for o in outcomes if o.code == Reason.CONFLICT]
            if conflicts:
                raise NotCommitted(conflicts[0].message or "write conflict")
            for o in outcomes:
                if o.status == "recorded":
                    result.recorded += 1
                elif o.status == "repeat":
                    result.repeat += 1
                else:
                    result.rejected += 1
                    self._log_rejection(messages[o.index], items[o.index], o)
        self.commit_offsets(polled)
        self._observe_lag(polled)
        result.seconds = time.perf_counter() - started
        self._log_batch(result)
        return result

    def _observe_lag(self, polled: Mapping[Any, Sequence[Any]]) -> None:
        if self.metrics is None:
            return
        for tp, behind in messages_behind(self.consumer, polled).items():
            self.metrics.set_ingest_lag(tp.partition, behind)

    def _dead_letter(self, messages: Sequence[Any], rejected: Sequence[Outcome]) -> None:
        """Produce and flush the dead letters of a batch; raise if any was not acknowledged
        (the caller's transaction then rolls back)."""
        if not rejected:
            return
        futures = []
        for o in rejected:
            record = messages[o.index]
            futures.append(
                self.producer.send(
                    self.config.dead_letter_topic,
                    key=record.key,
                    value=record.value,
                    headers=dead_letter_headers(record, o.code or "", o.message or ""),
                )
            )
        self.producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=30)  # raises the send error, if any

    def _log_rejection(self, record: Any, item: Envelope | Refused, o: Outcome) -> None:
        subject = item.subject if isinstance(item, Envelope) else _text(record.key)
        log.warning(
            "rejected %s[%d]@%d subject=%s id=%s source=%s: %s: %s (dead-lettered to %s)",
            record.topic,
            record.partition,
            record.offset,
            subject or "?",
            o.id or "?",
            o.source or "?",
            o.code,
            o.message,
            self.config.dead_letter_topic,
            extra={"subject": subject or None, "event_id": o.id},
        )

    def _log_batch(self, r: BatchResult) -> None:
        rate = r.messages / r.seconds if r.seconds > 0 else 0.0
        log.info(
            "batch: %d messages: %d recorded, %d repeat, %d rejected, %d already tracked; "
            "%.3f s, %.0f events/s; next offsets %s",
            r.messages,
            r.recorded,
            r.repeat,
            r.rejected,
            r.skipped,
            r.seconds,
            rate,
            " ".join(f"p{p}:{o}" for p, o in sorted(r.positions.items())) or "-",
        )

    def close(self) -> None:
        """Leave the group and close both clients (no auto-commit: offsets were committed
        per batch)."""
        try:
            self.consumer.close(autocommit=False)
        finally:
            self.producer.close(timeout=10)


def _text(key: bytes | None) -> str | None:
    if key is None:
        return None
    return bytes(key).decode("utf-8", "replace")
