"""A fuzz run over the whole API (issue 16): schemathesis draws requests from the
app's own OpenAPI document — valid ones and deliberately invalid ones — for every
operation and every role, plus raw requests to ``POST /v1/events`` with arbitrary
media types and bytes. At least 5,000 requests; none may answer 5xx, and every
error must be an RFC 9457 problem (``application/problem+json`` with ``type``,
``title``, ``status`` equal to the HTTP status, ``detail`` and a stable reason
``code``).

Query instants get their own run (:func:`fuzz_instants`) over any date-time and
offset RFC 3339 can write (years 1–9999, ``+23:59`` offsets), garbage included, on
every endpoint that takes them: outside 1949-10-01 … 2199-12-31 they are 400
``date-out-of-range`` problems (issue 16, items 1 and 6).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402

from api.models import CODE_FORMAT  # noqa: E402
from events.codes import complete_subject_code  # noqa: E402
from events.reasons import Reason  # noqa: E402
from tests.e2e.apphelpers import DemoApp, build_demo_app  # noqa: E402

MIN_REQUESTS = 5_000
EXAMPLES = 300
"""Examples per operation and generation mode (those without parameters have no
negative mode; the total is checked against MIN_REQUESTS)."""
WHOLE_INSTANT_RANGE = True
"""True: query instants over every year RFC 3339 can write, not only the range admitted."""
ROLES = ["public", "agency", "auditor", "objection-handler", "bogus"]
REASONS = frozenset(str(r) for r in Reason)


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp: Path = tmp_path_factory.mktemp("api-fuzz")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}", subjects=30)
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def api_schema(demo_app: DemoApp) -> Any:
    region = st.sampled_from(["110000", "310000", "440300", "510100"])
    body = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8)
    fresh = st.builds(lambda r, b: complete_subject_code("91" + r + b), region, body)
    schemathesis.openapi.format(CODE_FORMAT, st.sampled_from(demo_app.subjects()) | fresh)
    return schemathesis.openapi.from_asgi("/openapi.json", demo_app.app)


def _headers(demo_app: DemoApp, role: str) -> dict[str, str]:
    if role == "bogus":
        return {"Authorization": "Bearer clt_not-a-token"}
    return demo_app.headers(role)


def assert_no_5xx_and_problems(status: int, headers: Any, body: bytes, what: str) -> None:
    """The response contract of the fuzz run (``headers``: a mapping to a value or a
    list of values)."""
    assert status < 500, f"{what}: {status} {body[:500]!r}"
    if status < 400 or not what.split()[-1].startswith("/v1"):
        return
    import orjson

    media = headers.get("content-type")
    media = media[0] if isinstance(media, list) else media
    assert media == "application/problem+json", (what, status, body[:200])
    problem = orjson.loads(body)
    assert problem["status"] == status, (what, problem)
    assert problem["code"] in REASONS, (what, problem)
    assert problem["type"] == f"/problems/{problem['code']}", (what, problem)
    assert isinstance(problem["title"], str) and isinstance(problem["detail"], str), problem


def _operations(api_schema: Any) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, item in api_schema.raw_schema["paths"].items()
        for method in item
    ]


@pytest.mark.slow
def test_fuzz_the_whole_api(api_schema: Any, demo_app: DemoApp) -> None:
    """Every part of the run, then the count: one test, so that it stays in one process
    under pytest-xdist."""
    tally: Counter[str] = Counter()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        fuzz_operations(api_schema, demo_app, tally, mode)
    fuzz_the_event_door(demo_app, tally)
    fuzz_instants(demo_app, tally)
    fuzz_pages(demo_app, tally)
    print(f"fuzz: {sum(tally.values())} requests", dict(tally))
    assert sum(tally.values()) >= MIN_REQUESTS, tally


def fuzz_operations(api_schema: Any, demo_app: DemoApp, tally: Counter[str], mode: Any) -> None:
    """Every operation of the OpenAPI document, valid (positive) or invalid (negative)
    requests, with every role."""
    for method, path in _operations(api_schema):
        operation = api_schema[path][method]
        no_parameters = not operation.definition.raw.get("parameters")
        if mode is GenerationMode.NEGATIVE and method == "GET" and no_parameters:
            continue  # nothing to make invalid
        _fuzz(operation, f"{method} {path}", mode, demo_app, tally)


def _fuzz(operation: Any, what: str, mode: Any, demo_app: DemoApp, tally: Counter[str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode), role=st.sampled_from(ROLES))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any, role: str) -> None:
        response = case.call(headers=_headers(demo_app, role))
        tally[what] += 1
        assert_no_5xx_and_problems(response.status_code, response.headers, response.content, what)

    run()


MEDIA = st.sampled_from(
    [None, "", "application/json", "application/cloudevents-batch+json", "application/jsonl",
     "application/x-ndjson", "text/plain", "application/json; charset=latin-1",
     "multipart/form-data", "application/xml", "*/*", "application/json\x00"]
)  # fmt: skip
BODIES = st.one_of(
    st.binary(max_size=512),
    st.text(max_size=256).map(str.encode),
    st.sampled_from([b"[]", b"{}", b"null", b"[1]", b"\n\n", b"[" * 5000, b'{"a":' * 1000]),
)


def fuzz_the_event_door(demo_app: DemoApp, tally: Counter[str]) -> None:
    """Raw bodies under arbitrary media types, with every role."""
    from fastapi.testclient import TestClient

    client = TestClient(demo_app.app, raise_server_exceptions=False)

    @given(media=MEDIA, body=BODIES, role=st.sampled_from(ROLES))
    @settings(
        max_examples=EXAMPLES * 2,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(media: str | None, body: bytes, role: str) -> None:
        headers = _headers(demo_app, role)
        if media is not None:
            headers["content-type"] = media
        response = client.post("/v1/events", content=body, headers=headers)
        tally["POST /v1/events (raw)"] += 1
        assert_no_5xx_and_problems(
            response.status_code, response.headers, response.content, "POST /v1/events"
        )

    run()


OFFSETS = st.sampled_from(["Z", "+08:00", "-00:00", "+23:59", "-23:59", "+14:00", "-12:00"])


def _instants() -> st.SearchStrategy[str]:
    low, high = (
        (datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59))
        if WHOLE_INSTANT_RANGE
        else (datetime(1949, 10, 2), datetime(2199, 12, 30))
    )
    moments = st.datetimes(min_value=low, max_value=high) | st.sampled_from([low, high])
    return st.one_of(
        st.builds(lambda m, o: m.isoformat() + o, moments, OFFSETS),
        st.builds(lambda m, o: m.isoformat(timespec="seconds") + o, moments, OFFSETS),
        moments.map(lambda m: m.date().isoformat()),
        moments.map(lambda m: m.isoformat()),  # no offset: refused
        st.text(max_size=40),
        st.sampled_from(["", "now", "2026-02-30", "2026-13-01", "2026-01-01T25:00:00Z",
                         "2026-01-01T00:00:00+24:00", "2026-01-01 00:00:00Z", "1e9"]),
    )  # fmt: skip


def fuzz_instants(demo_app: DemoApp, tally: Counter[str]) -> None:
    """``as_of`` / ``known_at`` on every endpoint (API and pages) that takes them."""
    from fastapi.testclient import TestClient

    client = TestClient(demo_app.app, raise_server_exceptions=False, follow_redirects=False)
    code = demo_app.subjects()[0]
    endpoints = [
        f"/v1/subjects/{code}/standing",
        f"/v1/subjects/{code}/history",
        f"/v1/subjects/{code}/disclosure",
        "/v1/lists/serious-dishonesty",
        "/v1/lists/bans",
        "/v1/lists/trustworthy",
        f"/subjects/{code}",
        "/lists/focus",
        "/lists/trustworthy",
        f"/audit/subjects/{code}",
    ]

    @given(
        endpoint=st.sampled_from(endpoints),
        params=st.dictionaries(st.sampled_from(["as_of", "known_at"]), _instants(), min_size=1),
        role=st.sampled_from(ROLES),
    )
    @settings(
        max_examples=EXAMPLES * 2,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(endpoint: str, params: dict[str, str], role: str) -> None:
        response = client.get(endpoint, params=params, headers=_headers(demo_app, role))
        tally["GET instants"] += 1
        assert_no_5xx_and_problems(
            response.status_code, response.headers, response.content, f"GET {endpoint}"
        )

    run()


def fuzz_pages(demo_app: DemoApp, tally: Counter[str]) -> None:
    """The HTML pages with arbitrary path segments, queries and login forms: no 5xx."""
    from fastapi.testclient import TestClient

    client = TestClient(demo_app.app, raise_server_exceptions=False, follow_redirects=False)
    segment = st.text(max_size=30).map(lambda t: quote(t, safe=""))
    requests = st.one_of(
        st.builds(lambda q: ("GET", "/search", {"q": q}, None), st.text(max_size=40)),
        st.builds(lambda c: ("GET", f"/subjects/{c}", {}, None), segment),
        st.builds(lambda c: ("GET", f"/audit/subjects/{c}", {}, None), segment),
        st.builds(lambda c: ("GET", f"/lists/{c}", {}, None), segment),
        st.builds(lambda c: ("GET", f"/problems/{c}", {}, None), segment),
        st.builds(lambda n: ("GET", "/login", {"next": n}, None), st.text(max_size=40)),
        st.builds(lambda b: ("POST", "/login", {}, b), st.binary(max_size=300)),
        st.builds(lambda c: ("GET", f"/v1/{c}", {}, None), segment),
        st.builds(lambda c: ("DELETE", f"/v1/subjects/{c}/standing", {}, None), segment),
    )

    @given(request=requests, role=st.sampled_from(ROLES))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(request: tuple[str, str, dict[str, str], bytes | None], role: str) -> None:
        method, path, params, body = request
        response = client.request(
            method, path, params=params, content=body, headers=_headers(demo_app, role)
        )
        tally["pages"] += 1
        assert_no_5xx_and_problems(
            response.status_code, response.headers, response.content, f"{method} {path}"
        )

    run()
