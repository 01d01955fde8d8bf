"""Federation (issue 22): three regional ledgers (PostgreSQL schemas), each publishing its
disclosure feed and signed checkpoints on its own topics of the Tansu broker, and the
national view consuming them all in one consumer group (joined once for the module).

Records made in each region appear in the national view with their origin; a listing in
one region is on the national list; every region's checkpoint reaches the national store
(signature verified); a region's change is applied once however often it is delivered;
a message naming another origin, or a checkpoint under another key, is refused.
"""

from __future__ import annotations

import base64
import contextlib
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient

from entrypoints.bootstrap import bootstrap, open_recorder
from entrypoints.cli import main
from entrypoints.settings import Settings
from events.codes import complete_subject_code
from federation.national.app import build_national_app
from federation.national.config import NationalConfig, Region, regions_file_text
from federation.national.consumer import ConsumerStats, NationalConsumer
from federation.national.metrics import NationalMetrics
from federation.national.store import NationalStore
from federation.witness_state import WitnessState
from ledger.app import Ledger
from ledger.audit.checkpoint_log import CheckpointLog
from ledger.audit.checkpoints import Checkpoint, issue_checkpoint
from ledger.audit.cosignatures import verify_cosignature, witnessed_by
from ledger.audit.keys import load_or_create_key, public_key_bytes
from projections.feed import DisclosureFeed, feed_producer
from tests.conftest import PG_TEST_DB, _connect
from tests.e2e.apphelpers import serve
from tests.integration.kafka_broker import (
    TEST_CONSUMER,
    Broker,
    kafka_broker,  # noqa: F401  (the fixture)
)
from tests.scenarios.support import at, event, recorded

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

CODES = ("360000", "120000", "440300")
"""Jiangxi, Tianjin, Shenzhen."""
LISTED = complete_subject_code("91360100MA35XX01")
"""Listed (serious dishonesty) in Jiangxi alone."""
SHARED = complete_subject_code("91120000MA06XX02")
"""Fined in Tianjin and in Shenzhen."""
NAME = "江西某食品有限公司"


@dataclass
class RegionUnderTest:
    code: str
    ledger: Ledger
    region: Region
    log: CheckpointLog
    key_file: Path
    settings: Settings

    @property
    def origin(self) -> str:
        return self.region.origin


def fine(code: str, subject: str, n: int) -> dict[str, Any]:
    return event(
        "credit.penalty.decided",
        subject,
        at("2026-10-01"),
        {
            "kinds": ["fine"],
            "amount": "5000.00",
            "procedure": "ordinary",
            "severity": "general",
            "sector": "food",
            "basis": "《中华人民共和国食品安全法》第一百二十四条",
            "document": f"市监罚〔2026〕{code}-{n}号",
        },
        f"samr/{code}",
        f"fed-{code}-fine-{n}",
    )


def listing(code: str, subject: str) -> list[dict[str, Any]]:
    """A serious violation, a proposal and the designation (serious-dishonesty list)."""
    return [
        event(
            "credit.violation.recorded",
            subject,
            at("2026-09-01"),
            {
                "behaviour": "food-safety-dishonesty",
                "severity": "serious",
                "sector": "food",
                "basis": "《中华人民共和国食品安全法》第一百二十三条",
                "document": f"市监违〔2026〕{code}-1号",
                "subject_name": NAME,
            },
            f"samr/{code}",
            f"fed-{code}-violation",
        ),
        event(
            "credit.list.proposed",
            subject,
            at("2026-09-10"),
            {
                "list": "serious-dishonesty",
                "finding": f"fed-{code}-violation",
                "planned_end": "2029-09-01",
                "basis": "《失信行为纠正后的信用信息修复管理办法》",
                "document": f"发改信〔2026〕{code}-P号",
            },
            f"ndrc/{code}",
            f"fed-{code}-proposal",
        ),
        event(
            "credit.list.designated",
            subject,
            at("2026-10-01"),
            {
                "proposal": f"fed-{code}-proposal",
                "basis": "《失信行为纠正后的信用信息修复管理办法》",
                "document": f"发改信〔2026〕{code}-D号",
            },
            f"ndrc/{code}",
            f"fed-{code}-listing",
        ),
    ]


def feed_all(kafka: Broker, r: RegionUnderTest) -> None:
    """Run the region's feed until it caught up (as `ledger feed --once` does)."""
    producer = feed_producer(kafka.bootstrap)
    try:
        DisclosureFeed(
            r.ledger,
            producer,
            topic=r.region.feed_topic,
            source=f"{r.origin}/disclosure",
            origin=r.origin,
        ).run(until_caught_up=True)
    finally:
        producer.close()


def checkpoint(r: RegionUnderTest) -> Checkpoint:
    key = load_or_create_key(r.key_file)
    return issue_checkpoint(r.ledger.recorder, key, r.origin, r.ledger.clock(), log=r.log)


@dataclass
class Federation:
    regions: list[RegionUnderTest]
    store: NationalStore
    consumer: NationalConsumer
    config: NationalConfig
    stats: ConsumerStats
    kafka: Broker
    metrics: NationalMetrics

    def consume_until(self, done: Any, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        self.stats = self.consumer.run(
            until=lambda s: done(s) or time.monotonic() > deadline, poll_ms=200
        )
        assert done(self.stats), self.stats


@pytest.fixture(scope="module")
def federation(
    kafka_broker: Broker,  # noqa: F811
    postgres_base: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Federation]:
    tmp = tmp_path_factory.mktemp("federation")
    run = uuid.uuid4().hex[:8]
    schemas = [f"fed_{run}_{c}" for c in CODES] + [f"fed_{run}_national"]
    with _connect(PG_TEST_DB) as conn:
        for schema in schemas:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    regions: list[RegionUnderTest] = []
    store: NationalStore | None = None
    consumer: NationalConsumer | None = None
    try:
        for code, schema in zip(CODES, schemas, strict=False):
            origin = f"credit-ledger/{code}"
            key_file = tmp / f"{code}.key"
            settings = Settings(
                database_url=f"{postgres_base}?schema={schema}",
                name=origin,
                signing_key_file=key_file,
                person_secret_file=tmp / f"{code}.person",
                checkpoint_log=tmp / f"{code}-checkpoints",
            )
            ledger = bootstrap(settings)
            region = Region(
                origin=origin,
                public_key=public_key_bytes(load_or_create_key(key_file)),
                base_url=f"http://{code}.credit.example",
                feed_topic=f"credit.disclosure.changes.{code}.{run}",
                checkpoint_topic=f"credit.checkpoints.{code}.{run}",
            )
            kafka_broker.create_topics({region.feed_topic: 3, region.checkpoint_topic: 1})
            log = CheckpointLog(
                tmp / f"{code}-checkpoints", kafka_broker.bootstrap, region.checkpoint_topic
            )
            regions.append(RegionUnderTest(code, ledger, region, log, key_file, settings))
        config = NationalConfig(tuple(r.region for r in regions), group=f"national-{run}")
        store = NationalStore.open(open_recorder(f"{postgres_base}?schema={schemas[-1]}"))
        metrics = NationalMetrics(config)
        consumer = NationalConsumer(
            store, config, bootstrap=kafka_broker.bootstrap, metrics=metrics, **TEST_CONSUMER
        )
        jiangxi, tianjin, shenzhen = regions
        recorded(jiangxi.ledger, *listing("360000", LISTED))
        recorded(tianjin.ledger, fine("120000", SHARED, 1))
        recorded(shenzhen.ledger, fine("440300", SHARED, 1), fine("440300", LISTED, 2))
        for r in regions:
            feed_all(kafka_broker, r)
            checkpoint(r)
        fed = Federation(regions, store, consumer, config, ConsumerStats(), kafka_broker, metrics)
        # 3 (violation, listing … as published) + 1 + 2 changes at least; 3 checkpoints
        fed.consume_until(lambda s: s.checkpoints >= 3 and s.changes >= 5)
        yield fed
    finally:
        if consumer is not None:
            consumer.close()
        if store is not None:
            store.close()
        for r in regions:
            r.ledger.recorder.datastore.close()  # type: ignore[attr-defined]
        with _connect(PG_TEST_DB) as conn:
            for schema in schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module")
def client(federation: Federation) -> TestClient:
    return TestClient(build_national_app(federation.store, federation.config, federation.metrics))


def test_records_of_each_region_appear_with_their_origin(
    federation: Federation, client: TestClient
) -> None:
    answer = client.get(f"/v1/national/subjects/{SHARED}/disclosure")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["regions"] == ["credit-ledger/120000", "credit-ledger/440300"]
    by_origin = {i["origin"]: i for i in body["items"]}
    assert by_origin["credit-ledger/120000"]["event_id"] == "fed-120000-fine-1"
    assert by_origin["credit-ledger/440300"]["event_id"] == "fed-440300-fine-1"
    links = by_origin["credit-ledger/120000"]["links"]
    assert (
        links["audit_bundle"] == f"http://120000.credit.example/v1/subjects/{SHARED}/audit-bundle"
    )
    assert (
        links["record"] == "http://120000.credit.example/v1/records/samr/120000/fed-120000-fine-1"
    )
    assert all(i["published"] for i in body["items"])
    # every region's records are there, each under its own origin
    for r in federation.regions:
        rows = federation.store.region_figures()[r.origin]
        assert rows["items"] >= 1, r.origin


def test_a_listing_in_one_region_is_on_the_national_list(client: TestClient) -> None:
    answer = client.get("/v1/national/lists/serious-dishonesty")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [m["subject"] for m in body["members"]] == [LISTED]
    assert body["total"] == 1 and body["next"] is None
    [member] = body["members"]
    assert member["regions"] == ["credit-ledger/360000"]
    assert member["listings"][0]["event_id"] == "fed-360000-listing"
    standing = client.get(f"/v1/national/subjects/{LISTED}/standing").json()
    assert standing["serious_dishonesty"] is True
    assert standing["lists"] == ["serious-dishonesty"]
    # Shenzhen fined the same subject: both regions in its standing, the list from Jiangxi
    assert [r["origin"] for r in standing["regions"]] == [
        "credit-ledger/360000",
        "credit-ledger/440300",
    ]
    assert standing["regions"][1]["lists"] == []
    assert client.get(f"/v1/national/subjects/{SHARED}/standing").json()["lists"] == []


def test_search_finds_by_name_and_by_code(client: TestClient) -> None:
    by_name = client.get("/v1/national/subjects", params={"q": "江西某食品"}).json()
    assert [s["subject"] for s in by_name["subjects"]] == [LISTED]
    assert by_name["subjects"][0]["subject_name"] == NAME
    by_code = client.get("/v1/national/subjects", params={"q": SHARED[:10]}).json()
    assert [s["subject"] for s in by_code["subjects"]] == [SHARED]


def test_every_regions_checkpoint_arrives_verified(
    federation: Federation, client: TestClient
) -> None:
    body = client.get("/v1/national/regions").json()
    assert len(body["regions"]) == 3
    for shown, r in zip(body["regions"], federation.regions, strict=True):
        assert shown["origin"] == r.origin
        assert shown["checkpoint"]["size"] == r.ledger.size()
        assert shown["checkpoint"]["origin"] == r.origin


def test_unknowns_are_problems(client: TestClient) -> None:
    nobody = complete_subject_code("91110000MA00XX09")
    answer = client.get(f"/v1/national/subjects/{nobody}/disclosure")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "unknown-subject"
    assert client.get("/v1/national/lists/nope").json()["code"] == "unknown-list"
    assert client.get("/v1/national/subjects/123/standing").status_code == 400


def test_problems_are_the_main_apis_and_speak_chinese_when_asked(client: TestClient) -> None:
    """The national view answers errors as the regional API does (api.problems): Chinese
    title and detail under Accept-Language: zh, the English detail beside them."""
    nobody = complete_subject_code("91110000MA00XX09")
    path = f"/v1/national/subjects/{nobody}/disclosure"
    english = client.get(path)
    assert english.headers["content-language"] == "en"
    assert nobody in english.json()["detail"]
    chinese = client.get(path, headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert chinese.status_code == 404
    assert chinese.headers["content-type"] == "application/problem+json"
    assert chinese.headers["content-language"] == "zh"
    body = chinese.json()
    assert body["code"] == "unknown-subject"
    assert body["detail_en"] == english.json()["detail"]
    assert re.search(r"[\u4e00-\u9fff]", body["title"] + body["detail"]), body
    # the framework's own errors are problems too: an unknown path, a bad parameter
    nowhere = client.get("/v1/national/nowhere", headers={"Accept-Language": "zh"})
    assert (nowhere.status_code, nowhere.json()["code"]) == (404, "not-found")
    short = client.get("/v1/national/subjects", params={"q": "x"})
    assert (short.status_code, short.json()["code"]) == (400, "invalid-request")


def test_a_change_delivered_again_is_applied_once_and_impostors_are_refused(
    federation: Federation,
) -> None:
    jiangxi, tianjin, _ = federation.regions
    fed = federation
    before = fed.store.subject_items(SHARED)
    # the feed's at-least-once redelivery: Tianjin's change, produced again
    [message] = [
        m
        for m in fed.kafka.read_all(tianjin.region.feed_topic, 1)
        if orjson.loads(m.value)["subject"] == SHARED
    ]
    forged = orjson.loads(message.value)
    forged["origin"] = jiangxi.origin  # Tianjin's topic speaking for Jiangxi
    other_key = load_or_create_key(fed.regions[2].key_file)
    wrong_signature = Checkpoint.sign(
        other_key, origin=tianjin.origin, size=1, root=bytes(32), issued_us=1, heads_root=bytes(32)
    )
    fed.kafka.produce(
        tianjin.region.feed_topic,
        [(message.key, message.value), (message.key, orjson.dumps(forged))],
    )
    fed.kafka.produce(
        tianjin.region.checkpoint_topic,
        [(tianjin.origin.encode(), orjson.dumps(wrong_signature.to_json()))],
    )
    fed.consume_until(lambda s: s.messages >= 3)
    assert fed.stats.applied == 0
    assert fed.stats.refused == 2, fed.stats.refusals
    assert fed.store.subject_items(SHARED) == before
    assert len(fed.store.checkpoints(tianjin.origin)) == 1
    # the tracking moved with the batch: nothing is read twice by this group
    assert fed.stats.skipped == 0


def test_the_national_view_serves_its_metrics(federation: Federation, client: TestClient) -> None:
    """GET /metrics: messages taken by origin and kind, refusals by topic (the impostors
    above: two on Tianjin's topics), the lag behind each origin in messages and seconds."""
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in answer.text.splitlines()
        if line.startswith("ledger_national_")
    }
    tianjin = federation.regions[1]
    for r in federation.regions:
        origin = f'origin="{r.origin}"'
        assert samples[f'ledger_national_messages_total{{kind="checkpoint",{origin}}}'] >= 1
        assert samples[f'ledger_national_messages_total{{kind="change",{origin}}}'] >= 1
        assert samples[f"ledger_national_lag_messages{{{origin}}}"] == 0  # caught up
        assert 0 <= samples[f"ledger_national_lag_seconds{{{origin}}}"] < 3600
    refused = {
        key: value
        for key, value in samples.items()
        if key.startswith("ledger_national_refused_total")
    }
    assert sum(refused.values()) == 2, refused
    assert all(tianjin.code in key for key in refused), refused


def test_the_public_key_in_the_configuration_is_base64() -> None:
    key = base64.b64encode(bytes(32)).decode()
    config = NationalConfig.from_mapping(
        {
            "regions": [
                {
                    "origin": "a",
                    "public_key": key,
                    "base_url": "http://a/",
                    "feed_topic": "f",
                    "checkpoint_topic": "c",
                }
            ]
        }
    )
    assert config.regions[0].base_url == "http://a"
    assert config.topics() == ["c", "f"]


def test_the_national_store_is_its_own_schema(federation: Federation, postgres_base: str) -> None:
    with psycopg.connect(postgres_base, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'national_items'"
        ).fetchall()
    schemas = {r[0] for r in rows}
    assert any(s.endswith("_national") for s in schemas)


def test_a_witness_cosigns_every_regions_checkpoint_and_a_new_listing_goes_national(
    federation: Federation,
    client: TestClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """End to end (issue 22, "Done when"): the three regions' ``serve``, and ``ledger witness
    --once`` following them from a regions file (their URLs and keys): it cosigns every
    region's checkpoint, the one the national view holds. Then Shenzhen lists a subject:
    its feed and its next checkpoint reach the national view, the subject is on the national
    list, and the witness's next round cosigns the grown log (consistent with the last)."""
    from entrypoints.wiring import build_app

    monkeypatch.delenv("LEDGER_KAFKA_BOOTSTRAP", raising=False)  # published: test_witness
    state = tmp_path / "witness"

    def witness_once(regions_file: Path) -> list[str]:
        capsys.readouterr()
        code = main(
            ["witness", "--state", str(state), "--name", "witness-national", "--once",
             "--regions", str(regions_file)]
        )  # fmt: skip
        lines = capsys.readouterr().out.splitlines()
        assert code == 0, lines
        return sorted(lines)

    def expected() -> list[str]:
        return sorted(f"ok {r.origin} size={r.ledger.size()}" for r in federation.regions)

    def national_list() -> list[str]:
        page = federation.store.list_members("serious-dishonesty", 10, None)
        return [m["subject"] for m in page.rows]

    with contextlib.ExitStack() as stack:
        served = [
            replace(
                r.region,
                base_url=stack.enter_context(
                    serve(build_app(r.settings, bootstrap, run_projections=False))
                ),
            )
            for r in federation.regions
        ]
        regions_file = tmp_path / "regions.json"
        regions_file.write_text(regions_file_text(served))
        assert witness_once(regions_file) == expected()

        shenzhen = federation.regions[2]
        assert SHARED not in national_list()
        recorded(shenzhen.ledger, *listing("440300", SHARED))
        feed_all(federation.kafka, shenzhen)
        grown = checkpoint(shenzhen)
        federation.consume_until(lambda s: s.checkpoints >= 1 and SHARED in national_list())
        assert witness_once(regions_file) == expected()

    members = client.get("/v1/national/lists/serious-dishonesty").json()["members"]
    shared = next(m for m in members if m["subject"] == SHARED)
    assert shared["regions"] == ["credit-ledger/440300"]
    witness_key = public_key_bytes(load_or_create_key(state / "witness.key"))
    held = WitnessState(state)
    latest = federation.store.latest_checkpoints()
    for r in federation.regions:
        cosigned = held.cosignatures(r.origin)
        assert all(verify_cosignature(c, witness_key) for c in cosigned), r.origin
        # the checkpoint the national view holds for the region is the one witnessed
        assert latest[r.origin].size == r.ledger.size()
        assert witnessed_by(cosigned, latest[r.origin].to_json(), [witness_key]), r.origin
    sizes = [c["size"] for c in held.cosignatures(shenzhen.origin)]  # newest first
    assert len(sizes) == 2 and sizes[0] == grown.size > sizes[1]
