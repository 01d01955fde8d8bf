"""``ledger.metrics``: the submit observer's labels, the ingester's lag gauge and the verify
metrics read at scrape time."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from ledger.app import Outcome
from ledger.audit.verifications import Verification, VerificationSummary
from ledger.ingest import Ingester
from ledger.metrics import LedgerMetrics

TP = namedtuple("TP", "topic partition")
Rec = namedtuple("Rec", "offset")


def _value(m: LedgerMetrics, name: str, **labels: str) -> float | None:
    return m.registry.get_sample_value(name, labels)


def test_observe_submit_counts_by_outcome_type_and_agency() -> None:
    m = LedgerMetrics()

    class Item:
        type = "credit.violation.recorded"
        source = "samr/440300"

    items: list[Any] = [Item(), Item()]
    outcomes = [
        Outcome(0, "a", "samr/440300", "rejected", "invalid-subject", "bad"),
        Outcome(1, "b", None, "rejected", "schema", "bad"),
    ]
    m.observe_submit(items, outcomes, 0.02)
    labels = {"outcome": "rejected", "type": "credit.violation.recorded", "agency": "samr/440300"}
    assert _value(m, "ledger_events_total", **labels) == 2
    assert _value(m, "ledger_rejections_total", code="schema") == 1
    assert _value(m, "ledger_submit_seconds_count") == 1
    assert _value(m, "ledger_submit_batch_events_sum") == 2


def test_ingest_lag_from_the_high_watermark() -> None:
    m = LedgerMetrics()
    ingester = Ingester.__new__(Ingester)
    ingester.metrics = m

    class Consumer:
        def highwater(self, tp: Any) -> int:
            return 10

    ingester.consumer = Consumer()
    ingester._observe_lag({TP("t", 0): [Rec(3), Rec(6)], TP("t", 1): []})
    assert _value(m, "ledger_ingest_lag_messages", partition="0") == 3
    assert _value(m, "ledger_ingest_lag_messages", partition="1") is None


def test_verify_metrics_are_read_from_the_summary_at_each_scrape() -> None:
    a, b = LedgerMetrics(), LedgerMetrics()
    summaries = [
        VerificationSummary({"ok": 0, "failed": 0}, {}, None),
        VerificationSummary(
            {"ok": 2, "failed": 1},
            {"ok": 1_700_000_000_000_000, "failed": 1_700_000_060_500_000},
            Verification(1_700_000_060_500_000, "failed", 1234, 1000, 17, "hash"),
        ),
    ]
    a.track_verifications(lambda: summaries[0])
    assert _value(a, "ledger_verify_total", outcome="ok") == 0
    assert _value(a, "ledger_verify_total", outcome="failed") == 0
    assert _value(a, "ledger_verify_last_run_timestamp_seconds", outcome="ok") is None
    assert _value(a, "ledger_verify_last_records") is None
    summaries.pop(0)
    assert _value(a, "ledger_verify_total", outcome="ok") == 2
    assert _value(a, "ledger_verify_total", outcome="failed") == 1
    assert _value(a, "ledger_verify_last_run_timestamp_seconds", outcome="ok") == 1_700_000_000
    assert (
        _value(a, "ledger_verify_last_run_timestamp_seconds", outcome="failed") == 1_700_000_060.5
    )
    assert _value(a, "ledger_verify_last_records") == 1234
    assert b"# TYPE ledger_verify_total counter" in a.exposition()
    a.track_verifications(lambda: summaries[0])  # replaces the source, no duplicate names
    assert _value(a, "ledger_verify_total", outcome="ok") == 2
    assert _value(b, "ledger_verify_total", outcome="ok") is None  # registries are separate
