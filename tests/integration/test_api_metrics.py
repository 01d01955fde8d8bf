"""``GET /metrics``: unauthenticated Prometheus text with the submit counters by
outcome, type and agency, the submit latency histogram and the projection lag
gauge; not in the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.apphelpers import AGENCY, DemoApp, build_demo_app
from tests.integration.test_api_roles import event, person_subject


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp: Path = tmp_path_factory.mktemp("api-metrics")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}", subjects=10)
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_after_submissions(demo_app: DemoApp) -> None:
    client = TestClient(demo_app.app)
    subject = person_subject(demo_app)
    headers = demo_app.headers("agency")
    batch = [event(subject, "metrics-1"), event(subject, "metrics-2")]
    assert [r["status"] for r in client.post("/v1/events", json=batch, headers=headers).json()] == [
        "recorded",
        "recorded",
    ]
    assert client.post("/v1/events", json=batch[0], headers=headers).json()["status"] == "repeat"
    bad = event(subject[:-1] + ("0" if subject[-1] != "0" else "1"), "metrics-3")
    response = client.post("/v1/events", json=[bad], headers=headers)
    assert [r["status"] for r in response.json()] == ["rejected"]

    scraped = client.get("/metrics")  # no token
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    samples = _samples(scraped.text)
    kind = "credit.registration.submitted"
    recorded = (("agency", AGENCY), ("outcome", "recorded"), ("type", kind))
    repeat = (("agency", AGENCY), ("outcome", "repeat"), ("type", kind))
    assert samples[("ledger_events_total", recorded)] == 2
    assert samples[("ledger_events_total", repeat)] == 1
    rejected = [
        v
        for (name, labels), v in samples.items()
        if name == "ledger_events_total" and ("outcome", "rejected") in labels
    ]
    assert sum(rejected) == 1
    assert sum(v for (n, _), v in samples.items() if n == "ledger_rejections_total") == 1
    assert samples[("ledger_submit_seconds_count", ())] == 3
    assert samples[("ledger_submit_seconds_sum", ())] > 0
    lag = samples[("ledger_projection_lag_records", ())]
    assert 0 <= lag <= demo_app.ledger.size()


def test_metrics_not_in_openapi(demo_app: DemoApp) -> None:
    schema = TestClient(demo_app.app).get("/openapi.json").json()
    assert "/metrics" not in schema["paths"]
