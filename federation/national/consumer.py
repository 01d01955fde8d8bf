"""The national consumer: one consumer group over every region's feed and checkpoint topics.

Each polled batch (all its partitions) becomes one transaction of the national store
(:meth:`~federation.national.store.NationalStore.apply`) together with the tracking
record of every partition it read: exactly-once in effect, in the loop ``ledger ingest``
runs too (:mod:`services.tracked_consumer`). On assignment each partition is sought to its
tracked offset; messages below it are dropped before a batch is applied; Kafka offsets are
committed after the transaction, as a hint only.

What a message must be (else it is refused: logged, counted, and skipped — the region's
own copy is the one to fix; nothing of it is applied):

* on a feed topic: a CloudEvent of type ``credit.disclosure.changed`` (``ledger feed``)
  whose ``origin`` (attribute; ``source`` ``ORIGIN/disclosure`` for a feed that predates
  it) is a region configured for that topic;
* on a checkpoint topic: a signed checkpoint (``ledger checkpoint`` with Kafka) of a region
  configured for that topic, whose signature verifies under that region's public key.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from eventsourcing.persistence import Tracking
from kafka import KafkaConsumer

from federation.national.config import NationalConfig, Region
from federation.national.metrics import NationalMetrics
from federation.national.store import ItemChange, NationalStore
from ledger.audit.checkpoint_log import parse_checkpoint
from ledger.audit.checkpoints import Checkpoint, CheckpointError
from projections.feed import CHANGE_TYPE
from services.tracked_consumer import TrackedConsumer, messages_behind

__all__ = ["ConsumerStats", "NationalConsumer", "Refusal", "read_message"]

log = logging.getLogger("federation.national")


class Refusal(ValueError):
    """A message the national view does not take (the message says why)."""


@dataclass(slots=True)
class ConsumerStats:
    """Totals of one :meth:`NationalConsumer.run`."""

    batches: int = 0
    messages: int = 0
    changes: int = 0
    applied: int = 0
    checkpoints: int = 0
    refused: int = 0
    skipped: int = 0
    """Messages below the tracked offset (applied before a crash)."""
    last_batch_at: float | None = None
    refusals: list[str] = field(default_factory=list)
    """The last few refusals, for a person reading the summary."""


def _us(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1_000_000)


def read_message(
    topic: str, value: bytes | None, config: NationalConfig
) -> ItemChange | Checkpoint:
    """What one message of ``topic`` says (module docstring).

    Raises:
        Refusal: the message is not one the national view takes.
    """
    if value is None:
        raise Refusal("no value (tombstone)")
    speakers = config.speakers(topic)
    if config.is_checkpoint_topic(topic):
        try:
            cp = parse_checkpoint(bytes(value), f"{topic} message")
        except CheckpointError as e:
            raise Refusal(str(e)) from e
        region = _speaker(speakers, cp.origin, topic)
        if not cp.verify_signature(region.public_key):
            raise Refusal(
                f"checkpoint {cp.size} of {cp.origin}: the signature does not verify under "
                "the region's public key"
            )
        return cp
    try:
        event = orjson.loads(bytes(value))
        if not isinstance(event, dict) or event.get("type") != CHANGE_TYPE:
            raise Refusal(f"not a {CHANGE_TYPE} CloudEvent")
        origin = event.get("origin") or str(event.get("source", "")).removesuffix("/disclosure")
        _speaker(speakers, origin, topic)
        data = event["data"]
        change = data["change"]
        if change not in ("published", "updated", "ended"):
            raise Refusal(f"unknown change {change!r}")
        item = data.get("item") if change != "ended" else None
        return ItemChange(
            origin=origin,
            subject=str(event["subject"]),
            event_id=str(data["event_id"]),
            change=change,
            position=int(data["position"]),
            recorded_us=_us(str(event["time"])),
            item=item if isinstance(item, dict) else None,
            cause=data.get("cause"),
            subject_name=data.get("subject_name"),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        if isinstance(e, Refusal):
            raise
        raise Refusal(f"not a disclosure change: {e!r}") from e


def _speaker(speakers: Mapping[str, Region], origin: str, topic: str) -> Region:
    region = speakers.get(origin)
    if region is None:
        raise Refusal(f"origin {origin!r} may not publish on {topic} (regions: {sorted(speakers)})")
    return region


class NationalConsumer(TrackedConsumer):
    """Consumes every configured topic as member of ``config.group`` into ``store``.

    Contract: every message of the topics is, once, applied to the store or refused; the
    store's tracking says how far each partition was consumed and is written in the
    transaction of the batch. Not thread-safe: one thread calls :meth:`run`.
    """

    def __init__(
        self,
        store: NationalStore,
        config: NationalConfig,
        *,
        bootstrap: str,
        consumer: Any | None = None,
        metrics: NationalMetrics | None = None,
        **options: Any,
    ) -> None:
        self.store = store
        self.config = config
        self.metrics = metrics
        """Counts what each batch took and refused, and the lag behind each origin."""
        super().__init__(
            consumer
            or KafkaConsumer(
                bootstrap_servers=bootstrap.split(","),
                group_id=config.group,
                client_id="credit-national",
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_poll_records=options.pop("max_poll_records", 2000),
                check_crcs=True,
                **options,
            ),
            config.topics(),
            config.group,
            store.tracked,
            log=log,
        )

    def run(
        self,
        stop: threading.Event | None = None,
        *,
        until: Callable[[ConsumerStats], bool] | None = None,
        poll_ms: int = 500,
    ) -> ConsumerStats:
        """Poll and apply batches until ``stop`` is set or ``until(stats)`` is true.
        Raises what the store or Kafka raise (a restart resumes from the tracking)."""
        stats = ConsumerStats()
        for polled in self.batches(
            stop or threading.Event(), lambda: until is not None and until(stats), poll_ms
        ):
            self.process(polled, stats)
            stats.last_batch_at = time.monotonic()
        return stats

    def process(self, polled: Mapping[Any, Sequence[Any]], stats: ConsumerStats) -> None:
        """Apply one polled batch in one transaction, then commit its offsets to Kafka."""
        changes: list[ItemChange] = []
        checkpoints: list[Checkpoint] = []
        tracking: list[Tracking] = []
        for tp in sorted(polled, key=lambda tp: (tp.topic, tp.partition)):
            records = polled[tp]
            fresh = self.fresh(tp, records)
            stats.skipped += len(records) - len(fresh)
            if not fresh:
                continue
            tracking.append(Tracking(self.tracking_name(tp), fresh[-1].offset + 1))
            for record in fresh:
                stats.messages += 1
                try:
                    read = read_message(tp.topic, record.value, self.config)
                except Refusal as e:
                    stats.refused += 1
                    stats.refusals = [*stats.refusals[-4:], str(e)]
                    if self.metrics is not None:
                        self.metrics.refuse(tp.topic)
                    log.warning("refused %s[%d]@%d: %s", tp.topic, tp.partition, record.offset, e)
                    continue
                if isinstance(read, Checkpoint):
                    checkpoints.append(read)
                else:
                    changes.append(read)
        if tracking:
            stats.applied += self.store.apply(changes, checkpoints, tracking)
            stats.changes += len(changes)
            stats.checkpoints += len(checkpoints)
            stats.batches += 1
            if self.metrics is not None:
                self.metrics.taken(changes, checkpoints)
        self.commit_offsets(polled)
        if self.metrics is not None:
            behind = messages_behind(self.consumer, polled)
            self.metrics.behind({(tp.topic, tp.partition): n for tp, n in behind.items()})

    def close(self) -> None:
        self.consumer.close(autocommit=False)
