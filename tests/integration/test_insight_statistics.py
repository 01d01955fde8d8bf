"""Statistics of the demo (100 subjects, SQLite) equal counts computed here,
independently, from the demo's events; the CSV download; who sees what; the
chart page ships its chart library."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from commands.workflows.objections import objection_region
from events.instants import CST, from_us
from projections.scan import subject_streams
from tests.e2e.apphelpers import DemoApp, build_demo_app

SUBJECTS = 100


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp: Path = tmp_path_factory.mktemp("insight-statistics")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}", subjects=SUBJECTS)
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def client(demo_app: DemoApp) -> TestClient:
    return TestClient(demo_app.app, raise_server_exceptions=False)


def stats(client: TestClient, demo_app: DemoApp, role: str = "auditor", **query: str) -> Any:
    response = client.get("/v1/statistics", params=query, headers=demo_app.headers(role))
    assert response.status_code == 200, response.text
    return response.json()


_RECORDED: dict[int, list[dict[str, Any]]] = {}


def events(demo_app: DemoApp) -> list[dict[str, Any]]:
    """Every record the ledger holds (the demo's events and what the ledger derived
    from them), read through the store's stream reads (not the statistics' SQL),
    ``time`` as an instant in China Standard Time."""
    found = _RECORDED.get(id(demo_app))
    if found is None:
        store = demo_app.ledger.recorder.store.views()
        upto = demo_app.ledger.recorder.max_notification_id() or 0
        found = _RECORDED[id(demo_app)] = [
            {
                "id": r.id,
                "type": r.type,
                "subject": r.subject,
                "source": r.source,
                "time": from_us(r.time_us).astimezone(CST).isoformat(),
                "recorded_us": r.recorded_us,
                "data": r.data,
            }
            for records in subject_streams(store, upto)
            for r in records
        ]
    return found


def record_counts(evs: list[dict[str, Any]]) -> Counter[tuple[str, str, str | None]]:
    out: Counter[tuple[str, str, str | None]] = Counter()
    for e in evs:
        _, kind, action = e["type"].split(".")
        out[(kind, action, e["data"].get("severity"))] += 1
    return out


def test_records_by_kind_and_severity_equal_the_demo(client: TestClient, demo_app: DemoApp) -> None:
    body = stats(client, demo_app)
    shown = {(r["kind"], r["action"], r["severity"]): r["count"] for r in body["records"]}
    assert shown == dict(record_counts(events(demo_app)))
    assert body["position"] == len(events(demo_app)) >= len(demo_app.events)


def test_filters_by_region_sector_and_period(client: TestClient, demo_app: DemoApp) -> None:
    body = stats(
        client,
        demo_app,
        region="440000",
        sector="samr",
        **{"from": "2025-01-01", "to": "2025-12-31"},
    )
    chosen = [
        e
        for e in events(demo_app)
        if e["subject"][2:4] == "44"
        and e["source"].startswith("samr/")
        and "2025-01-01" <= e["time"][:10] <= "2025-12-31"
    ]
    assert chosen
    shown = {(r["kind"], r["action"], r["severity"]): r["count"] for r in body["records"]}
    assert shown == dict(record_counts(chosen))
    findings = Counter(
        e["subject"][2:8]
        for e in chosen
        if e["type"] in ("credit.penalty.decided", "credit.violation.recorded")
    )
    assert {r["region"]: r["count"] for r in body["by_region"]} == dict(findings)


def test_list_entries_exits_and_repairs_equal_the_demo(
    client: TestClient, demo_app: DemoApp
) -> None:
    body = stats(client, demo_app)
    by_id = {e["id"]: e for e in events(demo_app)}
    entries = Counter(
        by_id[e["data"]["proposal"]]["data"]["list"]
        for e in events(demo_app)
        if e["type"] == "credit.list.designated"
    )
    exits = Counter(
        (
            by_id[by_id[e["data"]["designation"]]["data"]["proposal"]]["data"]["list"],
            e["data"]["reason"],
        )
        for e in events(demo_app)
        if e["type"] == "credit.list.removed"
    )
    repairs = Counter(
        e["type"].split(".")[2] for e in events(demo_app) if e["type"].startswith("credit.repair.")
    )
    assert {r["list"]: r["count"] for r in body["lists"]["entries"]} == dict(entries)
    assert {(r["list"], r["reason"]): r["count"] for r in body["lists"]["exits"]} == dict(exits)
    assert {r["action"]: r["count"] for r in body["repairs"]} == dict(repairs)
    assert entries and repairs


def test_objections_outcome_and_decision_time_against_the_deadline(
    client: TestClient, demo_app: DemoApp
) -> None:
    body = stats(client, demo_app)["objections"]
    rules = demo_app.ledger.rules
    assert rules is not None
    filed = {e["id"]: e for e in events(demo_app) if e["type"] == "credit.objection.filed"}
    resolved = [e for e in events(demo_app) if e["type"] == "credit.objection.resolved"]
    outcomes = Counter(e["data"]["outcome"] for e in resolved)
    times = []
    on_time = 0
    for e in resolved:
        f = filed[e["data"]["objection"]]
        days = rules.calendar.working_days_between(
            date.fromisoformat(f["time"][:10]), date.fromisoformat(e["time"][:10])
        )
        allowed = rules.procedures.objection_profile(objection_region(f["subject"], rules))
        times.append(days)
        on_time += days <= allowed.decide_working_days
    assert body["filed"] == len(filed) > 0
    assert body["pending"] == len(filed) - len(resolved)
    assert {r["outcome"]: r["count"] for r in body["resolved"]} == dict(outcomes)
    assert body["decided_on_time"] == on_time
    assert body["decided_late"] == len(resolved) - on_time
    assert body["mean_working_days"] == round(sum(times) / len(times), 2)


def test_grades_equal_the_demo(client: TestClient, demo_app: DemoApp) -> None:
    body = stats(client, demo_app)
    evaluations = Counter(
        e["data"]["grade"] for e in events(demo_app) if e["type"] == "credit.evaluation.published"
    )
    assert {g["grade"]: g["count"] for g in body["grades"]["evaluations"]} == dict(evaluations)
    assert sum(g["count"] for g in body["grades"]["standing"]) == SUBJECTS


def test_late_publications_equal_the_7_working_day_rule(
    client: TestClient, demo_app: DemoApp
) -> None:
    """Findings the rule set publishes (corrections applied, revoked ones never),
    late when recorded after the 7th working day after the decision."""
    rules = demo_app.ledger.rules
    assert rules is not None
    revoked = {
        e["data"]["target"] for e in events(demo_app) if e["type"] == "credit.record.revoked"
    }
    changes: dict[str, dict[str, Any]] = {}
    for e in events(demo_app):
        if e["type"] == "credit.record.corrected":
            changes.setdefault(e["data"]["target"], {}).update(e["data"]["changes"])
    expected: Counter[tuple[str, str]] = Counter()
    for e in events(demo_app):
        family = {"credit.penalty.decided": "penalty", "credit.violation.recorded": "violation"}
        if e["type"] not in family or e["id"] in revoked:
            continue
        data = {**e["data"], **changes.get(e["id"], {})}
        day = date.fromisoformat(e["time"][:10])
        period = rules.rulebook.in_force(day).period(
            family[e["type"]], data["severity"], data["sector"]
        )
        if not period.publish:
            continue
        late = from_us(e["recorded_us"]).astimezone(CST).date() > rules.calendar.add_working_days(
            day, 7
        )
        expected[(family[e["type"]], "late" if late else "on_time")] += 1
    body = stats(client, demo_app)["publications"]["by_kind"]
    shown = Counter(
        {
            (p["kind"], key): p[key]
            for p in body
            if p["kind"] in ("penalty", "violation")
            for key in ("on_time", "late")
            if p[key]
        }
    )
    assert shown == expected
    assert expected[("penalty", "late")] > 0


def test_the_csv_download_carries_the_same_counts(client: TestClient, demo_app: DemoApp) -> None:
    response = client.get("/v1/statistics?format=csv", headers=demo_app.headers("auditor"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    penalties = {
        r["key3"]: int(r["count"])
        for r in rows
        if r["section"] == "records" and r["key"] == "penalty" and r["key2"] == "decided"
    }
    expected = Counter(
        e["data"]["severity"] for e in events(demo_app) if e["type"] == "credit.penalty.decided"
    )
    assert penalties == dict(expected)


def test_an_agency_sees_its_own_region_only(client: TestClient, demo_app: DemoApp) -> None:
    assert client.get("/v1/statistics").status_code == 401
    assert (
        client.get("/v1/statistics", headers=demo_app.headers("objection-handler")).status_code
        == 403
    )
    mine = stats(client, demo_app, role="agency")
    assert mine["filters"]["region"] == "440300"
    assert {r["region"] for r in mine["by_region"]} <= {"440300"}
    other = client.get("/v1/statistics?region=110000", headers=demo_app.headers("agency"))
    assert other.status_code == 403
    bad = client.get("/v1/statistics?from=2025-13-01", headers=demo_app.headers("auditor"))
    assert bad.status_code == 400


def test_the_chart_page_ships_its_chart_library(client: TestClient, demo_app: DemoApp) -> None:
    page = client.get("/insight/statistics", headers=demo_app.headers("auditor"))
    assert page.status_code == 200
    assert '<script src="/static/vendor/echarts/echarts.min.js">' in page.text
    assert "http://" not in page.text.split("<footer")[0].replace("http://127.0.0.1", "")
    assert "/v1/statistics?format=csv" in page.text.replace("&amp;", "&")
    library = client.get("/static/vendor/echarts/echarts.min.js")
    assert library.status_code == 200 and len(library.content) > 500_000


def test_statistics_and_warnings_on_both_stores(store_url: str, tmp_path: Path) -> None:
    """The same SQL runs over SQLite and PostgreSQL (the conformance habit)."""
    from projections.statistics import statistics

    built = build_demo_app(tmp_path, store_url, subjects=20)
    try:
        rules = built.ledger.rules
        assert rules is not None
        body = statistics(built.ledger.recorder.store.views(), rules)
        shown = {(r["kind"], r["action"], r["severity"]): r["count"] for r in body["records"]}
        assert shown == dict(record_counts(events(built)))
        client = TestClient(built.app)
        found = client.get("/v1/warnings", headers=built.headers("auditor"))
        assert found.status_code == 200
        ids = {e["id"] for e in events(built)}
        assert all(e in ids for w in found.json()["warnings"] for e in w["evidence"])
    finally:
        built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]
