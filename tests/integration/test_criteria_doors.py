"""The criteria of the serious acts at the doors a user drives: the store (both
backends) records the revocation a breached repair commitment derives; the API
refuses a false "minor" with its reason code and shows auditors which measures
extend to which responsible persons; ``ledger persons CODE`` prints the same."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from commands.decide import SYSTEM_SOURCE
from entrypoints.bootstrap import bootstrap
from entrypoints.cli import responsible
from entrypoints.settings import Settings
from events.codes import complete_subject_code
from ledger.app import Ledger
from tests.e2e.apphelpers import AGENCY, DemoApp, build_demo_app
from tests.scenarios.support import BASIS, at, event, penalty, recorded, refused

SUBJECT = complete_subject_code("91440300MA5FCRT1")
ID_NUMBER = "11010519491231002X"


def test_a_breached_repair_commitment_revokes_its_repair_in_the_store(ledger: Ledger) -> None:
    platform = "credit-platform/440300"
    (fine,) = recorded(ledger, penalty(SUBJECT, "2025-02-10", AGENCY))
    (commitment,) = recorded(
        ledger,
        event(
            "credit.commitment.made",
            SUBJECT,
            at("2025-06-01"),
            {"commitment_type": "repair", "matter": "信用修复承诺", "due": None},
            platform,
        ),
    )
    # Order 58 requires the commitment among the methods of every request
    refused(
        ledger,
        event(
            "credit.repair.requested",
            SUBJECT,
            at("2025-06-10"),
            {"target": fine, "methods": ["report"]},
            platform,
        ),
        "repair-methods",
    )
    (request,) = recorded(
        ledger,
        event(
            "credit.repair.requested",
            SUBJECT,
            at("2025-06-10"),
            {"target": fine, "methods": ["commitment", "report"]},
            platform,
        ),
    )
    (approval,) = recorded(
        ledger,
        event(
            "credit.repair.approved",
            SUBJECT,
            at("2025-06-12"),
            {"request": request, "reasons": "符合条件"},
            platform,
        ),
    )
    (breach,) = recorded(
        ledger,
        event(
            "credit.commitment.breached",
            SUBJECT,
            at("2025-08-01"),
            {"commitment": commitment, "kind": "false", **BASIS},
            platform,
        ),
    )
    *_, last_but_one, last = list(ledger.stream(SUBJECT))
    assert (last_but_one.id, last.type, last.source) == (
        breach,
        "credit.repair.revoked",
        SYSTEM_SOURCE,
    )
    assert last.data["approval"] == approval and last.data["breach"] == breach


def _run(url: str, tmp_path: Path, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ledger")
    responsible.register(parser.add_subparsers(), bootstrap)
    args = parser.parse_args(argv)
    settings = Settings(database_url=url, person_secret_file=tmp_path / "person.key")
    code: int = args.handler(args, settings)
    return code


# -- the API and the CLI over one ledger ----------------------------------------------------


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp: Path = tmp_path_factory.mktemp("api-criteria")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}", subjects=12)
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def client(demo_app: DemoApp) -> TestClient:
    return TestClient(demo_app.app, raise_server_exceptions=False)


def cloud_event(ident: str, type_: str, day: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": ident,
        "source": AGENCY,
        "type": type_,
        "subject": SUBJECT,
        "time": at(day),
        "datacontenttype": "application/json",
        "data": data,
    }


def post(client: TestClient, demo_app: DemoApp, body: dict[str, Any]) -> Any:
    return client.post("/v1/events", json=body, headers=demo_app.headers("agency"))


def test_the_api_refuses_a_false_minor_with_its_reason(
    client: TestClient, demo_app: DemoApp
) -> None:
    body = cloud_event(
        "criteria-minor-1",
        "credit.penalty.decided",
        "2026-11-02",
        {
            "kinds": ["fine", "revocation"],
            "amount": "500000.00",
            "procedure": "ordinary",
            "severity": "minor",
            "sector": "food",
            **BASIS,
        },
    )
    response = post(client, demo_app, body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "not-minor" and "3000" in problem["detail"]
    unknown = cloud_event(
        "criteria-measure-0",
        "credit.measure.applied",
        "2026-11-02",
        {"measure": "bidding", "finding": "criteria-minor-1", "until": None, **BASIS},
    )
    assert post(client, demo_app, unknown).status_code == 422


@pytest.fixture(scope="module")
def story(client: TestClient, demo_app: DemoApp) -> list[dict[str, Any]]:
    """A responsible person, a serious penalty, two measures on it: one the list
    extends to responsible persons, one it does not."""
    story = [
        cloud_event(
            "criteria-person-1",
            "credit.person.linked",
            "2026-11-02",
            {"role": "legal-representative", "name": "张三", "id_number": ID_NUMBER},
        ),
        cloud_event(
            "criteria-penalty-1",
            "credit.penalty.decided",
            "2026-11-03",
            {
                "kinds": ["fine"],
                "amount": "500000.00",
                "procedure": "ordinary",
                "severity": "serious",
                "sector": "food",
                **BASIS,
            },
        ),
        *(
            cloud_event(
                f"criteria-measure-{code}",
                "credit.measure.applied",
                "2026-11-04",
                {"measure": code, "finding": "criteria-penalty-1", "until": None, **BASIS},
            )
            for code in ("position-restriction", "bidding-restriction")
        ),
    ]
    for body in story:
        response = post(client, demo_app, body)
        assert response.status_code == 201, response.text
    return story


def test_auditors_see_which_measures_extend_to_which_persons(
    client: TestClient, demo_app: DemoApp, story: list[dict[str, Any]]
) -> None:
    twice = post(client, demo_app, {**story[2], "id": "criteria-measure-again"})
    assert twice.status_code == 422 and twice.json()["code"] == "duplicate-measure"

    url = f"/v1/subjects/{SUBJECT}/persons"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=demo_app.headers("agency")).status_code == 403
    response = client.get(url, headers=demo_app.headers("auditor"))
    assert response.status_code == 200, response.text
    assert ID_NUMBER not in response.text
    body = response.json()
    (person,) = body["persons"]
    assert (person["name"], person["role"]) == ("张三", "legal-representative")
    assert [(e["kind"], e["what"]) for e in person["extends"]] == [
        ("measure", "position-restriction")
    ]
    measures = {m["measure"]: m for m in body["measures"]}
    assert measures["position-restriction"]["persons"] == [person["person"]]
    assert measures["position-restriction"]["category_zh"] == "行业性"
    assert measures["bidding-restriction"]["extends_to_persons"] is False
    assert measures["bidding-restriction"]["persons"] == []


def test_ledger_persons_prints_the_same_read(
    client: TestClient,
    demo_app: DemoApp,
    story: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings_url = f"sqlite:///{demo_app.tmp / 'ledger.db'}"
    assert _run(settings_url, demo_app.tmp, "persons", SUBJECT, "--json") == 0
    body = orjson.loads(capsys.readouterr().out)
    api = client.get(f"/v1/subjects/{SUBJECT}/persons", headers=demo_app.headers("auditor")).json()
    assert body["persons"] == api["persons"] and body["measures"] == api["measures"]
    assert _run(settings_url, demo_app.tmp, "persons", SUBJECT) == 0
    text = capsys.readouterr().out
    assert "张三" in text and "↳ measure position-restriction" in text
    assert ID_NUMBER not in text
    assert (
        _run(settings_url, demo_app.tmp, "persons", complete_subject_code("91440300MA5FNEWX")) == 1
    )
