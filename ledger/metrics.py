"""Prometheus metrics of the ledger (``GET /metrics`` on ``ledger serve``).

One :class:`LedgerMetrics` per process holds its metric objects in its own
``CollectorRegistry`` (no module-level global); the composition root creates it
and wires it: ``Ledger(observer=metrics.observe_submit)`` (or
``ledger.observer = …``), ``metrics.track_projection_lag(fn)`` for the gauge
computed at scrape time, ``metrics.set_ingest_lag(partition, n)`` from the
ingester, ``metrics.observe_verify(ok)`` after a verify run.

Metrics:

* ``ledger_events_total{outcome,type,agency}``: submitted events by outcome
  (recorded, repeat, rejected), CloudEvents ``type`` and ``source`` (the agency);
  items that could not be parsed have type ``invalid``.
* ``ledger_rejections_total{code}``: rejections by reason code.
* ``ledger_submit_seconds``: histogram of the duration of one ``Ledger.submit``
  call (one append transaction, whatever the batch size).
* ``ledger_submit_batch_events``: histogram of events per submit call.
* ``ledger_projection_lag_records``: ledger size minus the position of the
  slowest materialised view, read at scrape time.
* ``ledger_ingest_lag_messages{partition}``: Kafka high watermark minus the next
  offset the ingester will consume, set after each batch.
* ``ledger_verify_total{outcome}``: verify runs (ok, failed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

__all__ = ["CONTENT_TYPE_LATEST", "LedgerMetrics"]

_LABEL_MAX = 64
SUBMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 10, 100, 500, 1000, 2000, 5000, 10_000)


def _label(value: Any, default: str) -> str:
    if not isinstance(value, str) or not value:
        return default
    return value[:_LABEL_MAX]


class LedgerMetrics:
    """The metric objects of one process, in ``registry`` (a fresh one by default)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.events = Counter(
            "ledger_events",
            "Submitted events by outcome, type and agency (CloudEvents source)",
            ["outcome", "type", "agency"],
            registry=r,
        )
        self.rejections = Counter(
            "ledger_rejections", "Rejected events by reason code", ["code"], registry=r
        )
        self.submit_seconds = Histogram(
            "ledger_submit_seconds",
            "Duration of one submit call (one append transaction)",
            buckets=SUBMIT_BUCKETS,
            registry=r,
        )
        self.batch_events = Histogram(
            "ledger_submit_batch_events",
            "Events per submit call",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.projection_lag = Gauge(
            "ledger_projection_lag_records",
            "Records the slowest materialised view trails the ledger by",
            registry=r,
        )
        self.ingest_lag = Gauge(
            "ledger_ingest_lag_messages",
            "Kafka messages not yet ingested, by partition",
            ["partition"],
            registry=r,
        )
        self.verify_runs = Counter(
            "ledger_verify", "Verify runs by outcome", ["outcome"], registry=r
        )

    # -- hooks ---------------------------------------------------------------------------
    def observe_submit(self, items: Sequence[Any], outcomes: Sequence[Any], seconds: float) -> None:
        """The ``Ledger`` observer: count each outcome by its item's type and source."""
        self.submit_seconds.observe(seconds)
        self.batch_events.observe(len(items))
        for outcome in outcomes:
            item = items[outcome.index] if 0 <= outcome.index < len(items) else None
            record = outcome.record
            if record is not None:
                kind = record.type
            else:
                kind = _label(getattr(item, "type", None), "invalid")
            agency = _label(outcome.source or getattr(item, "source", None), "unknown")
            self.events.labels(outcome.status, kind, agency).inc()
            if outcome.status == "rejected":
                self.rejections.labels(_label(outcome.code, "unknown")).inc()

    def track_projection_lag(self, lag: Callable[[], float]) -> None:
        """Compute the projection lag gauge with ``lag()`` at each scrape."""
        self.projection_lag.set_function(lag)

    def set_ingest_lag(self, partition: int, messages: int) -> None:
        self.ingest_lag.labels(str(partition)).set(max(messages, 0))

    def observe_verify(self, ok: bool) -> None:
        self.verify_runs.labels("ok" if ok else "failed").inc()

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)
