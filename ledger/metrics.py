"""Prometheus metrics of the ledger (``GET /metrics`` on ``ledger serve``).

One :class:`LedgerMetrics` per process holds its metric objects in its own
``CollectorRegistry`` (no module-level global); the composition root creates it
and wires it: ``Ledger(observer=metrics.observe_submit)`` (or
``ledger.observer = …``), ``metrics.track_projection_lag(fn)`` for the gauge
computed at scrape time, ``metrics.set_ingest_lag(partition, n)`` from the
ingester, ``metrics.track_verifications(fn)`` for the verify metrics read from the
store at scrape time (``ledger serve``).

Metrics:

* ``ledger_events_total{outcome,type,agency}``: submitted events by outcome
  (recorded, repeat, rejected), CloudEvents ``type`` and ``source`` (the agency);
  items that could not be parsed, or whose type is not in the vocabulary, have type
  ``invalid``.
* ``ledger_rejections_total{code}``: rejections by reason code.
* ``ledger_submit_seconds``: histogram of the duration of one ``Ledger.submit``
  call (one append transaction, whatever the batch size).
* ``ledger_submit_batch_events``: histogram of events per submit call.
* ``ledger_projection_lag_records``: ledger size minus the position of the
  slowest materialised view, read at scrape time.
* ``ledger_projection_failed_subjects``: subjects whose fold raised, so their views
  are marked failed and skipped (``view_failed_subjects``) until ``ledger rebuild
  --subject CODE``, read at scrape time. Alert on it being above 0.
* ``ledger_ingest_lag_messages{partition}``: Kafka high watermark minus the next
  offset the ingester will consume, set after each batch.
* ``ledger_verify_total{outcome}``: ``ledger verify`` runs recorded in the store
  (``ledger_verifications``), by outcome (ok, failed; both always present).
* ``ledger_verify_last_run_timestamp_seconds{outcome}``: when the latest run of each
  outcome finished (Unix seconds; absent for an outcome that never happened).
* ``ledger_verify_last_records``: records checked by the latest run (absent before the
  first run).

Label values never carry a string a client chose: ``type`` is a vocabulary type or
``invalid``, ``code`` a :class:`~events.reasons.Reason` value or ``other``, and
``agency`` what :meth:`LedgerMetrics.agency_label` makes of the source (a known
agency, the system source, ``subject`` or ``other``). So the number of series, and the
size of ``/metrics``, is bounded by the configuration, whatever is submitted.

The verify metrics describe runs of other processes (``ledger verify`` is a one-shot
command or ``verify --every``): :class:`VerificationCollector` reads them from the store
at each scrape, so every ``serve`` replica reports the same figures. Alert on
``increase(ledger_verify_total{outcome="failed"}[…]) > 0`` and on
``time() - ledger_verify_last_run_timestamp_seconds{outcome="ok"}`` growing past the
schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from commands.agencies import SYSTEM_SOURCE
from events.reasons import Reason
from events.vocabulary import EVENT_TYPES

if TYPE_CHECKING:
    from ledger.audit.verifications import VerificationSummary

__all__ = ["CONTENT_TYPE_LATEST", "LedgerMetrics", "VerificationCollector"]

OTHER = "other"
"""The label value of anything outside a fixed or configured set."""
SUBJECT = "subject"
"""The agency label of a subject filing for itself (``source`` ``subject/USCC``)."""
SUBMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 10, 100, 500, 1000, 2000, 5000, 10_000)
_REASONS = frozenset(str(r) for r in Reason)


def type_label(value: object) -> str:
    """The ``type`` label: a vocabulary type, else ``invalid``."""
    return value if isinstance(value, str) and value in EVENT_TYPES else "invalid"


def code_label(value: object) -> str:
    """The ``code`` label: a reason code of the fixed enumeration, else ``other``."""
    return value if isinstance(value, str) and value in _REASONS else OTHER


class LedgerMetrics:
    """The metric objects of one process, in ``registry`` (a fresh one by default)."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        known_agency: Callable[[str], bool] | None = None,
    ) -> None:
        """``known_agency(source)`` says whether a source is an agency the
        configuration knows: the composition root passes the configured agency
        registry's :meth:`~commands.agencies.Agencies.known_source`. Without it only
        the system source is known (every agency is labelled ``other``)."""
        self.registry = registry if registry is not None else CollectorRegistry()
        self.known_agency = known_agency or SYSTEM_SOURCE.__eq__
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
        self.failed_subjects = Gauge(
            "ledger_projection_failed_subjects",
            "Subjects whose views failed to fold and are skipped until rebuilt",
            registry=r,
        )
        self.ingest_lag = Gauge(
            "ledger_ingest_lag_messages",
            "Kafka messages not yet ingested, by partition",
            ["partition"],
            registry=r,
        )
        self.verifications: VerificationCollector | None = None

    # -- hooks ---------------------------------------------------------------------------
    def observe_submit(self, items: Sequence[Any], outcomes: Sequence[Any], seconds: float) -> None:
        """The ``Ledger`` observer: count each outcome by its item's type and source."""
        self.submit_seconds.observe(seconds)
        self.batch_events.observe(len(items))
        for outcome in outcomes:
            item = items[outcome.index] if 0 <= outcome.index < len(items) else None
            record = outcome.record
            kind = type_label(record.type if record is not None else getattr(item, "type", None))
            agency = self.agency_label(outcome.source or getattr(item, "source", None))
            self.events.labels(outcome.status, kind, agency).inc()
            if outcome.status == "rejected":
                self.rejections.labels(code_label(outcome.code)).inc()

    def agency_label(self, source: object) -> str:
        """The ``agency`` label of a ``source``: the source itself when it is a known
        agency (or the system source), ``subject`` for ``subject/…``, else ``other``."""
        if not isinstance(source, str):
            return OTHER
        if self.known_agency(source):
            return source
        return SUBJECT if source.startswith(SUBJECT + "/") else OTHER

    def track_projection_lag(self, lag: Callable[[], float]) -> None:
        """Compute the projection lag gauge with ``lag()`` at each scrape."""
        self.projection_lag.set_function(lag)

    def track_failed_subjects(self, count: Callable[[], float]) -> None:
        """Compute the failed-subjects gauge with ``count()`` at each scrape."""
        self.failed_subjects.set_function(count)

    def set_ingest_lag(self, partition: int, messages: int) -> None:
        self.ingest_lag.labels(str(partition)).set(max(messages, 0))

    def track_verifications(self, summary: Callable[[], VerificationSummary]) -> None:
        """Serve the verify metrics from ``summary()`` (the store's record of ``ledger
        verify`` runs), called at each scrape; replaces an earlier source."""
        if self.verifications is not None:
            self.registry.unregister(self.verifications)
        self.verifications = VerificationCollector(summary)
        self.registry.register(self.verifications)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)


class VerificationCollector(Collector):
    """The verify metrics (module docstring) of ``summary()``, read at each scrape. A
    failing ``summary()`` fails the scrape: the figures are never made up."""

    def __init__(self, summary: Callable[[], VerificationSummary]) -> None:
        self._summary = summary

    def describe(self) -> Iterable[Metric]:
        """The families without samples: the registry checks names without a query."""
        return self._families()

    def collect(self) -> Iterable[Metric]:
        summary = self._summary()
        total, last_run, last_records = self._families()
        for outcome, runs in summary.runs.items():
            total.add_metric([outcome], runs)
        for outcome, finished_us in summary.last_run_us.items():
            last_run.add_metric([outcome], finished_us / 1_000_000)
        if summary.last is not None:
            last_records.add_metric([], summary.last.records)
        return [total, last_run, last_records]

    @staticmethod
    def _families() -> tuple[CounterMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        return (
            CounterMetricFamily(
                "ledger_verify",
                "Verify runs recorded in the store, by outcome",
                labels=["outcome"],
            ),
            GaugeMetricFamily(
                "ledger_verify_last_run_timestamp_seconds",
                "When the latest verify run of each outcome finished (Unix time)",
                labels=["outcome"],
            ),
            GaugeMetricFamily(
                "ledger_verify_last_records", "Records checked by the latest verify run"
            ),
        )
