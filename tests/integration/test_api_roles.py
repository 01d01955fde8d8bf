"""The role matrix of the HTTP API (DESIGN.md "HTTP API (v1)"), source
restrictions on submission, the access log, and that the public never sees an
identity number. SQLite ledger with a small demo (40 subjects)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.e2e.apphelpers import AGENCY, OTHER_AGENCY, PLATFORM, DemoApp, build_demo_app

ROLES = ("public", "agency", "auditor", "objection-handler")
ALLOWED = {
    # endpoint: roles that may use it (the rest: 401 for the public, 403 for a role)
    "submit": {"agency", "objection-handler"},
    "standing": {"agency", "auditor", "objection-handler"},
    "history": {"auditor", "objection-handler"},
    "disclosure": set(ROLES),
    "lists": set(ROLES),
    "audit-bundle": {"auditor"},
    "checkpoint-latest": set(ROLES),
    "checkpoint-consistency": set(ROLES),
}


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp: Path = tmp_path_factory.mktemp("api-roles")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}")
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def client(demo_app: DemoApp) -> TestClient:
    return TestClient(demo_app.app, raise_server_exceptions=False)


def person_subject(demo_app: DemoApp) -> str:
    return next(
        d.event["subject"] for d in demo_app.events if d.event["type"] == "credit.person.linked"
    )


def event(
    subject: str,
    ident: str,
    *,
    source: str = AGENCY,
    type_: str | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": ident,
        "source": source,
        "type": type_ or "credit.registration.submitted",
        "subject": subject,
        "time": "2026-11-01T10:00:00+08:00",
        "datacontenttype": "application/json",
        "data": data
        if data is not None
        else {"category": "certificate", "description": "ISO 9001"},
    }


def call(client: TestClient, demo_app: DemoApp, endpoint: str, role: str, n: int) -> Any:
    subject = person_subject(demo_app)
    headers = demo_app.headers(role)
    if endpoint == "submit":
        if role == "objection-handler":
            body = event(
                subject,
                f"matrix-{role}-{n}",
                source=PLATFORM,
                type_="credit.record.revoked",
                data={"target": "no-such-record", "reason": "matrix test"},
            )
        else:
            body = event(subject, f"matrix-{role}-{n}")
        return client.post("/v1/events", json=body, headers=headers)
    url = {
        "standing": f"/v1/subjects/{subject}/standing",
        "history": f"/v1/subjects/{subject}/history",
        "disclosure": f"/v1/subjects/{subject}/disclosure",
        "lists": "/v1/lists/serious-dishonesty",
        "audit-bundle": f"/v1/subjects/{subject}/audit-bundle",
        "checkpoint-latest": "/v1/checkpoints/latest",
        "checkpoint-consistency": "/v1/checkpoints/consistency?from=1&to=2",
    }[endpoint]
    return client.get(url, headers=headers)


@pytest.mark.parametrize("endpoint", sorted(ALLOWED))
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client: TestClient, demo_app: DemoApp, endpoint: str, role: str) -> None:
    response = call(client, demo_app, endpoint, role, ROLES.index(role))
    if role in ALLOWED[endpoint]:
        expected = {200, 201} | ({422} if endpoint == "submit" else set())
        assert response.status_code in expected, response.text
        return
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    if role == "public":
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert problem["code"] == "unauthenticated"
    else:
        assert response.status_code == 403, response.text
        assert problem["code"] == "role-not-allowed"
    assert problem["status"] == response.status_code
    assert {"type", "title", "detail", "instance"} <= problem.keys()


@pytest.mark.parametrize("endpoint", sorted(ALLOWED))
def test_unknown_token_is_401_everywhere(
    client: TestClient, demo_app: DemoApp, endpoint: str
) -> None:
    demo_app.tokens["forged"] = "clt_" + "x" * 43
    try:
        response = call(client, demo_app, endpoint, "forged", 99)
    finally:
        del demo_app.tokens["forged"]
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_agency_may_not_submit_as_another_agency(client: TestClient, demo_app: DemoApp) -> None:
    subject = person_subject(demo_app)
    headers = demo_app.headers("agency")
    one = client.post(
        "/v1/events", json=event(subject, "other-1", source=OTHER_AGENCY), headers=headers
    )
    assert one.status_code == 403
    assert one.json()["code"] == "source-not-allowed"
    batch = [event(subject, "own-1"), event(subject, "other-2", source=OTHER_AGENCY)]
    response = client.post("/v1/events", json=batch, headers=headers)
    assert response.status_code == 200
    results = response.json()
    assert [r["status"] for r in results] == ["recorded", "rejected"]
    assert results[1]["code"] == "source-not-allowed"
    history = client.get(f"/v1/subjects/{subject}/history", headers=demo_app.headers("auditor"))
    ids = {e["id"] for e in history.json()["events"]}
    assert "own-1" in ids and "other-2" not in ids and "other-1" not in ids


def test_objection_handler_may_submit_only_its_types(client: TestClient, demo_app: DemoApp) -> None:
    subject = person_subject(demo_app)
    response = client.post(
        "/v1/events",
        json=event(subject, "handler-penalty", source=PLATFORM),
        headers=demo_app.headers("objection-handler"),
    )
    assert response.status_code == 403
    assert response.json()["code"] == "type-not-allowed"


def test_single_event_statuses(client: TestClient, demo_app: DemoApp) -> None:
    subject = person_subject(demo_app)
    headers = demo_app.headers("agency")
    body = event(subject, "status-1")
    first = client.post("/v1/events", json=body, headers=headers)
    assert first.status_code == 201
    # Location names the record itself, which the submitting agency may read
    # (it gets 403 on the subject's history)
    assert first.headers["location"] == f"/v1/records/{AGENCY}/status-1"
    mine = client.get(first.headers["location"], headers=headers)
    assert mine.status_code == 200 and mine.json()["record"]["id"] == "status-1"
    assert mine.json()["subject"] == subject
    assert first.json()["status"] == "recorded"
    again = client.post("/v1/events", json=body, headers=headers)
    assert again.status_code == 200
    assert again.json()["status"] == "repeat"
    assert again.json()["position"] == first.json()["position"]
    bad = client.post(
        "/v1/events", json=dict(body, id="status-2", subject=subject[:-1] + "0"), headers=headers
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["code"].startswith("subject-code")
    reused = client.post(
        "/v1/events", json=dict(body, data={"category": "x", "description": "y"}), headers=headers
    )
    assert reused.status_code == 409
    assert reused.json()["code"] == "id-reused"
    not_json = client.post(
        "/v1/events", content=b"{nope", headers={**headers, "content-type": "application/json"}
    )
    assert not_json.status_code == 400
    assert not_json.json()["code"] == "not-json"


def test_subject_errors(client: TestClient, demo_app: DemoApp) -> None:
    unknown = client.get("/v1/subjects/91110000600037341L/disclosure")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "unknown-subject"
    malformed = client.get("/v1/subjects/91110000600037341X/disclosure")
    assert malformed.status_code == 400
    assert malformed.json()["code"] == "subject-code-check"
    short = client.get("/v1/subjects/123/disclosure")
    assert short.status_code == 400
    assert short.json()["code"] == "subject-code-length"
    subject = person_subject(demo_app)
    bad_instant = client.get(f"/v1/subjects/{subject}/disclosure?as_of=yesterday")
    assert bad_instant.status_code == 400
    assert bad_instant.json()["code"] == "invalid-instant"
    nowhere = client.get("/v1/nowhere")
    assert nowhere.status_code == 404
    assert nowhere.headers["content-type"] == "application/problem+json"


def test_personal_data_reads_are_logged(client: TestClient, demo_app: DemoApp) -> None:
    subject = person_subject(demo_app)
    before = len(list(demo_app.access_log.read()))
    client.get(f"/v1/subjects/{subject}/disclosure")  # public: not personal data
    assert len(list(demo_app.access_log.read())) == before
    response = client.get(
        f"/v1/subjects/{subject}/history?known_at=2026-06-30", headers=demo_app.headers("auditor")
    )
    assert response.status_code == 200
    client.get(f"/v1/subjects/{subject}/standing", headers=demo_app.headers("agency"))
    logged = list(demo_app.access_log.read())[before:]
    assert [(e["who"], e["role"], e["what"], e["subject"]) for e in logged] == [
        ("auditor-1", "auditor", "history", subject),
        ("samr-shenzhen", "agency", "standing", subject),
    ]
    assert logged[0]["known_at"] is not None and logged[0]["at"].endswith("Z")


ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")


def test_public_never_receives_an_identity_number(client: TestClient, demo_app: DemoApp) -> None:
    numbers = demo_app.id_numbers()
    assert numbers, "the demo has responsible persons"
    bodies: list[str] = []
    for subject in demo_app.subjects():
        for query in ("", "?as_of=2024-06-30", "?as_of=2025-12-31&known_at=2025-12-31"):
            r = client.get(f"/v1/subjects/{subject}/disclosure{query}")
            # 404: nothing recorded about the subject yet at known_at
            assert r.status_code == 200 or (r.status_code == 404 and "known_at" in query), r.text
            bodies.append(r.text)
        page = client.get(f"/subjects/{subject}")
        assert page.status_code == 200
        bodies.append(page.text)
    for path in (
        "/v1/lists/serious-dishonesty",
        "/v1/lists/focus",
        "/search?q=有限公司",
        "/",
        "/v1/checkpoints/latest",
    ):
        bodies.append(client.get(path).text)
    leaked = {n for body in bodies for n in numbers if n in body}
    assert not leaked
    # …and the masked form is what the public gets:
    masked = [m for body in bodies for m in re.findall(r"[0-9]{2}\*{16}", body)]
    assert masked
    # while an auditor reading the history does see them (and that read is logged).
    subject = next(
        d.event["subject"] for d in demo_app.events if d.event["type"] == "credit.person.linked"
    )
    history = client.get(
        f"/v1/subjects/{subject}/history", headers=demo_app.headers("auditor")
    ).text
    assert any(n in history for n in numbers) or ID_NUMBER.search(history) is None


def test_audit_bundle_verifies_offline(client: TestClient, demo_app: DemoApp) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "verify_bundle", Path(__file__).resolve().parents[2] / "tools" / "verify_bundle.py"
    )
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    subject = person_subject(demo_app)
    response = client.get(
        f"/v1/subjects/{subject}/audit-bundle", headers=demo_app.headers("auditor")
    )
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert bundle["records"] and bundle["subject"] == subject
    latest = client.get("/v1/checkpoints/latest").json()
    assert bundle["checkpoint"] == latest
    import base64

    assert tool.verify(bundle, base64.b64decode(latest_key(demo_app))) == []
    logged = [e for e in demo_app.access_log.read() if e["what"] == "audit-bundle"]
    assert logged and logged[-1]["subject"] == subject
    missing = client.get(
        f"/v1/subjects/{subject}/audit-bundle?checkpoint=999999999",
        headers=demo_app.headers("auditor"),
    )
    assert missing.status_code == 404


def latest_key(demo_app: DemoApp) -> str:
    key: str = demo_app.app.state.services.views.public_key
    return key


def test_consistency_between_checkpoints(client: TestClient, demo_app: DemoApp) -> None:
    latest = client.get("/v1/checkpoints/latest").json()
    proof = client.get(f"/v1/checkpoints/consistency?from=100&to={latest['size']}").json()
    assert proof["to_root"] == latest["root"] and proof["to_checkpoint"] == latest
    assert proof["proof"]
    beyond = client.get(f"/v1/checkpoints/consistency?from=1&to={10**9}")
    assert beyond.status_code == 404
    backwards = client.get("/v1/checkpoints/consistency?from=5&to=1")
    assert backwards.status_code == 400 and backwards.json()["code"] == "invalid-request"
