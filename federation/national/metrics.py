"""The national view's Prometheus metrics, served by ``ledger national`` at ``GET /metrics``
(:func:`federation.national.app.build_national_app`; scraped as job ``ledger-national``).

* ``ledger_national_messages_total{origin,kind}``: messages of the regions' topics taken
  into the national store (``kind``: ``change`` of a disclosure, ``checkpoint``); a change
  delivered again counts again (the store applies it once).
* ``ledger_national_refused_total{topic}``: messages refused (module
  :mod:`federation.national.consumer`: wrong origin for the topic, bad signature, not a
  disclosure change); by topic, since a refused message's origin is not to be trusted.
* ``ledger_national_lag_messages{origin}``: Kafka messages of the origin's topics not yet
  applied (each partition's high watermark minus the next offset to apply, summed; a topic
  several regions share counts for each of them), after each batch.
* ``ledger_national_lag_seconds{origin}``: of the newest change applied from the origin,
  how long after the region recorded it the national store had it (what
  ``ledger bench --federation`` measures as the national view's lag).
* ``ledger_national_applied_timestamp_seconds{origin}``: Unix time the national store last
  applied a message (change or checkpoint) of the origin; the service's start until the
  first. With ``lag_messages`` above 0 its age says the consumer has stalled, where
  ``lag_seconds`` (set only when a change is applied) would stand still (alert
  ``LedgerNationalViewLagging``, docker/prometheus/alerts.yml).

Label values are the configured regions' origins and topics: bounded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.exposition import generate_latest

from federation.national.config import NationalConfig
from federation.national.store import ItemChange
from ledger.audit.checkpoints import Checkpoint

__all__ = ["NationalMetrics"]


class NationalMetrics:
    """The national view's metrics (module docstring), in their own registry."""

    def __init__(self, config: NationalConfig, clock: Callable[[], float] = time.time) -> None:
        """``clock`` gives the Unix time in seconds (the lag and the applied time)."""
        self.config = config
        self.clock = clock
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "ledger_national_messages_total",
            "Messages taken into the national store, by origin and kind (change, checkpoint)",
            ["origin", "kind"],
            registry=self.registry,
        )
        self.refused = Counter(
            "ledger_national_refused_total",
            "Messages of the regions' topics refused by the national view, by topic",
            ["topic"],
            registry=self.registry,
        )
        self.lag_messages = Gauge(
            "ledger_national_lag_messages",
            "Kafka messages of the origin's topics not yet applied to the national store",
            ["origin"],
            registry=self.registry,
        )
        self.lag_seconds = Gauge(
            "ledger_national_lag_seconds",
            "Seconds from the region recording the newest change applied to it being "
            "in the national store, by origin",
            ["origin"],
            registry=self.registry,
        )
        self.applied_at = Gauge(
            "ledger_national_applied_timestamp_seconds",
            "Unix time the national store last applied a message of the origin "
            "(the service's start until the first)",
            ["origin"],
            registry=self.registry,
        )
        self._behind: dict[tuple[str, int], int] = {}
        started = clock()
        for region in config.regions:  # every origin present from the first scrape
            self.lag_messages.labels(region.origin).set(0)
            self.applied_at.labels(region.origin).set(started)
            for kind in ("change", "checkpoint"):
                self.messages.labels(region.origin, kind)

    def taken(self, changes: Iterable[ItemChange], checkpoints: Iterable[Checkpoint]) -> None:
        """Count one applied batch's messages, set each origin's lag in seconds from
        its newest change and the time its messages were last applied (call right after
        the store's transaction)."""
        now = self.clock()
        newest: dict[str, int] = {}
        applied: set[str] = set()
        for change in changes:
            self.messages.labels(change.origin, "change").inc()
            newest[change.origin] = max(newest.get(change.origin, 0), change.recorded_us)
        for checkpoint in checkpoints:
            self.messages.labels(checkpoint.origin, "checkpoint").inc()
            applied.add(checkpoint.origin)
        for origin, recorded_us in newest.items():
            self.lag_seconds.labels(origin).set(max(now * 1_000_000 - recorded_us, 0) / 1_000_000)
        for origin in applied | set(newest):
            self.applied_at.labels(origin).set(now)

    def refuse(self, topic: str) -> None:
        self.refused.labels(topic).inc()

    def behind(self, partitions: Mapping[tuple[str, int], int]) -> None:
        """Record, per (topic, partition), the messages not yet applied, and set each
        origin's total over its topics."""
        self._behind.update({k: max(v, 0) for k, v in partitions.items()})
        for region in self.config.regions:
            topics = (region.feed_topic, region.checkpoint_topic)
            total = sum(n for (topic, _), n in self._behind.items() if topic in topics)
            self.lag_messages.labels(region.origin).set(total)

    def exposition(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return generate_latest(self.registry)
