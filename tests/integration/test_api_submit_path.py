"""``POST /v1/events`` checks its query, its principal and ``wait`` itself (issue 21: the
HTTP row; FastAPI's dependency resolution cost a third of the HTTP layers' CPU per
request). What a client sees must be what the dependencies answered before: the same
RFC 9457 problems with the same reason codes and details, checked in the same order
(unknown query parameter, then the principal, then ``wait``, then the body), and the
same OpenAPI operation (the ``wait`` parameter, the bearer scheme).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from bench.concurrency import post_singles
from tests.e2e.apphelpers import DemoApp, build_demo_app, serve
from tests.integration.test_api_roles import event, person_subject

WAIT_DOC = (
    "Return only once the materialised views (lists) include the recorded events, at "
    "most 5 s (read-your-writes); header `X-Views-Caught-Up` says whether they did"
)
ROLES = "agency, objection-handler, subject"
NOT_BOOLEAN = "Input should be a valid boolean, unable to interpret input"


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp: Path = tmp_path_factory.mktemp("api-submit-path")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}", subjects=3)
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


@pytest.fixture
def client(demo_app: DemoApp) -> TestClient:
    return TestClient(demo_app.app)


def _post(
    client: TestClient,
    demo_app: DemoApp,
    ident: str,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    **fields: Any,
) -> Any:
    sent = {"content-type": "application/json", **(headers or {})}
    content = (
        body if body is not None else orjson.dumps(event(person_subject(demo_app), ident, **fields))
    )
    return client.post(f"/v1/events{query}", content=content, headers=sent)


def _problem(response: Any, status: int, code: str, detail: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{code}"
    assert (body["status"], body["code"], body["detail"]) == (status, code, detail)
    assert body["instance"] == "/v1/events"
    return body


def _agency(demo_app: DemoApp) -> dict[str, str]:
    return {k.lower(): v for k, v in demo_app.headers("agency").items()}


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        (None, f"this endpoint needs a bearer token of a role: {ROLES}"),
        ("Basic abc", "the Authorization header must be 'Bearer <token>'"),
        ("Bearer ", "the Authorization header must be 'Bearer <token>'"),
        ("Bearer ledger_unknown", "the bearer token is unknown or revoked"),
    ],
)
def test_without_a_valid_token_the_answer_is_401_with_the_bearer_challenge(
    client: TestClient, demo_app: DemoApp, authorization: str | None, detail: str
) -> None:
    headers = {"authorization": authorization} if authorization is not None else {}
    response = _post(client, demo_app, "no-token", headers=headers)
    _problem(response, 401, "unauthenticated", detail)
    assert response.headers["www-authenticate"] == 'Bearer realm="credit-ledger"'


def test_a_role_that_may_not_submit_gets_403(client: TestClient, demo_app: DemoApp) -> None:
    headers = {k.lower(): v for k, v in demo_app.headers("auditor").items()}
    response = _post(client, demo_app, "auditor", headers=headers)
    _problem(
        response,
        403,
        "role-not-allowed",
        f"the role auditor may not use this endpoint; allowed: {ROLES}",
    )


def test_an_unknown_query_parameter_is_refused_before_the_token_is_looked_at(
    client: TestClient, demo_app: DemoApp
) -> None:
    response = _post(client, demo_app, "q", query="?foo=1&bar=2")
    body = _problem(
        response,
        400,
        "invalid-request",
        "unknown query parameter 'bar', 'foo'; this endpoint takes: wait",
    )
    assert body["invalid"] == [
        {"name": "bar", "reason": "unknown query parameter"},
        {"name": "foo", "reason": "unknown query parameter"},
    ]


@pytest.mark.parametrize("query", ["?wait=maybe", "?wait=", "?wait=1&wait=nah"])
def test_a_wait_that_is_no_boolean_is_400_after_the_token_and_before_the_body(
    client: TestClient, demo_app: DemoApp, query: str
) -> None:
    anonymous = _post(client, demo_app, "w", query=query)
    assert anonymous.status_code == 401
    response = _post(
        client,
        demo_app,
        "w",
        query=query,
        headers={**_agency(demo_app), "content-type": "application/xml"},
    )
    body = _problem(response, 400, "invalid-request", f"query.wait: {NOT_BOOLEAN}")
    assert body["invalid"] == [{"name": "query.wait", "reason": NOT_BOOLEAN}]


@pytest.mark.parametrize("text", ["true", "On", "1", "yes"])
def test_wait_takes_the_booleans_fastapi_took(
    client: TestClient, demo_app: DemoApp, text: str
) -> None:
    response = _post(
        client, demo_app, f"wait-{text}", query=f"?wait={text}", headers=_agency(demo_app)
    )
    assert response.status_code == 201, response.text
    assert response.headers["x-views-caught-up"] in ("true", "false")
    quiet = _post(
        client, demo_app, f"nowait-{text}", query="?wait=false", headers=_agency(demo_app)
    )
    assert quiet.status_code == 201 and "x-views-caught-up" not in quiet.headers


def test_the_body_problems_are_unchanged(client: TestClient, demo_app: DemoApp) -> None:
    agency = _agency(demo_app)
    bad_json = _post(client, demo_app, "j", headers=agency, body=b"{nope")
    _problem(
        bad_json,
        400,
        "not-json",
        "the body is not JSON (unexpected character, expected a string key at line 1, column 2)",
    )
    unknown = _post(client, demo_app, "t", headers=agency, type_="credit.nonsense.happened")
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown-type"
    assert unknown.json()["id"] == "t" and unknown.json()["source"] == "samr/440300"
    svc = client.app.state.services  # type: ignore[attr-defined]
    before, svc.max_body_bytes = svc.max_body_bytes, 1024
    try:
        large = _post(client, demo_app, "l", headers=agency, body=b" " * 2048)
    finally:
        svc.max_body_bytes = before
    body = _problem(
        large,
        413,
        "payload-too-large",
        "the body declares 2048 bytes (Content-Length); at most 1024 bytes are accepted",
    )
    assert body["limit"] == 1024


def test_recorded_then_repeat(client: TestClient, demo_app: DemoApp) -> None:
    agency = _agency(demo_app)
    first = _post(client, demo_app, "once", headers=agency)
    assert first.status_code == 201
    assert first.headers["location"] == "/v1/records/samr/440300/once"
    again = _post(client, demo_app, "once", headers=agency)
    assert again.status_code == 200 and again.json()["status"] == "repeat"
    assert again.json()["hash"] == first.json()["hash"]


def test_the_openapi_operation_declares_wait_and_the_bearer_scheme(
    client: TestClient,
) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/events"]["post"]
    assert operation["security"] == [{"bearer": []}]
    assert operation["parameters"] == [
        {
            "description": WAIT_DOC,
            "in": "query",
            "name": "wait",
            "required": False,
            "schema": {
                "default": False,
                "description": WAIT_DOC,
                "title": "Wait",
                "type": "boolean",
            },
        }
    ]


def test_other_methods_still_reach_the_router(client: TestClient, demo_app: DemoApp) -> None:
    response = client.get("/v1/events", headers=_agency(demo_app))
    _problem(response, 405, "method-not-allowed", "GET is not allowed on /v1/events")


def test_a_browser_gets_the_problem_page(client: TestClient, demo_app: DemoApp) -> None:
    headers = {**_agency(demo_app), "accept": "text/html"}
    response = _post(client, demo_app, "page", headers=headers, body=b"{")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "not-json" in response.text


def test_an_unexpected_error_is_the_500_problem(
    demo_app: DemoApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(demo_app.ledger, "submit", broken)
    client = TestClient(demo_app.app, raise_server_exceptions=False)
    response = _post(client, demo_app, "boom", headers=_agency(demo_app))
    _problem(response, 500, "internal-error", "unexpected RuntimeError; the ledger logged it")


def test_concurrent_keep_alive_clients_over_uvicorn_each_get_their_record(
    demo_app: DemoApp,
) -> None:
    """The bench's HTTP clients (``bench.concurrency.post_singles``) against the app
    served by uvicorn: every event of four concurrent keep-alive clients recorded once,
    each answered 201 with its own record; a refused token fails the run loudly."""
    subject = person_subject(demo_app)
    events = [event(subject, f"http-{i}") for i in range(12)]
    token = demo_app.tokens["agency"]
    with serve(demo_app.app) as base:
        found = post_singles(base, events, {"samr/440300": token}, 4)
        with pytest.raises(RuntimeError, match="unauthenticated"):
            post_singles(base, events[:1], {"samr/440300": "ledger_unknown"}, 1)
    assert found["statuses"] == {"201": 12} and len(found["latencies"]) == 12
    client = TestClient(demo_app.app)
    auditor = demo_app.headers("auditor")
    for e in events:
        record = client.get(f"/v1/records/samr/440300/{e['id']}", headers=auditor)
        assert record.status_code == 200, record.text
