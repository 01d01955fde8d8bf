"""The criteria of the serious acts hold at the CLI and Kafka doors too (they live in
``decide``, which every door shares; this proves the doors do not bypass it): each
criterion's breaking act is refused with its reason code (``ledger submit``, and a
Kafka dead letter carrying the code), while the act within the criterion is recorded.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from entrypoints.bootstrap import bootstrap
from entrypoints.cli import main
from entrypoints.settings import Settings
from ledger.app import Ledger
from services.ingest import Ingester
from tests.integration.kafka_broker import Broker, kafka_broker  # noqa: F401
from tests.integration.test_kafka_ingest import config, ingest_until
from tests.scenarios.support import BASIS, at, event, penalty, recorded

SUBJECT = "91440300708461136T"
SAMR = "samr/440300"
NDRC = "ndrc/440300"
LIFELONG = {"basis": "《中华人民共和国食品安全法》第一百三十五条", "document": "深市监禁〔2026〕1号"}


def _setup(ledger: Ledger, tag: str) -> dict[str, str]:
    """A general and a serious penalty (Order 36 in force) and one measure on the serious one."""
    general, serious = recorded(
        ledger,
        penalty(SUBJECT, "2026-04-10", SAMR),
        penalty(SUBJECT, "2026-04-11", SAMR, "serious"),
    )
    (measure,) = recorded(
        ledger,
        event(
            "credit.measure.applied",
            SUBJECT,
            at("2026-05-06"),
            {"measure": "bidding-restriction", "finding": serious, "until": None, **BASIS},
            SAMR,
            id=f"{tag}-measure",
        ),
    )
    return {"general": general, "serious": serious, "measure": measure}


def _acts(ids: dict[str, str], tag: str) -> list[tuple[str, dict[str, Any]]]:
    """(expected reason code, event): each breaks exactly one criterion."""
    listing = {"list": "serious-dishonesty", "finding": ids["serious"], **BASIS}

    def e(kind: str, day: str, data: dict[str, Any], source: str = SAMR) -> dict[str, Any]:
        return event(kind, SUBJECT, at(day), data, source, id=f"{tag}-{uuid.uuid4().hex[:8]}")

    return [
        (
            "not-minor",
            e(
                "credit.penalty.decided",
                "2026-05-06",
                {
                    "kinds": ["fine", "revocation"],
                    "amount": "500000.00",
                    "procedure": "ordinary",
                    "severity": "minor",
                    "sector": "food",
                    **BASIS,
                },
            ),
        ),
        (
            "listing-grounds",
            e(
                "credit.list.proposed",
                "2026-05-06",
                {**listing, "finding": ids["general"], "planned_end": "2027-05-06"},
                NDRC,
            ),
        ),
        (
            "planned-end-too-late",
            e("credit.list.proposed", "2026-05-06", {**listing, "planned_end": "2036-05-06"}, NDRC),
        ),
        (
            "open-ended-not-allowed",
            e("credit.list.proposed", "2026-05-06", {**listing, "planned_end": None}, NDRC),
        ),
        (
            "permanent-ban-not-allowed",
            e(
                "credit.ban.imposed",
                "2026-05-06",
                {"sector": "食品生产", "finding": ids["serious"], "until": None, **BASIS},
            ),
        ),
        (
            "unknown-measure",
            e(
                "credit.measure.applied",
                "2026-05-07",
                {"measure": "bidding", "finding": ids["serious"], "until": None, **BASIS},
            ),
        ),
        (
            "duplicate-measure",
            e(
                "credit.measure.applied",
                "2026-05-07",
                {
                    "measure": "bidding-restriction",
                    "finding": ids["serious"],
                    "until": None,
                    **BASIS,
                },
            ),
        ),
    ]


def _within(ids: dict[str, str], tag: str) -> list[dict[str, Any]]:
    """The same acts kept within their criteria: each is recorded."""
    listing = {"list": "serious-dishonesty", "finding": ids["serious"], **BASIS}
    n = iter(range(100))

    def e(kind: str, day: str, data: dict[str, Any], source: str = SAMR) -> dict[str, Any]:
        return event(kind, SUBJECT, at(day), data, source, id=f"{tag}-ok-{next(n)}")

    return [
        e(
            "credit.penalty.decided",
            "2026-05-06",
            {
                "kinds": ["fine"],
                "amount": "3000.00",
                "procedure": "simplified",
                "severity": "minor",
                "sector": "food",
                **BASIS,
            },
        ),
        e("credit.list.proposed", "2026-05-06", {**listing, "planned_end": "2028-05-06"}, NDRC),
        e(
            "credit.ban.imposed",
            "2026-05-06",
            {"sector": "食品生产", "finding": ids["serious"], "until": None, **LIFELONG},
        ),
        e(
            "credit.measure.applied",
            "2026-05-07",
            {"measure": "public-criticism", "finding": ids["serious"], "until": None, **BASIS},
        ),
    ]


def test_ledger_submit_refuses_each_criterion_and_records_what_is_within(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = bootstrap(Settings(database_url=url, person_secret_file=tmp_path / "person.key"))
    ids = _setup(ledger, "cli")
    acts = _acts(ids, "cli")
    size = ledger.size()
    path = tmp_path / "acts.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(a) for _, a in acts))
    assert main(["--database-url", url, "submit", str(path), "--json"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["status"], r["code"]) for r in lines] == [("rejected", c) for c, _ in acts]
    assert ledger.size() == size
    within = _within(ids, "cli")
    path.write_bytes(b"\n".join(orjson.dumps(a) for a in within))
    assert main(["--database-url", url, "submit", str(path), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["status"] for r in lines} == {"recorded"}
    assert ledger.size() == size + len(within)


@pytest.mark.kafka
@pytest.mark.postgres
def test_kafka_dead_letters_carry_each_criterions_reason(
    kafka_broker: Broker,  # noqa: F811
    postgres_url: str,
    tmp_path: Path,
) -> None:
    ledger = bootstrap(
        Settings(database_url=postgres_url, person_secret_file=tmp_path / "person.key")
    )
    try:
        ids = _setup(ledger, "kafka")
        acts = _acts(ids, "kafka")
        within = _within(ids, "kafka")
        messages = [a for _, a in acts] + within
        topic, dead = kafka_broker.fresh_topics(1)
        kafka_broker.produce(topic, [(SUBJECT.encode(), orjson.dumps(m)) for m in messages])
        group = f"g-{uuid.uuid4().hex[:6]}"
        ingester = Ingester(ledger, config(kafka_broker, topic, dead, group))
        try:
            stats = ingest_until(ingester, len(messages))
        finally:
            ingester.close()
        assert (stats.recorded, stats.rejected) == (len(within), len(acts))
        letters = kafka_broker.read_all(dead, len(acts))
        headers = [{k: v.decode() for k, v in letter.headers} for letter in letters]
        assert sorted(h["reason-code"] for h in headers) == sorted(c for c, _ in acts)
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]
