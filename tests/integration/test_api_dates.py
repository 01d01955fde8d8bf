"""Dates at the HTTP door: out-of-range or unparsable ``as_of``/``known_at`` are 400
problems on every route (a 400 page naming the reason on the pages for people), and a
far-future event is refused, not recorded."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.e2e.apphelpers import DemoApp, build_demo_app
from tests.unit.events.samples import SAMPLES

OUT_OF_RANGE = [
    "9999-12-31",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "1949-09-30",
]
UNPARSABLE = ["2026-13-01", "abc", "2025-02-30", "2025-03-01T10:00:00"]


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp: Path = tmp_path_factory.mktemp("api-dates")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}", subjects=4)
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


@pytest.fixture
def client(demo_app: DemoApp) -> TestClient:
    return TestClient(demo_app.app, raise_server_exceptions=False)


def _routes(code: str) -> list[tuple[str, str]]:
    """(path, role) of every read that takes as_of/known_at."""
    return [
        (f"/v1/subjects/{code}/standing", "auditor"),
        (f"/v1/subjects/{code}/history", "auditor"),
        (f"/v1/subjects/{code}/disclosure", "public"),
        ("/v1/lists/serious-dishonesty", "public"),
    ]


@pytest.mark.parametrize("parameter", ["as_of", "known_at"])
@pytest.mark.parametrize(
    ("text", "reason"),
    [(t, "date-out-of-range") for t in OUT_OF_RANGE]
    + [(t, "invalid-instant") for t in UNPARSABLE],
)
def test_a_bad_instant_is_a_400_problem_on_every_route(
    client: TestClient, demo_app: DemoApp, parameter: str, text: str, reason: str
) -> None:
    for path, role in _routes(demo_app.subjects()[0]):
        answer = client.get(path, params={parameter: text}, headers=demo_app.headers(role))
        assert answer.status_code == 400, (path, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        problem = answer.json()
        assert problem["code"] == reason, (path, problem)
        assert parameter in problem["detail"]
        if reason == "date-out-of-range":
            assert "1949-10-01 … 2199-12-31" in problem["detail"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [(t, "date-out-of-range") for t in OUT_OF_RANGE]
    + [(t, "invalid-instant") for t in UNPARSABLE],
)
def test_a_bad_instant_is_a_400_page_on_the_pages(
    client: TestClient, demo_app: DemoApp, text: str, reason: str
) -> None:
    for path in (f"/subjects/{demo_app.subjects()[0]}", "/lists/serious-dishonesty"):
        answer = client.get(path, params={"as_of": text})
        assert answer.status_code == 400, (path, answer.text)
        assert answer.headers["content-type"].startswith("text/html")
        assert f"[{reason}]" in answer.text  # a page for people, naming the reason code


def test_the_ends_of_the_range_are_answered(client: TestClient, demo_app: DemoApp) -> None:
    code = demo_app.subjects()[0]
    late = client.get(
        f"/v1/subjects/{code}/standing",
        params={"as_of": "2199-12-31", "known_at": "2199-12-31"},
        headers=demo_app.headers("auditor"),
    )
    assert late.status_code == 200, late.text
    before_any = client.get(
        f"/v1/subjects/{code}/standing",
        params={"as_of": "1949-10-01T00:00:00+08:00"},
        headers=demo_app.headers("auditor"),
    )
    assert before_any.status_code in (200, 404), before_any.text  # answered, never a 500


def test_a_far_future_event_is_refused_with_the_reason(
    client: TestClient, demo_app: DemoApp
) -> None:
    event = copy.deepcopy(SAMPLES["credit.commitment.made"])
    event["id"] = "far-future-commitment"
    event["subject"] = demo_app.subjects()[0]
    event["source"] = "samr/440300"
    event["data"]["due"] = "9999-12-31"
    answer = client.post("/v1/events", json=event, headers=demo_app.headers("agency"))
    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["code"] == "date-out-of-range"
    assert "data.due" in answer.json()["detail"]
