"""The authority check is the same at every door: ``ledger submit`` (CLI), ``POST
/v1/events`` (API, whose roles narrow it further) and Kafka ingest (dead letters
carry the reason). A representative set of the table's rows: a tax office
withdrawing a market regulator's penalty, a platform revoking a decision through
an objection, a platform designating a listing, a subject resolving an objection
about itself, a subject filing for another subject."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from api.tokens import TokenStore
from entrypoints.bootstrap import bootstrap
from entrypoints.cli import main
from entrypoints.settings import Settings
from ledger.app import Ledger
from services.ingest import Ingester
from tests.e2e.apphelpers import DemoApp, build_demo_app
from tests.integration.kafka_broker import Broker, kafka_broker  # noqa: F401
from tests.integration.test_kafka_ingest import config, ingest_until
from tests.scenarios.support import at, event, penalty, recorded

SUBJECT = "91440300708461136T"
OTHER = "91110000600037341L"
SAMR = "samr/440300"
SAMR_NAME = "samr/440300（深圳市市场监管）"
PLATFORM = "credit-platform/440300"


def _setup(ledger: Ledger, tag: str) -> dict[str, str]:
    """A samr penalty, an objection against it filed by the subject, a serious
    penalty and its list proposal by ndrc (notice window over)."""
    p = dict(penalty(SUBJECT, "2025-02-10", SAMR), id=f"{tag}-penalty")
    o = event(
        "credit.objection.filed",
        SUBJECT,
        at("2025-03-03"),
        {"target": p["id"], "grounds": "金额有误"},
        f"subject/{SUBJECT}",
        id=f"{tag}-objection",
    )
    s = dict(penalty(SUBJECT, "2025-04-01", SAMR, "serious"), id=f"{tag}-serious")
    proposal = event(
        "credit.list.proposed",
        SUBJECT,
        at("2025-04-10"),
        {
            "list": "serious-dishonesty",
            "finding": s["id"],
            "planned_end": "2027-04-30",
            "basis": "《失信行为纠正后的信用信息修复管理办法（试行）》第十二条",
            "document": "深发改信用告〔2025〕1号",
        },
        "ndrc/440300",
        id=f"{tag}-proposal",
    )
    recorded(ledger, p, o, s, proposal)
    return {"penalty": p["id"], "objection": o["id"], "proposal": proposal["id"]}


def _refused_acts(ids: dict[str, str], tag: str) -> list[dict[str, Any]]:
    """Acts the table refuses, each naming samr/440300 or ndrc/440300 as responsible."""
    return [
        event(
            "credit.penalty.withdrawn",
            SUBJECT,
            at("2025-05-06"),
            {"penalty": ids["penalty"], "reason": "复议撤销"},
            "tax/440300",
            id=f"{tag}-withdraw",
        ),
        event(
            "credit.objection.resolved",
            SUBJECT,
            at("2025-05-06"),
            {"objection": ids["objection"], "outcome": "upheld", "reasons": "成立", "revoke": True},
            PLATFORM,
            id=f"{tag}-revoke-by-platform",
        ),
        event(
            "credit.list.designated",
            SUBJECT,
            at("2025-05-06"),
            {"proposal": ids["proposal"], "basis": "x", "document": "y"},
            PLATFORM,
            id=f"{tag}-designate-by-platform",
        ),
        event(
            "credit.objection.resolved",
            SUBJECT,
            at("2025-05-06"),
            {"objection": ids["objection"], "outcome": "upheld", "reasons": "我说成立"},
            f"subject/{SUBJECT}",
            id=f"{tag}-self-resolve",
        ),
        event(
            "credit.registration.submitted",
            SUBJECT,
            at("2025-05-06"),
            {"category": "charity", "description": "捐赠"},
            f"subject/{OTHER}",
            id=f"{tag}-for-another",
        ),
    ]


# -- CLI ---------------------------------------------------------------------------------


def test_ledger_submit_refuses_what_the_table_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = bootstrap(Settings(database_url=url, person_secret_file=tmp_path / "person.key"))
    ids = _setup(ledger, "cli")
    size = ledger.size()
    acts = _refused_acts(ids, "cli")
    path = tmp_path / "acts.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(a) for a in acts))
    assert main(["--database-url", url, "submit", str(path), "--json"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["status"], r["code"]) for r in lines] == [("rejected", "not-authorised")] * 5
    assert SAMR_NAME in lines[0]["message"] and SAMR_NAME in lines[1]["message"]
    assert "ndrc/440300（深圳市发展改革）" in lines[2]["message"]
    assert "only for itself" in lines[4]["message"]
    assert ledger.size() == size


# -- API ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp: Path = tmp_path_factory.mktemp("authority-api")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}", subjects=8)
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def _token(demo_app: DemoApp, role: str, agency: str | None) -> dict[str, str]:
    token, _ = TokenStore(demo_app.tmp / "tokens.json").add(role, agency=agency)
    return {"Authorization": f"Bearer {token}"}


def test_the_api_refuses_with_the_reason_and_names_the_responsible_agency(
    demo_app: DemoApp,
) -> None:
    client = TestClient(demo_app.app, raise_server_exceptions=False)
    ids = _setup(demo_app.ledger, "api")
    tax = _token(demo_app, "agency", "tax/440300")
    platform_handler = _token(demo_app, "objection-handler", PLATFORM)
    for act in _refused_acts(ids, "api")[:3]:
        headers = tax if act["source"].startswith("tax/") else platform_handler
        if act["type"] == "credit.list.designated":
            headers = _token(demo_app, "agency", PLATFORM)
        response = client.post("/v1/events", json=act, headers=headers)
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["code"] == "not-authorised", problem
        assert "440300（深圳市" in problem["detail"]
    # the story: tax/999999 may file an objection (filing is open) but never
    # resolve it by revoking samr's penalty
    stranger = _token(demo_app, "agency", "tax/999999")
    filed = event(
        "credit.objection.filed",
        SUBJECT,
        at("2025-05-07"),
        {"target": ids["proposal"], "grounds": "依据不足"},
        "tax/999999",
        id="api-stranger-objection",
    )
    assert client.post("/v1/events", json=filed, headers=stranger).status_code == 201
    resolve = event(
        "credit.objection.resolved",
        SUBJECT,
        at("2025-05-08"),
        {
            "objection": "api-stranger-objection",
            "outcome": "upheld",
            "reasons": "x",
            "revoke": True,
        },
        "tax/999999",
        id="api-stranger-resolves",
    )
    response = client.post("/v1/events", json=resolve, headers=stranger)
    assert response.json()["code"] == "not-authorised"
    assert "ndrc/440300（深圳市发展改革）" in response.json()["detail"]
    # the platform's handler may resolve without revoking (platforms route objections)
    ok = dict(_refused_acts(ids, "api")[1], id="api-platform-resolves")
    del ok["data"]["revoke"]
    assert client.post("/v1/events", json=ok, headers=platform_handler).status_code == 201


def test_roles_narrow_never_widen(demo_app: DemoApp) -> None:
    client = TestClient(demo_app.app, raise_server_exceptions=False)
    nobody = _token(demo_app, "objection-handler", None)
    body = event(
        "credit.record.corrected",
        SUBJECT,
        at("2025-05-06"),
        {"target": "whatever", "changes": {"amount": "1.00"}},
        SAMR,
        id="roles-1",
    )
    response = client.post("/v1/events", json=body, headers=nobody)
    assert response.status_code == 403 and response.json()["code"] == "source-not-allowed"
    platform_handler = _token(demo_app, "objection-handler", PLATFORM)
    response = client.post("/v1/events", json=body, headers=platform_handler)
    assert response.status_code == 403 and response.json()["code"] == "source-not-allowed"


# -- Kafka -------------------------------------------------------------------------------


@pytest.mark.kafka
@pytest.mark.postgres
def test_kafka_dead_letters_carry_not_authorised(
    kafka_broker: Broker,  # noqa: F811
    postgres_url: str,
    tmp_path: Path,
) -> None:
    ledger = bootstrap(
        Settings(database_url=postgres_url, person_secret_file=tmp_path / "person.key")
    )
    try:
        ids = _setup(ledger, "kafka")
        acts = _refused_acts(ids, "kafka")
        topic, dead = kafka_broker.fresh_topics(1)
        kafka_broker.produce(topic, [(SUBJECT.encode(), orjson.dumps(a)) for a in acts])
        group = f"g-{uuid.uuid4().hex[:6]}"
        ingester = Ingester(ledger, config(kafka_broker, topic, dead, group))
        try:
            stats = ingest_until(ingester, len(acts))
        finally:
            ingester.close()
        assert (stats.recorded, stats.rejected) == (0, len(acts))
        letters = kafka_broker.read_all(dead, len(acts))
        headers = [{k: v.decode() for k, v in letter.headers} for letter in letters]
        assert {h["reason-code"] for h in headers} == {"not-authorised"}
        assert any(SAMR_NAME in h["reason-message"] for h in headers)
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]
