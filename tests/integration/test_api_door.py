"""The API's door (issue 16 item 7): what a hostile or careless client can send to
``POST /v1/events`` and ``/metrics`` without costing the server more than a bound.

* ``Content-Type`` is required and must be JSON (one document or JSON lines): 415;
* the body is bounded by ``max_body_bytes`` from ``Content-Length`` and while
  streaming (chunked): 413 after reading at most the limit (plus one read);
* control characters in ``data`` are refused (``control-character``);
* 30,000 distinct bad sources leave ``/metrics`` small, its series count fixed.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.apphelpers import DemoApp, build_demo_app, serve
from tests.integration.test_api_roles import event, person_subject


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp: Path = tmp_path_factory.mktemp("api-door")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}", subjects=10)
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


@pytest.fixture
def client(demo_app: DemoApp) -> TestClient:
    return TestClient(demo_app.app)


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["status"] == status and body["type"].endswith(code)
    return body


# -- Content-Type -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/json-patch+json",
        "",
    ],
)
def test_a_body_without_a_json_content_type_is_refused_with_415(
    client: TestClient, demo_app: DemoApp, content_type: str | None
) -> None:
    headers = demo_app.headers("agency")
    if content_type is not None:
        headers["content-type"] = content_type
    body = orjson.dumps(event(person_subject(demo_app), f"ct-{content_type}"))
    response = client.post("/v1/events", content=body, headers=headers)
    problem = _problem(response, 415, "unsupported-media-type")
    assert "application/json" in problem["detail"]
    history = client.get(
        f"/v1/subjects/{person_subject(demo_app)}/history", headers=demo_app.headers("auditor")
    ).json()
    assert f"ct-{content_type}" not in orjson.dumps(history).decode()


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=utf-8",
        "application/cloudevents+json",
        "Application/CloudEvents-Batch+JSON",
    ],
)
def test_json_media_types_are_accepted(
    client: TestClient, demo_app: DemoApp, content_type: str
) -> None:
    headers = {**demo_app.headers("agency"), "content-type": content_type}
    body = orjson.dumps(event(person_subject(demo_app), f"ok-{content_type.lower()}"))
    assert client.post("/v1/events", content=body, headers=headers).status_code == 201


@pytest.mark.parametrize("content_type", ["application/jsonl", "application/x-ndjson"])
def test_json_lines_are_a_batch(client: TestClient, demo_app: DemoApp, content_type: str) -> None:
    subject = person_subject(demo_app)
    lines = [orjson.dumps(event(subject, f"{content_type}-{i}")) for i in range(2)]
    body = b"\n".join([*lines, b"{nope"]) + b"\n"
    headers = {**demo_app.headers("agency"), "content-type": content_type}
    response = client.post("/v1/events", content=body, headers=headers)
    assert response.status_code == 200, response.text
    results = response.json()
    assert [r["status"] for r in results] == ["recorded", "recorded", "rejected"]
    assert results[2]["code"] == "not-json"


# -- body size ----------------------------------------------------------------------------


@pytest.fixture
def small_limit(demo_app: DemoApp) -> Iterator[int]:
    svc = demo_app.app.state.services
    before, svc.max_body_bytes = svc.max_body_bytes, 256 * 1024
    yield svc.max_body_bytes
    svc.max_body_bytes = before


def test_a_declared_length_over_the_limit_is_413_before_reading(
    demo_app: DemoApp, small_limit: int
) -> None:
    """The server answers from the headers alone: nothing of the body is sent."""
    with serve(demo_app.app) as url, socket.create_connection(_address(url), timeout=10) as s:
        s.sendall(
            _head(demo_app, f"Content-Length: {400 * 1024 * 1024}\r\n")  # 400 MiB announced
        )
        status, body = _response(s)
    assert status == 413
    problem = orjson.loads(body)
    assert problem["code"] == "payload-too-large" and problem["limit"] == small_limit


def test_a_chunked_body_is_cut_off_at_the_limit(demo_app: DemoApp, small_limit: int) -> None:
    """A chunked upload of up to 400 MiB: the server answers 413 having received at
    most the limit plus one read, and the client is told to stop long before the end."""
    received = [0]
    app = demo_app.app

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        async def counted() -> Any:
            message = await receive()
            received[0] += len(message.get("body", b""))
            return message

        await app(scope, counted, send)

    chunk = b"[" + b" " * (64 * 1024 - 1)
    sent = 0
    with serve(counting) as url, socket.create_connection(_address(url), timeout=10) as s:  # type: ignore[arg-type]
        s.sendall(_head(demo_app, "Transfer-Encoding: chunked\r\n"))
        deadline = time.monotonic() + 60
        while sent < 400 * 1024 * 1024 and time.monotonic() < deadline:
            readable, writable, _ = select.select([s], [s], [], 1.0)
            if readable:
                break
            if writable:
                try:
                    s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                except OSError:  # the server closed the connection after answering
                    break
                sent += len(chunk)
        status, body = _response(s)
    assert status == 413
    assert orjson.loads(body)["code"] == "payload-too-large"
    assert small_limit < received[0] <= small_limit + 1024 * 1024
    assert sent < 32 * 1024 * 1024  # the sender stopped within socket buffers of the limit


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def _head(demo_app: DemoApp, framing: str) -> bytes:
    auth = demo_app.headers("agency")["Authorization"]
    return (
        "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: {auth}\r\n{framing}\r\n"
    ).encode()


def _response(s: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        more = s.recv(65536)
        if not more:
            break
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        more = s.recv(65536)
        if not more:
            break
        body += more
    return int(head.split(b" ", 2)[1]), body[:length]


# -- control characters -------------------------------------------------------------------


def test_a_nul_in_data_is_refused_with_its_reason(client: TestClient, demo_app: DemoApp) -> None:
    bad = event(
        person_subject(demo_app),
        "nul-1",
        data={"category": "certificate", "description": "ISO\x009001"},
    )
    problem = _problem(
        client.post("/v1/events", json=bad, headers=demo_app.headers("agency")),
        422,
        "control-character",
    )
    assert problem["path"] == "data.description" and problem["character"] == "U+0000"


# -- /metrics -----------------------------------------------------------------------------


def test_metrics_stay_small_after_30000_distinct_bad_sources(
    client: TestClient, demo_app: DemoApp
) -> None:
    headers = demo_app.headers("agency")
    subject = person_subject(demo_app)
    warm_up = [
        event(subject, "warm-up-1", source="x/0"),
        {**event(subject, "warm-up-2"), "type": "credit.made.up"},
    ]
    client.post("/v1/events", json=warm_up, headers=headers)  # one series of each kind
    before = client.get("/metrics").text
    for batch in range(3):
        items = [
            {
                **event(subject, f"flood-{batch}-{i}", source=f"evil/{batch}-{i}"),
                "type": f"credit.evil.{batch}.{i}" if i % 2 else "credit.registration.submitted",
            }
            for i in range(10_000)
        ]
        response = client.post("/v1/events", json=items, headers=headers)
        assert response.status_code == 200
        assert {r["status"] for r in response.json()} == {"rejected"}
    after = client.get("/metrics").text
    assert len(after.encode()) < 50_000
    assert _series(after) == _series(before)
    assert "evil" not in after
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(after)
        for s in family.samples
    }
    flood = sum(
        v
        for (name, labels), v in samples.items()
        if name == "ledger_events_total" and ("agency", "other") in labels
    )
    assert flood >= 30_000


def _series(text: str) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    return {
        (s.name, tuple(sorted(s.labels.items())))
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if family.name.startswith(("ledger_events", "ledger_rejections"))
    }
