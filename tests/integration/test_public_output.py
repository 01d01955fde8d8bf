"""What the public sees (DOMAIN.md "What the public sees", Clarifications "Public
output"): a subject with repaired, expired, withdrawn and revoked penalties and an
expired listing. No public answer — every anonymous API route for the subject,
the public subject, search and list pages, the disclosure change feed — carries
any of those records' document numbers, amounts or event ids (the feed's removal
messages carry the id alone), at any ``as_of``; the auditor's answers carry all of
them, marked with why and when publication ended; corrections show the corrected
value marked 已更正; a withdrawn or revoked decision leaves only its notice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.access_log import AccessLog
from api.app import create_app
from api.tokens import TokenStore
from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
from events.instants import parse_instant
from ledger.app import Ledger
from ledger.audit.keys import load_or_create_key
from projections.feed import DisclosureFeed
from projections.runner import ProjectionRunner
from services.deadlines import tick
from tests.scenarios.support import at, event, recorded

SUBJECT = "91440300708461136T"
NAME = "深圳示例公示测试有限公司"
SAMR = "samr/440300"
NDRC = "ndrc/440300"
PLATFORM = "credit-platform/440300"
NOW = parse_instant("2026-12-06T12:00:00+08:00")
"""The ledger's clock in this story (everything is recorded then)."""


def fine(ident: str, day: str, amount: str, document: str, severity: str = "general") -> dict[str, Any]:
    return event(
        "credit.penalty.decided",
        SUBJECT,
        at(day),
        {
            "kinds": ["fine"],
            "amount": amount,
            "procedure": "ordinary",
            "severity": severity,
            "sector": "food",
            "basis": "《中华人民共和国食品安全法》第一百二十四条",
            "document": document,
        },
        SAMR,
        ident,
    )


@dataclass(frozen=True)
class Ended:
    """A record whose publication ended: what must never reach the public."""

    event_id: str
    why: str
    secrets: tuple[str, ...]


@dataclass
class Story:
    ledger: Ledger
    client: TestClient
    tokens: dict[str, str]
    ended: list[Ended]
    shown: dict[str, str]
    """event id → a value the public must see (published now)."""

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role in self.tokens else {}


def record_story(ledger: Ledger) -> tuple[list[Ended], dict[str, str]]:
    """The subject's records (recorded now, dated in the past); returns the ended
    records and the published ones."""
    ended: list[Ended] = []
    # a serious violation, published now, the ground of a listing that expired
    recorded(
        ledger,
        event(
            "credit.violation.recorded",
            SUBJECT,
            at("2024-05-06"),
            {
                "behaviour": "food-safety-dishonesty",
                "severity": "serious",
                "sector": "food",
                "basis": "《中华人民共和国食品安全法》第一百二十三条",
                "document": "深市监违〔2024〕VIOL-KEEP号",
                "subject_name": NAME,
            },
            SAMR,
            "pub-violation-kept",
        ),
        event(
            "credit.list.proposed",
            SUBJECT,
            at("2024-05-20"),
            {
                "list": "serious-dishonesty",
                "finding": "pub-violation-kept",
                "planned_end": "2025-05-19",
                "basis": "《失信行为纠正后的信用信息修复管理办法》",
                "document": "深发改信〔2024〕LIST-PROPOSAL号",
            },
            NDRC,
            "pub-listing-proposal",
        ),
        event(
            "credit.list.designated",
            SUBJECT,
            at("2024-06-05"),
            {
                "proposal": "pub-listing-proposal",
                "basis": "《失信行为纠正后的信用信息修复管理办法》",
                "document": "深发改信〔2024〕LIST-GONE号",
            },
            NDRC,
            "pub-listing-expired",
        ),
    )
    ended.append(Ended("pub-listing-expired", "expired", ("深发改信〔2024〕LIST-GONE号",)))

    # expired: Order 58, general, at most 3 years → ended 2026-06-01
    recorded(ledger, fine("pub-fine-expired", "2023-06-01", "31313.00", "深市监罚〔2023〕EXPIRED号"))
    ended.append(Ended("pub-fine-expired", "expired", ("31313.00", "深市监罚〔2023〕EXPIRED号")))

    # repaired after the minimum period
    recorded(
        ledger,
        fine("pub-fine-repaired", "2025-02-10", "42424.00", "深市监罚〔2025〕REPAIRED号"),
        event(
            "credit.rectification.ordered",
            SUBJECT,
            at("2025-02-11"),
            {"finding": "pub-fine-repaired", "deadline": "2025-03-31"},
            SAMR,
            "pub-rect-order",
        ),
        event(
            "credit.rectification.completed",
            SUBJECT,
            at("2025-03-20"),
            {"rectification": "pub-rect-order"},
            SAMR,
        ),
        event(
            "credit.commitment.made",
            SUBJECT,
            at("2025-05-09"),
            {"commitment_type": "repair", "matter": "信用修复承诺书", "due": None},
            PLATFORM,
        ),
        event(
            "credit.repair.requested",
            SUBJECT,
            at("2025-05-12"),
            {"target": "pub-fine-repaired", "methods": ["commitment", "rectification"]},
            PLATFORM,
            "pub-repair-request",
        ),
        event(
            "credit.repair.approved",
            SUBJECT,
            at("2025-05-20"),
            {"request": "pub-repair-request", "reasons": "已纠正失信行为并作出信用修复承诺"},
            PLATFORM,
        ),
    )
    ended.append(Ended("pub-fine-repaired", "repaired", ("42424.00", "深市监罚〔2025〕REPAIRED号")))

    # withdrawn and revoked long ago (their notice period is over) and recently
    for ident, day, amount, end_day, how, end_id in (
        ("pub-fine-withdrawn-old", "2025-03-01", "53535.00", "2025-04-01", "withdrawn", "pub-end-wo"),
        ("pub-fine-revoked-old", "2025-03-05", "64646.00", "2025-04-02", "revoked", "pub-end-ro"),
        ("pub-fine-withdrawn-new", "2026-10-01", "75757.00", "2026-11-20", "withdrawn", "pub-end-wn"),
        ("pub-fine-revoked-new", "2026-10-05", "86868.00", "2026-11-21", "revoked", "pub-end-rn"),
    ):
        document = f"深市监罚〔2025〕{ident.upper()}号"
        if how == "withdrawn":
            end = event(
                "credit.penalty.withdrawn",
                SUBJECT,
                at(end_day),
                {"penalty": ident, "reason": "行政复议决定撤销原处罚决定"},
                SAMR,
                end_id,
            )
        else:
            end = event(
                "credit.record.revoked",
                SUBJECT,
                at(end_day),
                {"target": ident, "reason": "处罚决定被依法确认无效"},
                SAMR,
                end_id,
            )
        recorded(ledger, fine(ident, day, amount, document), end)
        ended.append(Ended(ident, how, (amount, document)))

    # published now, and one corrected (the old amount is never public)
    recorded(
        ledger,
        fine("pub-fine-current", "2026-06-01", "97979.00", "深市监罚〔2026〕CURRENT号"),
        fine("pub-fine-corrected", "2026-07-01", "55555.00", "深市监罚〔2026〕CORRECTED号"),
        event(
            "credit.record.corrected",
            SUBJECT,
            at("2026-07-10"),
            {"target": "pub-fine-corrected", "changes": {"amount": "4444.00"}},
            SAMR,
        ),
    )
    ended.append(Ended("pub-fine-corrected", "", ("55555.00",)))  # only the old amount
    report = tick(ledger)
    assert [e.designation for e in report.expiries] == ["pub-listing-expired"]
    shown = {
        "pub-fine-current": "深市监罚〔2026〕CURRENT号",
        "pub-fine-corrected": "4444.00",
        "pub-violation-kept": "深市监违〔2024〕VIOL-KEEP号",
        "pub-end-wn": "行政复议决定撤销原处罚决定",
        "pub-end-rn": "处罚决定被依法确认无效",
    }
    return ended, shown


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh store of each kind for the module (the views differ per backend)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('public-sqlite') / 'ledger.db'}"
        return
    base: str = request.getfixturevalue("postgres_base")
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{base}?schema={schema}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Story]:
    tmp: Path = tmp_path_factory.mktemp("public-output")
    settings = Settings(
        database_url=database_url,
        tokens_file=tmp / "tokens.json",
        signing_key_file=tmp / "signing.key",
        person_secret_file=tmp / "person.key",
    )
    ledger = bootstrap(settings, clock=lambda: NOW)
    ended, shown = record_story(ledger)
    store = TokenStore(settings.tokens_file)
    tokens = {
        "auditor": store.add("auditor", name="auditor-1")[0],
        "objection-handler": store.add("objection-handler", name="handler-1")[0],
        "responsible": store.add("agency", agency=SAMR, name="samr-shenzhen")[0],
        "other-agency": store.add("agency", agency="tax/440300", name="tax-shenzhen")[0],
    }
    assert ledger.rules is not None
    runner = ProjectionRunner(ledger.recorder, ledger.rules)
    runner.catch_up()
    app = create_app(
        ledger,
        tokens=store,
        access_log=AccessLog(tmp / "access-log.jsonl", ledger.clock),
        runner=runner,
        signing_key=load_or_create_key(settings.signing_key_file),
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Story(ledger, client, tokens, ended, shown)
    ledger.recorder.datastore.close()  # type: ignore[attr-defined]


AS_OF = (
    "2023-07-01",
    "2024-12-01",
    "2025-03-15",
    "2025-04-01T18:00:00+08:00",
    "2025-05-01",
    "2025-06-01",
    "2026-10-10",
    "2026-11-25",
)


def public_answers(story: Story, headers: dict[str, str] | None = None) -> dict[str, str]:
    """Every public answer about the subject (URL → body text), read with
    ``headers`` (none: anonymous)."""
    client, h = story.client, headers or {}
    urls = [f"/v1/subjects/{SUBJECT}/disclosure"]
    urls += [f"/v1/subjects/{SUBJECT}/disclosure?as_of={d.replace('+', '%2B')}" for d in AS_OF]
    urls += [
        f"/v1/subjects/{SUBJECT}/disclosure?as_of=2025-03-15&known_at=2026-12-06T12:30:00%2B08:00",
        f"/v1/subjects/{SUBJECT}/standing",
        f"/v1/subjects/{SUBJECT}/history",
        f"/v1/subjects/{SUBJECT}/audit-bundle",
    ]
    for name in ("serious-dishonesty", "focus", "bans"):
        urls.append(f"/v1/lists/{name}")
        urls += [f"/v1/lists/{name}?as_of={d.replace('+', '%2B')}" for d in AS_OF]
        urls.append(f"/lists/{name}")
        urls += [f"/lists/{name}?as_of={d[:10]}" for d in AS_OF]
    urls += [f"/subjects/{SUBJECT}", f"/search?q={SUBJECT}", f"/search?q={NAME[:4]}", "/"]
    urls += [f"/subjects/{SUBJECT}?as_of={d[:10]}" for d in AS_OF]
    answers = {}
    for url in urls:
        response = client.get(url, headers=h)
        assert response.status_code in (200, 401, 403), (url, response.text)
        answers[url] = response.text
    return answers


def test_no_public_answer_carries_an_ended_record(story: Story) -> None:
    answers = public_answers(story)
    for url, text in answers.items():
        for record in story.ended:
            for secret in (*record.secrets, *([record.event_id] if record.why else [])):
                assert secret not in text, (url, record.event_id, secret)
    # what is published now is there (the filter is not simply "nothing")
    now = answers[f"/v1/subjects/{SUBJECT}/disclosure"]
    page = answers[f"/subjects/{SUBJECT}"]
    for event_id, value in story.shown.items():
        assert event_id in now and value in now, event_id
        assert value in page, event_id
    assert "已更正" in now and "已更正" in page


def test_at_past_instants_the_public_sees_only_what_is_published_now(story: Story) -> None:
    body = story.client.get(f"/v1/subjects/{SUBJECT}/disclosure?as_of=2025-03-15").json()
    assert {i["event_id"] for i in body["items"]} == {"pub-violation-kept"}
    assert all(i["published"] for i in body["items"])
    # the corrected value at an instant before the correction was known
    body = story.client.get(
        f"/v1/subjects/{SUBJECT}/disclosure?as_of=2026-11-01&known_at=2026-12-06T12:30:00%2B08:00"
    ).json()
    corrected = next(i for i in body["items"] if i["event_id"] == "pub-fine-corrected")
    assert corrected["amount"] == "4444.00"
    assert corrected["corrected"]["mark"] == "已更正"
    assert corrected["corrected"]["fields"] == ["amount"]


def test_a_withdrawn_or_revoked_decision_leaves_only_its_notice(story: Story) -> None:
    body = story.client.get(f"/v1/subjects/{SUBJECT}/disclosure").json()
    notices = {i["event_id"]: i for i in body["items"] if i["kind"] == "withdrawal-notice"}
    assert set(notices) == {"pub-end-wn", "pub-end-rn"}
    notice = notices["pub-end-wn"]
    assert (notice["agency"], notice["date"], notice["withdrawal_reason"]) == (
        SAMR,
        "2026-11-20",
        "行政复议决定撤销原处罚决定",
    )
    assert notice["notice_until"] == "2027-02-20"  # the rule set's notice period: 3 months
    assert "document" not in notice and "amount" not in notice


def ended_marks(body: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {
        i["event_id"]: (i["publication_ended"]["why"], i["publication_ended"]["on"])
        for i in body["items"]
        if "publication_ended" in i
    }


@pytest.mark.parametrize("role", ["auditor", "objection-handler", "responsible"])
def test_roles_that_see_everything_see_every_ended_record_marked(story: Story, role: str) -> None:
    answers = {
        url: text
        for url, text in public_answers(story, story.headers(role)).items()
        if "/disclosure" in url or "/history" in url
    }
    everything = "\n".join(answers.values())
    for record in story.ended:
        if role == "responsible" and record.event_id == "pub-listing-expired":
            assert record.secrets[0] not in everything  # ndrc's listing: not samr's to see
            continue
        if role == "responsible" and not record.why:
            continue  # an old value before its correction: in the history (auditors)
        for secret in (*record.secrets, record.event_id):
            assert secret in everything, (role, record.event_id, secret)
    body = story.client.get(f"/v1/subjects/{SUBJECT}/disclosure", headers=story.headers(role)).json()
    marks = ended_marks(body)
    expected = {
        "pub-fine-expired": ("expired", "2026-06-01"),
        "pub-fine-repaired": ("repaired", "2025-05-20"),
        "pub-fine-withdrawn-old": ("withdrawn", "2025-04-01"),
        "pub-fine-withdrawn-new": ("withdrawn", "2026-11-20"),
        "pub-fine-revoked-old": ("revoked", "2025-04-02"),
        "pub-fine-revoked-new": ("revoked", "2026-11-21"),
    }
    if role != "responsible":  # the listing is ndrc's: samr sees it as the public does
        expected["pub-listing-expired"] = ("expired", "2025-05-20")
    assert {k: v for k, v in marks.items() if k in expected} == expected
    if role == "responsible":
        assert "pub-listing-expired" not in marks
    lists = story.client.get(
        "/v1/lists/serious-dishonesty?as_of=2024-12-01", headers=story.headers(role)
    ).json()
    listed = {m["event_id"] for m in lists["members"]}
    assert listed == (set() if role == "responsible" else {"pub-listing-expired"})


def test_another_agency_sees_what_the_public_sees(story: Story) -> None:
    public = story.client.get(f"/v1/subjects/{SUBJECT}/disclosure?as_of=2025-03-15").json()
    other = story.client.get(
        f"/v1/subjects/{SUBJECT}/disclosure?as_of=2025-03-15",
        headers=story.headers("other-agency"),
    ).json()
    assert other["items"] == public["items"]


def test_a_repaired_record_is_not_shared_in_the_standing_with_another_agency(
    story: Story,
) -> None:
    """停止共享: after repair the standing an agency reads names the repaired record only
    when that agency is responsible for it; auditors still see it; the score is the same."""
    url = f"/v1/subjects/{SUBJECT}/standing"
    seen = {
        role: story.client.get(url, headers=story.headers(role))
        for role in ("other-agency", "responsible", "auditor")
    }
    assert {r.status_code for r in seen.values()} == {200}
    ids = {
        role: {str(e["event_id"]) for e in r.json()["explanation"]} for role, r in seen.items()
    }
    assert "pub-fine-repaired" in ids["responsible"]
    assert "pub-fine-repaired" in ids["auditor"]
    assert "pub-fine-repaired" not in ids["other-agency"]
    assert "REPAIRED" not in seen["other-agency"].text
    assert ids["other-agency"] == ids["auditor"] - {"pub-fine-repaired"}
    scores = {role: r.json()["score"] for role, r in seen.items()}
    assert len(set(scores.values())) == 1


class Producer:
    """A Kafka producer stand-in that keeps what it was sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, topic: str, key: bytes, value: bytes) -> Any:
        self.sent.append(orjson.loads(value))
        return self

    def get(self, timeout: float | None = None) -> None:
        return None

    def flush(self, timeout: float | None = None) -> None:
        return None


def test_the_feed_carries_only_removals_of_ended_records(story: Story) -> None:
    producer = Producer()
    feed = DisclosureFeed(story.ledger, producer, application_name="public-output-feed")
    feed.run(until_caught_up=True)
    ours = [m for m in producer.sent if m["subject"] == SUBJECT]
    assert ours, "the feed produced nothing"
    ended_ids = {r.event_id for r in story.ended if r.why}
    for message in ours:
        data = message["data"]
        if data["event_id"] in ended_ids or data["change"] == "ended":
            assert data["change"] == "ended", message
            assert set(data) == {"event_id", "change", "published", "position"}, message
            removal = {**message, "id": None, "data": {**data, "event_id": None}}
            rest = orjson.dumps(removal).decode()
        else:
            rest = orjson.dumps(message).decode()
        for record in story.ended:
            for secret in (*record.secrets, *([record.event_id] if record.why else [])):
                assert secret not in rest, (message, secret)
    published = {m["data"]["event_id"] for m in ours if m["data"]["change"] == "published"}
    assert {"pub-fine-current", "pub-end-wn"} <= published
    removed = {m["data"]["event_id"] for m in ours if m["data"]["change"] == "ended"}
    assert "pub-listing-expired" in removed


def test_the_history_shows_a_corrected_record_marked_with_its_corrected_values(
    story: Story,
) -> None:
    events = story.client.get(
        f"/v1/subjects/{SUBJECT}/history", headers=story.headers("auditor")
    ).json()["events"]
    record = next(e for e in events if e["id"] == "pub-fine-corrected")
    assert record["data"]["amount"] == "55555.00"  # what was recorded stays
    assert record["corrected"]["mark"] == "已更正"
    assert record["corrected"]["data"]["amount"] == "4444.00"
    untouched = next(e for e in events if e["id"] == "pub-fine-current")
    assert "corrected" not in untouched
