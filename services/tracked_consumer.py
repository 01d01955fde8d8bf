"""A Kafka consumer-group member whose position is tracking records, not Kafka offsets: the
loop shape ``ledger ingest`` (:class:`services.ingest.Ingester`) and ``ledger national``
(:class:`federation.national.consumer.NationalConsumer`) share.

Contract: the position consumed in each partition is an eventsourcing ``Tracking`` record
(application :func:`partition_tracking_name`, ``notification_id`` = the next offset to
read) that the member writes in the same transaction as what it applies. On assignment each
partition is sought to its tracked position (a failure to seek is raised by the loop, which
must not read from a position the store did not choose); records below it are dropped
before a batch is applied (:meth:`TrackedConsumer.fresh`); offsets are committed to Kafka
after the transaction, as a hint only (:meth:`TrackedConsumer.commit_offsets`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from ledger import heartbeat

__all__ = ["Polled", "TrackedConsumer", "messages_behind", "partition_tracking_name"]

Polled = Mapping[Any, Sequence[Any]]
"""One poll's records: ``{TopicPartition: [ConsumerRecord, …]}``."""


def partition_tracking_name(group: str, topic: str, partition: int) -> str:
    """The eventsourcing tracking application name of one consumed partition."""
    return f"kafka:{group}:{topic}:{partition}"


def _partitions(tps: Any) -> str:
    return ",".join(str(p) for p in sorted(tp.partition for tp in tps)) or "none"


class _SeekToTracked(ConsumerRebalanceListener):
    """Seeks each newly assigned partition to its tracked position (when one exists).

    Runs on the consumer's IO loop: one small indexed query per partition. A failure is
    kept and re-raised by :meth:`TrackedConsumer.batches`.
    """

    def __init__(self, member: TrackedConsumer) -> None:
        self.member = member
        self.error: BaseException | None = None

    def on_partitions_revoked(self, revoked: Any) -> None:
        if revoked:
            self.member.log.info("partitions revoked: %s", _partitions(revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        member = self.member
        try:
            sought = {}
            for tp in assigned:
                position = member.tracked(tp)
                if position is not None:
                    member.consumer.seek(tp, position)
                    sought[f"{tp.topic}:{tp.partition}"] = position
            member.log.info(
                "partitions assigned: %s; resuming from tracked offsets %s (others: "
                "committed offset, else %s)",
                _partitions(assigned),
                sought or "none",
                "earliest" if member.from_beginning else "latest",
            )
        except BaseException as e:
            member.log.exception("could not seek assigned partitions to their tracked positions")
            self.error = e


class TrackedConsumer:
    """The loop of a member of ``group`` over ``topics`` (module docstring).

    ``max_tracking_id(name)`` reads the store's tracking (the next offset to read, or
    None); ``from_beginning`` says where a partition with neither a tracked nor a committed
    offset starts (for the log). Not thread-safe: one thread iterates :meth:`batches`
    (another may set its stop event).
    """

    def __init__(
        self,
        consumer: Any,
        topics: Sequence[str],
        group: str,
        max_tracking_id: Callable[[str], int | None],
        *,
        log: logging.Logger,
        from_beginning: bool = True,
    ) -> None:
        self.consumer = consumer
        self.group = group
        self.log = log
        self.from_beginning = from_beginning
        self._max_tracking_id = max_tracking_id
        self._listener = _SeekToTracked(self)
        self.consumer.subscribe(list(topics), listener=self._listener)

    def tracking_name(self, tp: Any) -> str:
        """The tracking application name of the partition ``tp``."""
        return partition_tracking_name(self.group, tp.topic, tp.partition)

    def tracked(self, tp: Any) -> int | None:
        """The next offset of ``tp`` not yet applied, or None if never tracked."""
        return self._max_tracking_id(self.tracking_name(tp))

    def batches(
        self, stop: threading.Event, until: Callable[[], bool], timeout_ms: int
    ) -> Iterator[Polled]:
        """Each non-empty poll, until ``stop`` is set or ``until()`` is true (both checked
        before every poll, so a stop is honoured between batches). Beats the heartbeat at
        every poll; raises a failure to seek the assigned partitions."""
        while not stop.is_set() and not until():
            polled = self.consumer.poll(timeout_ms=timeout_ms)
            heartbeat.beat()
            if self._listener.error is not None:
                raise self._listener.error
            if polled:
                yield polled

    def fresh(self, tp: Any, records: Sequence[Any]) -> list[Any]:
        """The records of ``tp`` at or above its tracked offset (those below were applied
        before a crash between the store's commit and Kafka's)."""
        floor = self.tracked(tp)
        return [r for r in records if floor is None or r.offset >= floor]

    def commit_offsets(self, polled: Polled) -> None:
        """Tell Kafka how far the batch went (a hint; the store's tracking decides): a
        failure (e.g. a rebalance in progress) is logged, not raised."""
        offsets = {
            tp: OffsetAndMetadata(records[-1].offset + 1, "", -1)
            for tp, records in polled.items()
            if records
        }
        try:
            self.consumer.commit(offsets)
        except KafkaError as e:  # the tracking is committed
            self.log.warning("Kafka offset commit failed (the store's tracking holds): %s", e)


def messages_behind(consumer: Any, polled: Polled) -> dict[Any, int]:
    """Partition → messages after a polled batch not yet taken: the consumer's high
    watermark minus the offset after the batch's last record (partitions whose high
    watermark the consumer does not know, e.g. a fake consumer's, are left out)."""
    behind = {}
    for tp, records in polled.items():
        try:
            high = consumer.highwater(tp)
        except Exception:  # a fake or older consumer: no lag figure
            high = None
        if records and isinstance(high, int):
            behind[tp] = high - (records[-1].offset + 1)
    return behind
