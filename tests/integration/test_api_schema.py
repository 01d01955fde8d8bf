"""Property-based tests of the API against its own OpenAPI document (schemathesis):
no 5xx, every status, content type, header and body as documented, auth enforced.

A SQLite ledger with a small demo (40 subjects); at most 20 examples per operation.
Requests carry an agency token for POST /v1/events and an auditor token for the
reads (schemathesis also drops them to check that auth is not ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    negative_data_rejection,
    positive_data_acceptance,
)

from api.models import CODE_FORMAT, INSTANT_FORMAT  # noqa: E402
from events.codes import complete_subject_code  # noqa: E402
from events.instants import CST  # noqa: E402
from tests.e2e.apphelpers import DemoApp, build_demo_app  # noqa: E402


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp: Path = tmp_path_factory.mktemp("api-schema")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}")
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def instants_in_range() -> st.SearchStrategy[str]:
    """Valid ``as_of``/``known_at``: dates and offset date-times within the accepted range."""
    days = st.dates(min_value=date(1949, 10, 2), max_value=date(2199, 12, 30))
    moments = st.datetimes(
        min_value=datetime(1949, 10, 2), max_value=datetime(2199, 12, 30), timezones=st.just(CST)
    )
    return days.map(date.isoformat) | moments.map(lambda m: m.isoformat())


@pytest.fixture(scope="module")
def api_schema(demo_app: DemoApp) -> Any:
    # Codes carry two check characters no JSON Schema can express: valid data for
    # the format is the demo's subjects and other well-formed codes (→ 200 or 404).
    region = st.sampled_from(["110000", "310000", "440300", "510100"])
    body = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8)
    fresh = st.builds(lambda r, b: complete_subject_code("91" + r + b), region, body)
    schemathesis.openapi.format(CODE_FORMAT, st.sampled_from(demo_app.subjects()) | fresh)
    schemathesis.openapi.format(INSTANT_FORMAT, instants_in_range())
    return schemathesis.openapi.from_asgi("/openapi.json", demo_app.app)


OPERATIONS = [
    ("POST", "/v1/events"),
    ("GET", "/v1/subjects/{code}/standing"),
    ("GET", "/v1/subjects/{code}/history"),
    ("GET", "/v1/subjects/{code}/disclosure"),
    ("GET", "/v1/subjects/{code}/audit-bundle"),
    ("GET", "/v1/lists/{list}"),
    ("GET", "/v1/checkpoints/latest"),
    ("GET", "/v1/checkpoints/consistency"),
    ("GET", "/v1/subjects"),
    ("GET", "/v1/subjects/{code}/requests"),
    ("GET", "/v1/records/{kind}/{region}/{id}"),
    ("GET", "/v1/public-key"),
    ("GET", "/v1/objections"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
]
ROLE_OF = {"/v1/objections": "objection-handler"}
"""The role each operation is driven with when it is not the default (agency for
POST, auditor for the reads)."""
# (schemathesis' own pytest loader, `from_fixture`, does not run on pytest 9 yet:
# the operations are listed here and each is driven through hypothesis directly.)


@pytest.mark.parametrize("mode", ["positive", "negative"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_api_conforms_to_its_openapi(
    api_schema: Any, demo_app: DemoApp, method: str, path: str, mode: str
) -> None:
    operation = api_schema[path][method]
    if mode == "negative" and not operation.definition.raw.get("parameters") and method == "GET":
        pytest.skip("no parameters to make invalid")
    role = ROLE_OF.get(path, "agency" if method == "POST" else "auditor")
    # An event valid by its schema may still be refused by the rules (references,
    # time in the future, another agency's source): 403/409/422 are the contract;
    # and an array answers 200 with per-event results even when all are refused.
    excluded = [positive_data_acceptance, negative_data_rejection] if method == "POST" else []
    if path == "/v1/checkpoints/consistency":
        excluded = [positive_data_acceptance]  # from > to is a 400 the schema cannot express
    names = {p.get("name") for p in operation.definition.raw.get("parameters", [])}
    if "cursor" in names:
        # a cursor is any string by its schema, but only one this server handed out for
        # the same query is accepted (400 invalid-cursor): no schema can express that
        excluded = [positive_data_acceptance]
    strategy = operation.as_strategy(generation_mode=GenerationMode(mode))

    @given(case=strategy)
    @settings(
        max_examples=20,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=demo_app.headers(role), excluded_checks=excluded)

    run()


def test_openapi_documents_every_endpoint(demo_app: DemoApp) -> None:
    document = demo_app.app.openapi()
    paths = document["paths"]
    expected = {
        ("post", "/v1/events"),
        ("get", "/v1/subjects/{code}/standing"),
        ("get", "/v1/subjects/{code}/history"),
        ("get", "/v1/subjects/{code}/disclosure"),
        ("get", "/v1/lists/{list}"),
        ("get", "/v1/subjects/{code}/audit-bundle"),
        ("get", "/v1/checkpoints/latest"),
        ("get", "/v1/checkpoints/consistency"),
        ("get", "/v1/subjects"),
        ("get", "/v1/subjects/{code}/requests"),
        ("get", "/v1/records/{kind}/{region}/{id}"),
        ("get", "/v1/public-key"),
        ("get", "/v1/objections"),
        ("get", "/healthz"),
        ("get", "/readyz"),
    }
    found = {(method, path) for path, item in paths.items() for method in item}
    assert expected <= found
    for method, path in expected:
        operation = paths[path][method]
        assert operation.get("summary"), (method, path)
        ok = operation["responses"].get("200") or operation["responses"].get("201")
        assert ok and "content" in ok, (method, path)
        for status, response in operation["responses"].items():
            if int(status) >= 400 and path.startswith("/v1"):
                assert "application/problem+json" in response["content"], (method, path, status)
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for name in ("CloudEvent", "EventResult", "Standing", "Disclosure", "History", "Problem"):
        assert "examples" in document["components"]["schemas"][name] or name in ("Disclosure",), (
            name
        )
