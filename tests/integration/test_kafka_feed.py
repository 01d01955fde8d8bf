"""The disclosure change feed against the real (Tansu) broker and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson
import pytest

from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
from events.codes import complete_subject_code
from events.envelope import parse_submission
from ledger.app import Ledger
from projections.feed import CHANGE_TYPE, DisclosureFeed, feed_producer
from tests.integration.kafka_broker import (
    Broker,
    kafka_broker,  # noqa: F401  (the fixture)
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SUBJECT = "91440300708461136T"
OTHER = complete_subject_code("91440300MA5DC8XX")
SOURCE = "samr/440300"
BASIS = "《中华人民共和国食品安全法》第一百二十四条"


def event(subject: str, n: int, type_name: str, time: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"feed-{subject[-4:]}-{n}",
        "source": SOURCE,
        "type": type_name,
        "subject": subject,
        "time": time,
        "datacontenttype": "application/json",
        "data": data,
    }


def penalty(subject: str, n: int, day: str) -> dict[str, Any]:
    return event(
        subject,
        n,
        "credit.penalty.decided",
        f"{day}T10:00:00+08:00",
        {
            "kinds": ["fine"],
            "amount": "3000.00",
            "procedure": "ordinary",
            "severity": "general",
            "sector": "food",
            "basis": BASIS,
            "document": f"深市监罚〔2025〕{n}号",
        },
    )


def repair_story() -> list[tuple[dict[str, Any], str]]:
    """A general penalty (Order 58: 3 months to 3 years), a repair commitment, a
    repair request after the minimum period, its approval; each with the moment the
    ledger records it. Another subject's penalty is interleaved."""
    p = penalty(SUBJECT, 1, "2025-06-02")
    return [
        (p, "2025-06-03T10:00:00+08:00"),
        (penalty(OTHER, 1, "2025-06-05"), "2025-06-06T10:00:00+08:00"),
        (
            event(
                SUBJECT,
                2,
                "credit.commitment.made",
                "2025-09-10T10:00:00+08:00",
                {"commitment_type": "repair", "matter": "信用修复承诺书", "due": None},
            ),
            "2025-09-10T12:00:00+08:00",
        ),
        (
            event(
                SUBJECT,
                3,
                "credit.repair.requested",
                "2025-09-15T10:00:00+08:00",
                {"target": p["id"], "methods": ["commitment"]},
            ),
            "2025-09-15T12:00:00+08:00",
        ),
        (
            event(
                SUBJECT,
                4,
                "credit.repair.approved",
                "2025-09-22T10:00:00+08:00",
                {"request": f"feed-{SUBJECT[-4:]}-3", "reasons": "符合修复条件"},
            ),
            "2025-09-22T12:00:00+08:00",
        ),
    ]


def record_story(ledger: Ledger) -> None:
    for sent, recorded in repair_story():
        at = int(datetime.fromisoformat(recorded).timestamp() * 1_000_000)
        [outcome] = ledger.submit(parse_submission(orjson.dumps(sent)), now_us=at)
        assert outcome.status == "recorded", outcome.to_json()


def instant(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1_000_000)


CLOCK = [instant("2025-06-07T10:00:00+08:00")]
"""The feed's "now" (the ledger's clock), moved by the test."""


@pytest.fixture
def pg_ledger(postgres_url: str) -> Iterator[Ledger]:
    app = bootstrap(Settings(database_url=postgres_url), clock=lambda: CLOCK[0])
    yield app
    app.recorder.datastore.close()  # type: ignore[attr-defined]


def test_repair_shows_publication_then_end_once_each_in_order(
    kafka_broker: Broker,  # noqa: F811
    pg_ledger: Ledger,
) -> None:
    topic = "credit.disclosure.changes.repair"
    kafka_broker.create_topics({topic: 3})
    record_story(pg_ledger)
    producer = feed_producer(kafka_broker.bootstrap)
    try:
        # the feed follows in time: on 2025-06-07 the penalty is published (content)
        CLOCK[0] = instant("2025-06-07T10:00:00+08:00")
        first = DisclosureFeed(pg_ledger, producer, topic=topic, batch_size=2)
        assert first.step() == 2  # positions 0 and 1, then "restart" after the repair:
        CLOCK[0] = instant("2025-09-23T10:00:00+08:00")
        again = DisclosureFeed(pg_ledger, producer, topic=topic, batch_size=2)
        assert again.position() == 2
        assert again.run(until_caught_up=True) == 3
        assert again.position() == 5
    finally:
        producer.close()

    messages = kafka_broker.read_all(topic, 3)
    changes = [orjson.loads(m.value) for m in messages]
    assert all(m.key.decode() == c["subject"] for m, c in zip(messages, changes, strict=True))
    assert all(c["type"] == CHANGE_TYPE and c["specversion"] == "1.0" for c in changes)
    ours = [c for c in changes if c["subject"] == SUBJECT]
    assert len({m.partition for m, c in zip(messages, changes, strict=True) if c in ours}) == 1
    penalty_id = f"feed-{SUBJECT[-4:]}-1"
    story = [
        (c["data"]["change"], c["data"]["position"], c["data"].get("until"))
        for c in ours
        if c["data"]["event_id"] == penalty_id
    ]
    # the end is a removal: the id alone (DOMAIN.md "What the public sees": a
    # repaired record leaves public output; mirrors delete it, no content, no cause)
    assert story == [("published", 0, "2028-06-02"), ("ended", 4, None)]
    ended = next(c for c in ours if c["data"]["change"] == "ended")
    assert ended["data"] == {
        "event_id": penalty_id,
        "change": "ended",
        "published": False,
        "position": 4,
    }
    assert ended["id"] == f"disclosure:4:{penalty_id}"
    others = [c["data"]["change"] for c in changes if c["subject"] == OTHER]
    assert others == ["published"]
    assert len({c["id"] for c in changes}) == len(changes) == 3
