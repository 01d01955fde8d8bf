"""The server-rendered pages and the health probes, in process (no browser)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.auth import COOKIE
from tests.e2e.apphelpers import DemoApp, build_demo_app


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp: Path = tmp_path_factory.mktemp("api-pages")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}", subjects=12)
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


@pytest.fixture
def client(demo_app: DemoApp) -> TestClient:
    return TestClient(demo_app.app, raise_server_exceptions=False, follow_redirects=False)


def test_health_probes(client: TestClient, demo_app: DemoApp) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"


def test_search_by_name_and_by_code(client: TestClient, demo_app: DemoApp) -> None:
    code = demo_app.subjects()[0]
    name = demo_app.app.state.services.names.name(code)
    assert name
    by_name = client.get("/search", params={"q": name[2:6]})
    assert by_name.status_code == 200 and code in by_name.text
    by_code = client.get("/search", params={"q": code})
    assert by_code.status_code == 303 and by_code.headers["location"] == f"/subjects/{code}"
    nothing = client.get("/search", params={"q": "不存在的公司"})
    assert "未找到" in nothing.text


def test_subject_page(client: TestClient, demo_app: DemoApp) -> None:
    code = demo_app.subjects()[0]
    page = client.get(f"/subjects/{code}")
    assert page.status_code == 200
    for label in ("行政处罚", "失信名单", "信用承诺", code):
        assert label in page.text
    assert client.get("/subjects/91110000600037341L").status_code == 404
    assert client.get("/subjects/nonsense").status_code == 400
    assert client.get(f"/subjects/{code}", params={"as_of": "2024-01-01"}).status_code == 200


def test_login_and_the_timeline(client: TestClient, demo_app: DemoApp) -> None:
    code = demo_app.subjects()[0]
    anonymous = client.get(f"/audit/subjects/{code}")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    bad = client.post("/login", data={"token": "clt_nope", "next": "/"})
    assert bad.status_code == 401
    ok = client.post(
        "/login", data={"token": demo_app.tokens["auditor"], "next": f"/audit/subjects/{code}"}
    )
    assert ok.status_code == 303 and COOKIE in ok.headers["set-cookie"]
    assert "httponly" in ok.headers["set-cookie"].lower()
    client.cookies.set(COOKIE, demo_app.tokens["auditor"])
    timeline = client.get(f"/audit/subjects/{code}")
    assert timeline.status_code == 200 and 'id="moment"' in timeline.text
    client.cookies.set(COOKIE, demo_app.tokens["agency"])
    agency = client.get(f"/audit/subjects/{code}")
    assert agency.status_code == 403
    # the cookie authenticates reads only, never a submission
    post = client.post("/v1/events", json={})
    assert post.status_code == 401
    client.cookies.clear()
    offsite = client.post("/login", data={"token": demo_app.tokens["auditor"], "next": "//evil"})
    assert offsite.headers["location"] == "/"


def test_every_problem_type_has_a_page(client: TestClient) -> None:
    from events.reasons import Reason

    for reason in Reason:
        page = client.get(f"/problems/{reason.value}")
        assert page.status_code == 200, reason
    assert client.get("/problems/no-such-code").status_code == 404


def test_list_pages(client: TestClient) -> None:
    for name in ("serious-dishonesty", "focus", "bans"):
        page = client.get(f"/lists/{name}")
        assert page.status_code == 200 and "名单成员" in page.text
    assert (
        client.get("/lists/serious-dishonesty", params={"as_of": "2025-06-30"}).status_code == 200
    )
    assert client.get("/lists/nothing").status_code == 404


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_browser_gets_error_pages_and_a_client_problem_json(client: TestClient) -> None:
    """An unknown path or a refused request answers a Chinese page when the request
    accepts text/html first, and RFC 9457 problem JSON otherwise (same status)."""
    page = client.get("/no/such/page", headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "页面不存在" in page.text and 'href="/problems/not-found"' in page.text
    for accept in ("application/json", "*/*", "application/json, text/html"):
        problem = client.get("/no/such/page", headers={"Accept": accept})
        assert problem.status_code == 404
        assert problem.headers["content-type"] == "application/problem+json"
        assert problem.json()["code"] == "not-found"
    refused = client.get(
        "/v1/subjects/91110000600037341L/history", headers={"Accept": BROWSER_ACCEPT}
    )
    assert refused.status_code == 401 and "请先登录" in refused.text
    assert "/login?next=" in refused.text
    assert refused.headers.get("www-authenticate")
    assert client.get("/v1/subjects/91110000600037341L/history").json()["code"] == (
        "unauthenticated"
    )


@pytest.mark.parametrize("authorization", ["Bearer no-such-token", "Basic dXNlcjpwdw=="])
@pytest.mark.parametrize(
    ("path", "status", "title"), [("/", 401, "请先登录"), ("/no/such/page", 404, "页面不存在")]
)
def test_a_browser_with_bad_credentials_gets_an_error_page(
    client: TestClient, authorization: str, path: str, status: int, title: str
) -> None:
    """Bad credentials from a browser answer the page of the request's own error (the
    401, or the 404 of a path that asks for none): the error page must not fail again
    on the same credentials while it names who is signed in."""
    page = client.get(path, headers={"Accept": BROWSER_ACCEPT, "Authorization": authorization})
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html")
    assert title in page.text


def test_redoc_is_served_from_this_machine(client: TestClient) -> None:
    page = client.get("/redoc")
    assert page.status_code == 200
    assert "/static/vendor/redoc/redoc.standalone.js" in page.text
    assert "fonts.googleapis.com" not in page.text and "cdn." not in page.text
    assert client.get("/static/vendor/redoc/redoc.standalone.js").status_code == 200
