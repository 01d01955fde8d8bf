"""Kafka ingestion: ``ledger ingest``, a consumer group that records the CloudEvents
agencies publish (message value = one structured-JSON CloudEvent, key = the subject).

The path is the same as ``ledger submit``: each message value is decoded
(``orjson``) and validated (:func:`events.envelope.parse_event`), and a polled batch
goes through :meth:`ledger.app.Ledger.submit` — one transaction per batch.

Exactly-once in effect
    The position consumed in each partition is an eventsourcing ``Tracking`` record
    (application ``kafka:{group}:{topic}:{partition}``, ``notification_id`` = the
    next offset to read), written in the SAME transaction as the batch's events.
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

import argparse
import contextlib
import logging
import os
import queue
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import FrameType
from typing import Any, TypeVar

import orjson
from eventsourcing.persistence import Tracking
from kafka import KafkaConsumer, KafkaProducer
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from entrypoints.bootstrap import ConfigurationError
from entrypoints.settings import Settings
from events.envelope import Envelope, Refused, parse_event
from events.reasons import InvalidEvent, Reason, Rejection
from ledger import heartbeat
from ledger.app import Ledger, Outcome
from ledger.progress import CatchUp

__all__ = [
    "DEFAULT_DEAD_LETTER_TOPIC",
    "BatchResult",
    "IngestConfig",
    "IngestStats",
    "Ingester",
    "crc32c_accelerated",
    "dead_letter_headers",
    "main",
    "measure_ingest",
    "parse_message",
    "register",
    "synthetic_events",
    "tracking_name",
]

log = logging.getLogger("services.ingest")

DEFAULT_DEAD_LETTER_TOPIC = "credit.events.rejected"
NOT_COMMITTED_RETRIES = 3
"""How often a batch whose transaction did not commit (write conflicts) is retried
before the ingester gives up (and exits non-zero for its supervisor to restart it)."""

T = TypeVar("T")


def tracking_name(group: str, topic: str, partition: int) -> str:
    """The eventsourcing tracking application name of one consumed partition."""
    return f"kafka:{group}:{topic}:{partition}"


def crc32c_accelerated() -> bool:
    """Whether kafka-python checks record-batch CRCs with the ``crc32c`` C extension
    (instead of its pure-Python fallback, which is ~100× slower)."""
    try:
        import crc32c
        from kafka.record import util
    except ImportError:  # pragma: no cover - both are dependencies
        return False
    return getattr(util, "_crc32c", None) is crc32c.crc32c


# -- configuration ------------------------------------------------------------------------


def setting_or_env(settings: Settings | None, name: str, default: T, cast: Callable[[str], T]) -> T:
    """A knob from the Settings object if it has the field, else from ``LEDGER_<NAME>``,
    else the default. (Until the lead adds these fields to ``Settings``.)"""
    if settings is not None and name in type(settings).model_fields:
        value: T = getattr(settings, name)
        return value
    raw = os.environ.get(f"LEDGER_{name.upper()}")
    if raw is None or raw == "":
        return default
    try:
        return cast(raw)
    except ValueError as e:
        raise ConfigurationError(f"LEDGER_{name.upper()}={raw!r}: {e}") from e


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

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> IngestConfig:
        """The configuration from ``Settings`` (``kafka_bootstrap``, ``kafka_topic``,
        ``kafka_group``) plus the ingest knobs (``kafka_dead_letter_topic``,
        ``kafka_max_poll_records``, ``kafka_max_poll_interval_ms``,
        ``kafka_session_timeout_ms``, ``kafka_heartbeat_interval_ms``,
        ``kafka_auto_offset_reset``); ``overrides`` (not None) win.

        Raises ``ConfigurationError`` when no bootstrap server is configured.
        """
        bootstrap = overrides.pop("bootstrap_servers", None) or settings.kafka_bootstrap
        if not bootstrap:
            raise ConfigurationError(
                "LEDGER_KAFKA_BOOTSTRAP is not set: ingestion needs the Kafka bootstrap servers"
            )
        reset = setting_or_env(settings, "kafka_auto_offset_reset", "earliest", str).lower()
        if reset not in ("earliest", "latest"):
            raise ConfigurationError(
                f"LEDGER_KAFKA_AUTO_OFFSET_RESET must be earliest or latest, got {reset!r}"
            )
        config = cls(
            bootstrap_servers=bootstrap,
            topic=settings.kafka_topic,
            group=settings.kafka_group,
            dead_letter_topic=setting_or_env(
                settings, "kafka_dead_letter_topic", DEFAULT_DEAD_LETTER_TOPIC, str
            ),
            from_beginning=reset == "earliest",
            max_poll_records=setting_or_env(settings, "kafka_max_poll_records", 2000, int),
            max_poll_interval_ms=setting_or_env(
                settings, "kafka_max_poll_interval_ms", 300_000, int
            ),
            session_timeout_ms=setting_or_env(settings, "kafka_session_timeout_ms", 30_000, int),
            heartbeat_interval_ms=setting_or_env(
                settings, "kafka_heartbeat_interval_ms", 3_000, int
            ),
        )
        return replace(config, **{k: v for k, v in overrides.items() if v is not None})

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


class _SeekToTracked(ConsumerRebalanceListener):
    """Seeks each newly assigned partition to its tracked position (when one exists).

    Runs on the consumer's IO loop: one small indexed query per partition. A failure
    is kept and re-raised by the ingester's loop, which then stops rather than read
    from a position the ledger did not choose.
    """

    def __init__(self, ingester: Ingester) -> None:
        self.ingester = ingester
        self.error: BaseException | None = None

    def on_partitions_revoked(self, revoked: Any) -> None:
        if revoked:
            log.info("partitions revoked: %s", _partitions(revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        try:
            sought = {}
            for tp in assigned:
                position = self.ingester.tracked(tp)
                if position is not None:
                    self.ingester.consumer.seek(tp, position)
                    sought[tp.partition] = position
            log.info(
                "partitions assigned: %s; resuming from tracked offsets %s (others: "
                "committed offset, else %s)",
                _partitions(assigned),
                sought or "none",
                "earliest" if self.ingester.config.from_beginning else "latest",
            )
        except BaseException as e:
            log.exception("could not seek assigned partitions to their tracked positions")
            self.error = e


def _partitions(tps: Any) -> str:
    return ",".join(str(p) for p in sorted(tp.partition for tp in tps)) or "none"


class Ingester:
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
        self.consumer = consumer or KafkaConsumer(**config.consumer_options())
        self.producer = producer or KafkaProducer(**config.producer_options())
        self._listener = _SeekToTracked(self)
        self.consumer.subscribe([config.topic], listener=self._listener)

    # -- positions ------------------------------------------------------------------------
    def tracked(self, tp: Any) -> int | None:
        """The next offset of ``tp`` the ledger has not recorded, or None if never tracked."""
        name = tracking_name(self.config.group, tp.topic, tp.partition)
        position: int | None = self.ledger.recorder.max_tracking_id(name)  # type: ignore[attr-defined]
        return position

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
        stop = stop or threading.Event()
        stats = IngestStats()
        while not stop.is_set() and not (until is not None and until(stats)):
            polled = self.consumer.poll(timeout_ms=self.config.poll_timeout_ms)
            heartbeat.beat()
            if self._listener.error is not None:
                raise self._listener.error
            if not polled:
                continue
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
            floor = self.tracked(tp)
            fresh = [r for r in records if floor is None or r.offset >= floor]
            result.skipped += len(records) - len(fresh)
            if len(fresh) < len(records):
                log.info(
                    "partition %d: dropped %d messages below the tracked offset %s",
                    tp.partition,
                    len(records) - len(fresh),
                    floor,
                )
            messages.extend(fresh)
            if fresh:
                result.positions[tp.partition] = fresh[-1].offset + 1
        result.messages = len(messages)
        if messages:
            items = [parse_message(i, r.value) for i, r in enumerate(messages)]
            tracking = [
                Tracking(tracking_name(self.config.group, self.config.topic, p), offset)
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
        self._commit_offsets(polled)
        self._observe_lag(polled)
        result.seconds = time.perf_counter() - started
        self._log_batch(result)
        return result

    def _observe_lag(self, polled: Mapping[Any, Sequence[Any]]) -> None:
        if self.metrics is None:
            return
        for tp, records in polled.items():
            try:
                high = self.consumer.highwater(tp)
            except Exception:  # a fake or older consumer: no lag figure
                high = None
            if records and isinstance(high, int):
                self.metrics.set_ingest_lag(tp.partition, high - (records[-1].offset + 1))

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

    def _commit_offsets(self, polled: Mapping[Any, Sequence[Any]]) -> None:
        """Tell Kafka how far the batch went (a hint; the ledger's tracking decides)."""
        offsets = {
            tp: OffsetAndMetadata(records[-1].offset + 1, "", -1)
            for tp, records in polled.items()
            if records
        }
        try:
            self.consumer.commit(offsets)
        except KafkaError as e:  # e.g. a rebalance in progress; the tracking is committed
            log.warning("Kafka offset commit failed (the ledger's tracking holds): %s", e)

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


# -- command line ---------------------------------------------------------------------------


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT while the context is open (main thread only);
    the previous handlers are restored on exit."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("%s received: finishing the current batch", signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``ledger ingest``."""
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default LEDGER_KAFKA_BOOTSTRAP)")
    p.add_argument("--topic", help="topic to consume (default LEDGER_KAFKA_TOPIC, credit.events)")
    p.add_argument("--group", help="consumer group (default LEDGER_KAFKA_GROUP, credit-ledger)")
    p.add_argument(
        "--dead-letter-topic",
        help=f"where rejected messages go (default LEDGER_KAFKA_DEAD_LETTER_TOPIC, "
        f"{DEFAULT_DEAD_LETTER_TOPIC})",
    )
    start = p.add_mutually_exclusive_group()
    start.add_argument(
        "--from-beginning",
        dest="from_beginning",
        action="store_const",
        const=True,
        help="a new group starts at the earliest offset (the default)",
    )
    start.add_argument(
        "--from-end",
        dest="from_beginning",
        action="store_const",
        const=False,
        help="a new group starts at the latest offset (skips what is already on the topic)",
    )
    p.add_argument(
        "--batch",
        type=int,
        dest="max_poll_records",
        help="messages per poll and transaction, at most (default 2000)",
    )


def cmd_ingest(args: argparse.Namespace, settings: Settings, make: Callable[..., Ledger]) -> int:
    """Run the ingester until SIGTERM/SIGINT: exit status 0 after a clean shutdown, 1
    when an error stopped it (logged; a supervisor restarts it)."""
    config = IngestConfig.from_settings(
        settings,
        bootstrap_servers=args.bootstrap,
        topic=args.topic,
        group=args.group,
        dead_letter_topic=args.dead_letter_topic,
        from_beginning=args.from_beginning,
        max_poll_records=args.max_poll_records,
    )
    configure_logging()
    ledger = make(settings)
    log.info(
        "ingesting %s (group %s) from %s into %s; dead letters to %s; crc32c %s",
        config.topic,
        config.group,
        config.bootstrap_servers,
        settings.database_url.split("@")[-1],
        config.dead_letter_topic,
        "C extension" if crc32c_accelerated() else "pure Python",
    )
    started = time.perf_counter()
    with stop_on_signals() as stop:
        try:
            metrics = serve_metrics(ledger, settings)
            if sys.stderr.isatty():  # a person watching: show the catching up
                metrics = CatchUp(metrics)
            ingester = Ingester(ledger, config, metrics=metrics)
        except KafkaError as e:
            log.error("cannot use Kafka at %s: %r", config.bootstrap_servers, e)
            return 1
        try:
            stats = ingester.run(stop)
        except Exception:
            log.exception(
                "ingestion stopped by an error; every batch committed so far is in the "
                "ledger, and a restart resumes from its tracking"
            )
            return 1
        finally:
            ingester.close()
    elapsed = time.perf_counter() - started
    rate = stats.messages / stats.busy_seconds if stats.busy_seconds > 0 else 0.0
    print(
        f"ingest stopped: {stats.messages} messages in {stats.batches} batches: "
        f"{stats.recorded} recorded, {stats.repeat} repeat, {stats.rejected} rejected, "
        f"{stats.skipped} already tracked; {elapsed:.1f} s running, "
        f"{rate:,.0f} events/s while busy",
        file=sys.stderr,
    )
    return 0


def serve_metrics(ledger: Ledger, settings: Settings) -> Any | None:
    """With ``LEDGER_METRICS_PORT``, a ``LedgerMetrics`` observing ``ledger``, served at
    ``http://0.0.0.0:PORT/metrics`` from a background thread; else None."""
    if not settings.metrics_port:
        return None
    from prometheus_client import start_http_server

    from ledger.metrics import LedgerMetrics

    metrics = LedgerMetrics()
    ledger.observer = metrics.observe_submit
    start_http_server(settings.metrics_port, registry=metrics.registry)
    log.info("metrics on http://0.0.0.0:%d/metrics", settings.metrics_port)
    return metrics


def configure_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=os.environ.get("LEDGER_LOG_LEVEL", "INFO").upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        logging.getLogger("kafka").setLevel(logging.WARNING)


def register(subparsers: Any, bootstrap: Callable[..., Ledger]) -> None:
    """Add ``ingest`` to the ``ledger`` command line. ``bootstrap(settings) -> Ledger``
    is the composition root the command builds its ledger with."""
    p = subparsers.add_parser(
        "ingest", help="consume CloudEvents from Kafka into the ledger (until SIGTERM)"
    )
    add_arguments(p)
    p.set_defaults(
        handler=lambda args, settings: cmd_ingest(args, settings, bootstrap),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m services.ingest [--database-url URL] [ingest options]``."""
    from entrypoints.bootstrap import bootstrap

    parser = argparse.ArgumentParser(
        prog="python -m services.ingest",
        description="Consume CloudEvents from Kafka into the ledger.",
    )
    parser.add_argument("--database-url", help="override LEDGER_DATABASE_URL")
    add_arguments(parser)
    args = parser.parse_args(argv)
    settings = Settings(**({"database_url": args.database_url} if args.database_url else {}))
    try:
        return cmd_ingest(args, settings, bootstrap)
    except ConfigurationError as e:
        print(f"ledger ingest: {e}", file=sys.stderr)
        return 2


# -- measurement ----------------------------------------------------------------------------


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

    With ``processes`` > 1 and the ledger's ``database_url``, that many ``ledger
    ingest`` members of one consumer group (separate processes, as production scales
    out) share the partitions, each with its own ``Ledger`` on the same store; they
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
    if processes > 1 and database_url is not None:
        stats = _ingest_in_processes(config, database_url, n_events, processes, timeout_s)
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
    config: IngestConfig, database_url: str, n_events: int, processes: int, timeout_s: float
) -> IngestStats:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    consumed = ctx.Array("q", processes)
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    members = [
        ctx.Process(
            target=_ingest_member,
            args=(k, config, database_url, n_events, consumed, barrier, results, timeout_s),
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
    database_url: str,
    n_events: int,
    consumed: Any,
    barrier: Any,
    results: Any,
    timeout_s: float,
) -> None:
    """One member of :func:`_ingest_in_processes` (a spawned process)."""
    import traceback

    from entrypoints.bootstrap import bootstrap

    try:
        ledger = bootstrap(Settings(database_url=database_url))
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
