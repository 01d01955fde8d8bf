"""What the public, subjects and objection handlers do over HTTP (issue 18, items 5–7):
paging that returns every member exactly once, search totals, and the scenario of an
objection filed by a subject, resolved by a handler at its desk, seen by the subject
and by no other subject. SQLite ledger with a small demo (40 subjects)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.desk import form_key
from api.tokens import TokenStore
from events.codes import complete_subject_code
from tests.e2e.apphelpers import AGENCY, DemoApp, build_demo_app
from tests.scenarios.support import at, event, penalty

SUBJECT = complete_subject_code("91440300" + "PEPL0001")
OTHER = complete_subject_code("91440300" + "PEPL0002")


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    tmp: Path = tmp_path_factory.mktemp("api-people")
    built = build_demo_app(tmp, f"sqlite:///{tmp / 'ledger.db'}")
    store = TokenStore(tmp / "tokens.json")
    built.tokens["subject"] = store.add("subject", subject=SUBJECT)[0]
    built.tokens["other-subject"] = store.add("subject", subject=OTHER)[0]
    yield built
    built.ledger.recorder.datastore.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def client(demo_app: DemoApp) -> Iterator[TestClient]:
    # the lifespan runs the projection runner, so `wait=true` sees the lists caught up
    with TestClient(demo_app.app, raise_server_exceptions=False) as served:
        yield served


def visible(html: str) -> str:
    """The text a person reads (tags, attributes and scripts left out)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def assert_no_codes(html: str) -> None:
    """No event type and no kebab-case code in the page's own content (the layout
    around it, with the product's name, is the pages slice's and its browser tests')."""
    text = visible(html.split("<main", 1)[-1].split("</main>", 1)[0])
    assert not re.search(r"credit\.[a-z]+\.[a-z]+", text), text
    assert not re.findall(r"\b[a-z]+(?:-[a-z]+)+\b", text), re.findall(r"\b[a-z]+(?:-[a-z]+)+\b", text)


def walk(
    client: TestClient, url: str, key: str, headers: dict[str, str], limit: int, **query: str
) -> list[Any]:
    """Every item of a paged answer, following `next` to the end."""
    items: list[Any] = []
    params: dict[str, Any] = {"limit": limit, **query}
    totals = set()
    while True:
        response = client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body[key]) <= limit
        items.extend(body[key])
        totals.add(body["total"])
        if body["next"] is None:
            break
        params = {"limit": limit, "cursor": body["next"], **query}
    assert totals == {len(items)}
    return items


def test_a_list_of_260_members_pages_each_exactly_once(
    client: TestClient, demo_app: DemoApp
) -> None:
    events = []
    for n in range(260):
        code = complete_subject_code(f"91440300BAN{n:05d}")
        finding = penalty(code, "2025-03-03", AGENCY, "serious")
        ban = event(
            "credit.ban.imposed",
            code,
            at("2025-03-10"),
            {
                "sector": "food",
                "finding": finding["id"],
                "until": "2031-03-09",
                "basis": "《中华人民共和国食品安全法》第一百三十五条",
                "document": f"深市监禁〔2025〕{n}号",
            },
            AGENCY,
        )
        events += [finding, ban]
    response = client.post(
        "/v1/events", json=events, params={"wait": "true"}, headers=demo_app.headers("agency")
    )
    assert response.status_code == 200
    assert {r["status"] for r in response.json()} == {"recorded"}, response.json()[:2]
    everything = client.get("/v1/lists/bans", params={"limit": 1000}).json()
    assert everything["total"] >= 260 and everything["next"] is None
    members = walk(client, "/v1/lists/bans", "members", {}, 37)
    keys = [(m["subject"], m["event_id"]) for m in members]
    assert len(keys) == len(set(keys)) == everything["total"]
    assert keys == sorted(keys)
    assert everything["subjects"] == len({m["subject"] for m in members})
    page = client.get("/lists/bans")
    assert page.status_code == 200 and "/lists/bans?as_of=&amp;cursor=" in page.text


def test_the_trustworthy_list_pages_like_the_others(client: TestClient) -> None:
    everything = client.get("/v1/lists/trustworthy", params={"limit": 1000}).json()
    assert everything["next"] is None and everything["total"] == len(everything["members"])
    members = walk(client, "/v1/lists/trustworthy", "members", {}, 1)
    assert [m["subject"] for m in members] == [m["subject"] for m in everything["members"]]
    assert everything["subjects"] == len({m["subject"] for m in members})
    refused = client.get("/v1/lists/trustworthy", params={"limit": 0})
    assert refused.status_code == 400 and refused.json()["code"] == "limit-out-of-range"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": 0}, "limit-out-of-range"),
        ({"limit": 1001}, "limit-out-of-range"),
        ({"cursor": "not-a-cursor"}, "invalid-cursor"),
    ],
)
def test_paging_refusals_have_stable_codes(
    client: TestClient, params: dict[str, Any], code: str
) -> None:
    response = client.get("/v1/lists/bans", params=params)
    assert response.status_code == 400 and response.json()["code"] == code


def test_a_cursor_of_another_query_is_refused(client: TestClient) -> None:
    first = client.get("/v1/subjects", params={"q": "9", "limit": 1}).json()
    assert first["next"]
    other = client.get("/v1/lists/bans", params={"cursor": first["next"]})
    assert other.status_code == 400 and other.json()["code"] == "invalid-cursor"


def test_search_totals_match_the_index_and_the_pages(client: TestClient, demo_app: DemoApp) -> None:
    name = next(n for s in demo_app.subjects() if (n := demo_app.app.state.services.names.name(s)))
    query = name[:2]
    expected = demo_app.app.state.services.names.search(query, limit=None)
    found = walk(client, "/v1/subjects", "items", {}, 2, q=query)
    assert [h["subject"] for h in found] == [m.subject for m in expected]
    assert client.get("/v1/subjects").json()["code"] == "invalid-request"
    html = client.get("/search", params={"q": query}).text
    assert re.search(rf'class="count">{len(expected)}<', html)


def test_public_key_and_one_record(client: TestClient, demo_app: DemoApp) -> None:
    key = client.get("/v1/public-key").json()
    assert key["algorithm"] == "Ed25519" and len(key["public_key"]) == 44
    assert client.get("/v1/records/samr/440300/no-such-id").status_code == 404


def test_a_subject_files_an_objection_the_handler_resolves_it(
    client: TestClient, demo_app: DemoApp
) -> None:
    # the record: a penalty samr/440300 decided on SUBJECT (Location: readable by the agency)
    decided = dict(penalty(SUBJECT, "2026-09-01", AGENCY), id="people-penalty")
    response = client.post("/v1/events", json=decided, headers=demo_app.headers("agency"))
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location == "/v1/records/samr/440300/people-penalty"
    read = client.get(location, headers=demo_app.headers("agency"))
    assert read.status_code == 200 and read.json()["record"]["id"] == "people-penalty"
    client.post(
        "/v1/events",
        json=dict(penalty(OTHER, "2026-09-01", AGENCY), id="people-other"),
        headers=demo_app.headers("agency"),
    )

    # the subject files an objection over the API (only as itself, only its own code)
    objection = event(
        "credit.objection.filed",
        SUBJECT,
        at("2026-11-02"),
        {"target": "people-penalty", "grounds": "罚款金额有误"},
        f"subject/{SUBJECT}",
        id="people-objection",
    )
    subject = demo_app.headers("subject")
    filed = client.post("/v1/events", json=objection, headers=subject)
    assert filed.status_code == 201, filed.text
    assert client.get(filed.headers["location"], headers=subject).status_code == 200
    as_other = dict(objection, id="people-forged", subject=OTHER)
    forged = client.post("/v1/events", json=as_other, headers=subject)
    assert forged.status_code == 403 and forged.json()["code"] == "not-own-subject"
    resolve_self = event(
        "credit.objection.resolved",
        SUBJECT,
        at("2026-11-02"),
        {"objection": "people-objection", "outcome": "upheld", "reasons": "x"},
        f"subject/{SUBJECT}",
    )
    refused = client.post("/v1/events", json=resolve_self, headers=subject)
    assert refused.status_code == 403 and refused.json()["code"] == "type-not-allowed"

    # it is in progress: accepted, being verified, with its deadlines
    mine = client.get(f"/v1/subjects/{SUBJECT}/requests", headers=subject).json()["items"]
    (request,) = [r for r in mine if r["id"] == "people-objection"]
    assert request["stage"] == "verifying" and request["decide_by"] and request["flag_by"]
    assert [s["done"] for s in request["steps"]] == [True, False, False]

    # the handler sees it in the queue, with the record as it stood, and resolves it
    handler = demo_app.headers("objection-handler")
    queue = client.get("/v1/objections", params={"mine": "true"}, headers=handler).json()
    (item,) = [i for i in queue["items"] if i["id"] == "people-objection"]
    assert item["may_resolve"] and item["target_record"]["data"]["amount"] == "50000.00"
    token = demo_app.tokens["objection-handler"]
    client.cookies.set("ledger_token", token)
    try:
        desk = client.get("/objections")
        assert desk.status_code == 200 and 'data-objection="people-objection"' in desk.text
        assert_no_codes(desk.text)
        stale = client.post(
            "/objections/resolve",
            data={"form_key": "wrong", "subject": SUBJECT, "objection": "people-objection"},
        )
        assert stale.status_code == 403
        done = client.post(
            "/objections/resolve",
            data={
                "form_key": form_key(token),
                "subject": SUBJECT,
                "objection": "people-objection",
                "outcome": "upheld",
                "action": "correct",
                "changes": "amount=5000.00",
                "reasons": "经核实，罚款金额应为五千元",
            },
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
    finally:
        client.cookies.clear()
    queue = client.get("/v1/objections", headers=handler).json()
    assert "people-objection" not in {i["id"] for i in queue["items"]}

    # the subject sees the outcome, over the API and on its page
    mine = client.get(f"/v1/subjects/{SUBJECT}/requests", headers=subject).json()["items"]
    (request,) = [r for r in mine if r["id"] == "people-objection"]
    assert request["stage"] == "decided" and request["outcome"] == "upheld"
    assert request["reasons"] == "经核实，罚款金额应为五千元"
    assert [s["done"] for s in request["steps"]] == [True, True, True]
    history = client.get(f"/v1/subjects/{SUBJECT}/history", headers=subject).json()
    assert any(e["type"] == "credit.record.corrected" for e in history["events"])
    client.cookies.set("ledger_token", demo_app.tokens["subject"])
    try:
        page = client.get("/mine")
        assert page.status_code == 200 and 'data-request="people-objection"' in page.text
        assert "异议成立" in page.text and "决定" in page.text
        assert_no_codes(page.text)
    finally:
        client.cookies.clear()

    # another subject's token sees nothing of it
    other = demo_app.headers("other-subject")
    for url in (
        f"/v1/subjects/{SUBJECT}/requests",
        f"/v1/subjects/{SUBJECT}/history",
        f"/v1/subjects/{SUBJECT}/standing",
    ):
        response = client.get(url, headers=other)
        assert response.status_code == 403 and response.json()["code"] == "not-own-subject"
    hidden = client.get(f"/v1/records/subject/{SUBJECT}/people-objection", headers=other)
    assert hidden.status_code == 404
    assert client.get("/v1/objections", headers=other).status_code == 403
    theirs = client.get(f"/v1/subjects/{OTHER}/requests", headers=other).json()
    assert theirs["items"] == []
    disclosure = client.get(f"/v1/subjects/{SUBJECT}/disclosure", headers=other).json()
    assert "people-objection" not in str(disclosure)
    client.cookies.set("ledger_token", demo_app.tokens["other-subject"])
    try:
        page = client.get("/mine")
        assert page.status_code == 200 and "people-objection" not in page.text
    finally:
        client.cookies.clear()


def test_a_subject_requests_repair_and_makes_a_commitment_on_its_page(
    client: TestClient, demo_app: DemoApp
) -> None:
    token = demo_app.tokens["other-subject"]
    client.cookies.set("ledger_token", token)
    try:
        made = client.post(
            "/mine/file",
            data={
                "form_key": form_key(token),
                "kind": "commitment",
                "commitment_type": "voluntary",
                "matter": "按时足额缴纳税款",
            },
            follow_redirects=False,
        )
        assert made.status_code == 303, made.text
        page = client.get(made.headers["location"])
        assert page.status_code == 200 and "已提交" in page.text
    finally:
        client.cookies.clear()
    history = client.get(f"/v1/subjects/{OTHER}/history", headers=demo_app.headers("other-subject"))
    assert any(e["type"] == "credit.commitment.made" for e in history.json()["events"])


RELISTED = complete_subject_code("91440300" + "RELXT001")


def test_a_subject_listed_removed_and_listed_again_counts_once(
    client: TestClient, demo_app: DemoApp
) -> None:
    """The issue saw "32 members for 30 subjects": a subject designated, removed and
    designated again is one member of the list and one subject, on the API and the page."""
    ndrc = TokenStore(demo_app.tmp / "tokens.json").add("agency", agency="ndrc/440300")[0]
    as_ndrc = {"Authorization": f"Bearer {ndrc}"}
    basis = {"basis": "《市场监督管理严重违法失信名单管理办法》第二条", "document": "深发改信〔2025〕1号"}
    violation = event(
        "credit.violation.recorded",
        RELISTED,
        at("2025-01-06"),
        {"behaviour": "food-safety-dishonesty", "severity": "serious", "sector": "food", **basis},
        AGENCY,
        id="relist-violation",
    )
    interview = event(
        "credit.interview.held",
        RELISTED,
        at("2025-01-08"),
        {"finding": "relist-violation", "kind": "warning"},
        AGENCY,
    )
    sent = client.post("/v1/events", json=[violation, interview], headers=demo_app.headers("agency"))
    assert {r["status"] for r in sent.json()} == {"recorded"}, sent.text

    def proposal(day: str, id: str) -> dict[str, Any]:
        data = {
            "list": "serious-dishonesty",
            "finding": "relist-violation",
            "planned_end": "2028-01-19",
            **basis,
        }
        return event("credit.list.proposed", RELISTED, at(day), data, "ndrc/440300", id=id)

    def designation(day: str, proposal_id: str, id: str) -> dict[str, Any]:
        data = {"proposal": proposal_id, **basis}
        return event("credit.list.designated", RELISTED, at(day), data, "ndrc/440300", id=id)

    steps = [
        proposal("2025-01-20", "relist-proposal-1"),
        designation("2025-02-10", "relist-proposal-1", "relist-designation-1"),
        event(
            "credit.list.removed",
            RELISTED,
            at("2025-03-10"),
            {"designation": "relist-designation-1", "reason": "revoked"},
            "ndrc/440300",
        ),
        proposal("2025-04-01", "relist-proposal-2"),
        designation("2025-04-21", "relist-proposal-2", "relist-designation-2"),
    ]
    sent = client.post("/v1/events", json=steps, params={"wait": "true"}, headers=as_ndrc)
    assert sent.status_code == 200 and {r["status"] for r in sent.json()} == {"recorded"}, sent.text

    for role in ("public", "auditor"):
        body = client.get(
            "/v1/lists/serious-dishonesty", params={"limit": 1000}, headers=demo_app.headers(role)
        ).json()
        mine = [m for m in body["members"] if m["subject"] == RELISTED]
        assert [m["event_id"] for m in mine] == ["relist-designation-2"], (role, mine)
        assert body["subjects"] == len({m["subject"] for m in body["members"]})
        assert body["count"] == body["total"] == len(body["members"])
    for as_of, listed in (("2025-02-20", "relist-designation-1"), ("2025-03-20", None)):
        then = client.get(
            "/v1/lists/serious-dishonesty",
            params={"as_of": as_of, "limit": 1000},
            headers=demo_app.headers("auditor"),
        ).json()
        ids = [m["event_id"] for m in then["members"] if m["subject"] == RELISTED]
        assert ids == ([listed] if listed else []), (as_of, ids)
    page = client.get("/lists/serious-dishonesty")
    count = re.search(r'<span class="count">(\d+)</span>', page.text)
    assert count is not None and int(count.group(1)) == body["subjects"]
    assert page.text.count(f'data-subject="{RELISTED}"') == 1
