"""``ledger.metrics``: the submit observer's labels, the ingester's lag gauge and the verify
metrics read at scrape time."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from ledger.app import Outcome
from ledger.audit.verifications import Verification, VerificationSummary
from ledger.metrics import LedgerMetrics
from services.ingest import Ingester

TP = namedtuple("TP", "topic partition")
Rec = namedtuple("Rec", "offset")


def _value(m: LedgerMetrics, name: str, **labels: str) -> float | None:
    return m.registry.get_sample_value(name, labels)


def test_observe_submit_counts_by_outcome_type_and_agency() -> None:
    m = LedgerMetrics(known_agency={"samr/440300"}.__contains__)

    class Item:
        type = "credit.violation.recorded"
        source = "samr/440300"

    items: list[Any] = [Item(), Item()]
    outcomes = [
        Outcome(0, "a", "samr/440300", "rejected", "subject-code-check", "bad"),
        Outcome(1, "b", None, "rejected", "missing-field", "bad"),
    ]
    m.observe_submit(items, outcomes, 0.02)
    labels = {"outcome": "rejected", "type": "credit.violation.recorded", "agency": "samr/440300"}
    assert _value(m, "ledger_events_total", **labels) == 2
    assert _value(m, "ledger_rejections_total", code="missing-field") == 1
    assert _value(m, "ledger_submit_seconds_count") == 1
    assert _value(m, "ledger_submit_batch_events_sum") == 2


def test_labels_carry_no_client_chosen_string() -> None:
    """Unknown sources, types and codes fold into fixed values: a flood of distinct
    ones adds no series."""
    m = LedgerMetrics(known_agency={"samr/440300"}.__contains__)

    class Item:
        def __init__(self, i: int) -> None:
            self.type = f"credit.made.up.{i}"
            self.source = ["samr/440301", f"x{i}", f"subject/{i}", "samr/440300"][i % 4]

    items: list[Any] = [Item(i) for i in range(400)]
    outcomes = [Outcome(i, str(i), None, "rejected", f"code-{i}", "bad") for i in range(400)]
    m.observe_submit(items, outcomes, 0.01)
    series = {
        tuple(sorted(s.labels.items()))
        for family in m.registry.collect()
        if family.name in ("ledger_events", "ledger_rejections")
        for s in family.samples
        if s.name.endswith("_total")
    }
    assert {dict(s).get("agency") for s in series} == {"other", "subject", "samr/440300", None}
    assert {dict(s).get("type") for s in series} == {"invalid", None}
    assert {dict(s).get("code") for s in series} == {"other", None}
    assert _value(m, "ledger_rejections_total", code="other") == 400


def test_the_agency_registry_labels_the_demo_sources_and_the_system_source() -> None:
    import demo
    from commands.decide import SYSTEM_SOURCE
    from entrypoints.rule_files import load_rules

    m = LedgerMetrics(known_agency=load_rules().agencies.known_source)
    sources = {e.event["source"] for e in demo.generate(60, rules=load_rules())}
    assert {m.agency_label(s) for s in sources} == sources
    assert m.agency_label(SYSTEM_SOURCE) == SYSTEM_SOURCE
    assert m.agency_label("samr/999999") == "other"
    assert m.agency_label(None) == "other"


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


def test_known_agencies_are_bounded_by_the_registry() -> None:
    from commands.decide import SYSTEM_SOURCE
    from entrypoints.rule_files import load_rules

    registry = load_rules().agencies
    m = LedgerMetrics(known_agency=registry.known_source)
    assert m.agency_label("samr/440300") == "samr/440300"
    assert m.agency_label("samr/440399") == "other"  # a region the registry does not list
    assert m.agency_label("nosuchkind/440300") == "other"
    known = {f"{kind}/{region}" for kind in registry.kinds for region in registry.regions}
    assert {s for s in known if registry.known_source(s)} == known
    assert registry.known_source(SYSTEM_SOURCE)


def test_without_a_registry_only_the_system_source_is_an_agency() -> None:
    from commands.decide import SYSTEM_SOURCE

    m = LedgerMetrics()
    assert m.agency_label(SYSTEM_SOURCE) == SYSTEM_SOURCE
    assert m.agency_label("samr/440300") == "other"
