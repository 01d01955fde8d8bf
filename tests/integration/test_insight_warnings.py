"""Early warnings over a whole ledger (demo of 100 subjects, SQLite): who sees
which, the list as of a past date is what a ledger holding only what was recorded
by then shows, the page for regulators, and the command line."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

import demo
from entrypoints import rule_files
from entrypoints.bootstrap import bootstrap
from entrypoints.cli import demo_batches
from entrypoints.settings import Settings
from events.envelope import Envelope, Refused, parse_submission
from events.instants import parse_instant
from projections.warnings import ledger_warnings
from tests.e2e.apphelpers import AGENCY, DemoApp, build_demo_app

SUBJECTS = 100
PAST = "2025-06-30"


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp: Path = tmp_path_factory.mktemp("insight-warnings")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}", subjects=SUBJECTS)
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def client(demo_app: DemoApp) -> TestClient:
    return TestClient(demo_app.app, raise_server_exceptions=False)


def warnings(client: TestClient, role: str, demo_app: DemoApp, **query: str) -> dict:
    response = client.get("/v1/warnings", params=query, headers=demo_app.headers(role))
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


def test_only_agencies_and_auditors_see_warnings(client: TestClient, demo_app: DemoApp) -> None:
    assert client.get("/v1/warnings").status_code == 401
    forbidden = client.get("/v1/warnings", headers=demo_app.headers("objection-handler"))
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "role-not-allowed"


def test_an_agency_sees_the_warnings_of_its_own_sector_and_region(
    client: TestClient, demo_app: DemoApp
) -> None:
    everything = warnings(client, "auditor", demo_app, limit="1000")
    mine = warnings(client, "agency", demo_app, limit="1000")
    assert everything["total"] == len(everything["warnings"]) > mine["total"] > 0
    kind, region = AGENCY.split("/")
    for w in mine["warnings"]:
        assert kind in w["sectors"]
        assert region in w["regions"]
    hidden = [w for w in everything["warnings"] if w not in mine["warnings"]]
    assert all(kind not in w["sectors"] or region not in w["regions"] for w in hidden)
    assert any(region in w["regions"] for w in hidden)  # same region, other sector: not shown


def test_every_warning_names_its_rule_evidence_and_since(
    client: TestClient, demo_app: DemoApp
) -> None:
    body = warnings(client, "auditor", demo_app, limit="1000")
    ids = {d.event["id"]: d.event for d in demo_app.events}
    assert {w["rule"] for w in body["warnings"]} >= {
        "multi-agency-findings",
        "rectification-overdue",
        "sanction-elsewhere",
    }
    for w in body["warnings"]:
        assert w["rule_set"] == "warnings-national@2026.1"
        assert w["evidence"] and all(ids[e]["subject"] == w["subject"] for e in w["evidence"])
        assert parse_instant(w["since"]) <= parse_instant(body["as_of"])


def test_pages_of_warnings_add_up(client: TestClient, demo_app: DemoApp) -> None:
    whole = warnings(client, "auditor", demo_app, limit="1000")
    first = warnings(client, "auditor", demo_app, limit="10", as_of=whole["as_of"])
    second = warnings(
        client, "auditor", demo_app, limit="1000", cursor=first["next"], as_of=whole["as_of"]
    )
    assert first["warnings"] + second["warnings"] == whole["warnings"]
    assert second["next"] is None
    bad = client.get("/v1/warnings?cursor=zz", headers=demo_app.headers("auditor"))
    assert bad.status_code == 400
    unknown = client.get("/v1/warnings?rule=nope", headers=demo_app.headers("auditor"))
    assert unknown.status_code == 400 and "multi-agency-findings" in unknown.json()["detail"]


def test_warnings_as_of_a_past_date_are_what_the_ledger_showed_then(
    client: TestClient, demo_app: DemoApp, tmp_path: Path
) -> None:
    past = parse_instant(PAST)
    then = warnings(client, "auditor", demo_app, limit="1000", as_of=PAST, known_at=PAST)
    # an independent ledger that only ever received what was recorded by then
    generated = [d for d in demo.generate(subjects=SUBJECTS, rules=rule_files.load_rules()) if d.recorded_us <= past]
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'then.db'}", person_secret_file=tmp_path / "p.key"
    )
    ledger = bootstrap(settings)
    items: list[Envelope | Refused] = list(
        parse_submission(orjson.dumps([d.event for d in generated]))
    )
    recorded = {id(i): d.recorded_us for i, d in zip(items, generated, strict=True)}
    for batch in demo_batches(items, generated, 1000):
        ledger.submit(batch, now_us=max(recorded[id(i)] for i in batch))
    assert ledger.rules is not None
    shown = ledger_warnings(
        ledger.recorder.store.views(), ledger.rules, rule_files.warning_book(), past
    )
    ledger.recorder.datastore.close()  # type: ignore[attr-defined]
    assert then["warnings"] == [w.to_json() for w in shown]
    assert then["total"] > 0


def test_the_page_for_regulators_lists_the_warnings(client: TestClient, demo_app: DemoApp) -> None:
    assert client.get("/insight/warnings", follow_redirects=False).status_code == 303
    page = client.get("/insight/warnings", headers=demo_app.headers("auditor"))
    assert page.status_code == 200
    total = warnings(client, "auditor", demo_app, limit="1")["total"]
    assert page.text.count('class="record warning"') == total
    one = client.get(
        "/insight/warnings?rule=rectification-overdue", headers=demo_app.headers("auditor")
    )
    assert 'data-rule="multi-agency-findings"' not in one.text
    assert 'data-rule="rectification-overdue"' in one.text


def test_the_command_line_prints_the_same_warnings(
    client: TestClient, demo_app: DemoApp, tmp_path: Path
) -> None:
    env = {
        "LEDGER_DATABASE_URL": f"sqlite:///{demo_app.tmp / 'ledger.db'}",
        "PATH": "/usr/bin:/bin",
    }
    ledger = Path(__file__).resolve().parents[2] / ".venv/bin/ledger"
    run = subprocess.run(
        [str(ledger), "warnings", "--as-of", PAST, "--known-at", PAST, "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    body = orjson.loads(run.stdout)
    api = warnings(client, "auditor", demo_app, limit="1000", as_of=PAST, known_at=PAST)
    assert body["warnings"] == api["warnings"]
    assert "warnings about" in run.stderr
    bad = subprocess.run(
        [str(ledger), "warnings", "--rule", "nope"], capture_output=True, text=True, env=env
    )
    assert bad.returncode == 2 and "no rule 'nope'" in bad.stderr
